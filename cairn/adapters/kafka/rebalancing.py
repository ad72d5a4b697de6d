"""Two workers of one consumer group never handle a record at once: when the group moves
partitions (a worker of the service started or died), the worker giving them up finishes the
record in hand, or stops it at its next wait, before the group hands them on."""

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from aiokafka import ConsumerRebalanceListener, TopicPartition

from cairn.domain.failures import Transient

log = logging.getLogger(__name__)

# The running consume loop's Rebalancing.revoked, for a handler's own waits (sleep_unless_handed_over).
HANDING_OVER: ContextVar[asyncio.Event | None] = ContextVar("handing_over", default=None)

# How long a worker whose partitions the group takes away (another worker of its service started
# or died) may finish the record it is handling before the group hands them on: a claim email's
# SMTP exchange, or a credential's signing and storing. The group waits this long at most (one
# SMTP attempt: connect and send, each within CAIRN_SMTP_TIMEOUT_SECONDS, 30 s by default).
HAND_OVER_SECONDS = 90.0


class Rebalancing(ConsumerRebalanceListener):
    """Keeps two workers of one group from handling a record at once. When the group takes
    this worker's partitions away, `revoked` tells the loop to stop before its next record
    (and a retry's pause to end), and the group is held until the record being handled is
    done (up to HAND_OVER_SECONDS): the partition's next owner then reads it as done ("sent"),
    not half done ("sending", which it would send again)."""

    def __init__(self, group: str, hand_over_seconds: float = HAND_OVER_SECONDS) -> None:
        self.group, self.hand_over_seconds = group, hand_over_seconds
        self.revoked = asyncio.Event()
        self._handling = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @contextmanager
    def handling(self) -> Iterator[None]:
        self._handling += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._handling -= 1
            if not self._handling:
                self._idle.set()

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        if not revoked:
            return
        self.revoked.set()
        try:
            await asyncio.wait_for(self._idle.wait(), self.hand_over_seconds)
        except TimeoutError:
            log.warning(
                "%s: a record was still being handled %gs after the group took its partitions; "
                "handing them on",
                self.group,
                self.hand_over_seconds,
            )

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        pass


class HandedOver(Transient):
    """The group took the partition while its record waited to try again: the partition's next
    owner handles it (the record is left uncommitted here)."""


async def sleep_unless_handed_over(seconds: float) -> None:
    """A handler's own wait between tries (the notifier's SMTP retries): cut short, raising
    HandedOver, when the group takes the partition away, so the group need not wait out every
    retry before the next owner starts. Outside a consume loop, a plain sleep."""
    revoked = HANDING_OVER.get()
    if revoked is None:
        await asyncio.sleep(seconds)
    elif not await pause_unless(asyncio.Event(), seconds, revoked):
        raise HandedOver("the group gave this record's partition to another worker")


async def pause_unless(stopping: asyncio.Event, seconds: float, revoked: asyncio.Event | None = None) -> bool:
    """Waits `seconds` unless asked to stop (or the partitions are taken away) first; returns
    whether to go on."""
    waits = [asyncio.ensure_future(e.wait()) for e in (stopping, revoked) if e is not None]
    try:
        done, _ = await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for each in waits:
            each.cancel()
    return not done
