"""Watches the aggregator's activity partitions for the two ways faust-streaming 0.15.3 loses
track of them after a rebalance (upstream issues #471 and #629, and kill tests here):

- a partition whose records the worker never hands to the agent: the log grows while the
  worker stands still. The worker exits; its supervisor (cairn dev, Docker's restart policy)
  starts it again and the rebalance that follows fetches normally.
- records acknowledged, and so committed, without the agent having processed them (seen in the
  two-worker kill test: a recipient's award never came, their records were committed). The
  worker seeks the partition back to what it really processed and reads on from there.

What the agent has processed it writes into its own table (processed_positions.py), with the
progress, before Faust acknowledges the batch; that record, not Faust's commit, is where a
partition stands.
"""

import asyncio
import logging
import os
import time
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import faust
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from faust.types import TP

from cairn.adapters.kafka.connection import Brokers, client_options
from services.aggregator.faust_repairs.processed_positions import ProcessedPositions

log = logging.getLogger("cairn.aggregator")


@dataclass
class StallDetector:
    patience_seconds: float
    _since: dict[Hashable, tuple[int, float]] = field(
        default_factory=dict
    )  # partition -> (where it stood, first seen there)

    def stalled(
        self, now: float, standing: Mapping[Hashable, int | None], highwaters: Mapping[Hashable, int]
    ) -> list[Hashable]:
        """Partitions whose standing offset has not moved for `patience_seconds` while records wait."""
        stuck = []
        for partition, offset in standing.items():
            waiting = offset is not None and highwaters.get(partition, 0) > offset
            if not waiting:
                self._since.pop(partition, None)
                continue
            assert offset is not None
            seen = self._since.get(partition)
            if seen is None or seen[0] != offset:
                self._since[partition] = (offset, now)
            elif now - seen[1] >= self.patience_seconds:
                stuck.append(partition)
        for gone in set(self._since) - set(standing):
            del self._since[gone]
        return stuck

    def waiting(self, now: float, at_least: float) -> list[tuple[Hashable, int, float]]:
        """(partition, where it stands, for how long) for those waiting at least that long."""
        return [
            (p, offset, now - since) for p, (offset, since) in self._since.items() if now - since >= at_least
        ]


class PartitionReader(Protocol):
    """Where each activity partition's log ends, where the group's commit stands (the broker's
    word), and what the aggregator has really processed (its own record, kept in the table)."""

    async def highwaters(self, *partitions: Hashable) -> Mapping[Hashable, int]: ...

    async def committed(self, *partitions: Hashable) -> Mapping[Hashable, int | None]: ...

    async def processed(self, *partitions: Hashable) -> Mapping[Hashable, int]:
        """The offset after the last record processed; the log's start where none was."""
        ...


@dataclass(frozen=True)
class Verdict:
    stuck: list[Hashable]  # records wait and processing has not moved: restart the worker
    rewind: dict[Hashable, int]  # committed past what was processed: read again from here


async def check_partitions(
    reader: PartitionReader,
    assigned: Iterable[Hashable],
    detector: StallDetector,
    rewound: set[tuple[Hashable, int]],
    now: float,
) -> Verdict:
    """One check. The commit is read before the processed positions: the aggregator writes its
    position before Faust acknowledges the batch, so a commit beyond it means records were
    acknowledged without being processed; those are read again, once per commit value
    (`rewound` remembers). A failure to read (a rebalance revoking a partition between the
    calls, a broker timeout) skips this check only: the watchdog must outlive it."""
    partitions = list(assigned)
    if not partitions:
        return Verdict([], {})
    try:
        highwaters = await reader.highwaters(*partitions)
        committed = await reader.committed(*partitions)
        processed = await reader.processed(*partitions)
    except Exception as error:  # any failure here means "look again next time"
        log.warning("partition check skipped: %s", error)
        return Verdict([], {})
    rewind = {}
    for tp in partitions:
        commit = committed.get(tp)
        if commit is not None and commit > processed[tp] and (tp, commit) not in rewound:
            rewound.add((tp, commit))
            rewind[tp] = processed[tp]
    stuck = detector.stalled(now, {tp: processed[tp] for tp in partitions}, highwaters)
    for partition, offset, seconds in detector.waiting(now, detector.patience_seconds / 3):
        log.warning(
            "partition %s: processed up to %s of %s, unchanged for %.0f s",
            partition,
            offset,
            highwaters.get(partition),
            seconds,
        )
    return Verdict(stuck, rewind)


class ActivityPartitions:
    """The watchdog's reader: log ends from Faust's consumer, commits from the broker itself (an
    admin client), processed positions from the aggregator's own table."""

    def __init__(self, app: faust.App, positions: ProcessedPositions, bootstrap: Brokers) -> None:
        self.app = app
        self.positions = positions
        self.bootstrap = bootstrap
        self._admin: AIOKafkaAdminClient | None = None

    async def highwaters(self, *partitions: TP) -> Mapping[TP, int]:
        return await asyncio.wait_for(self.app.consumer.highwaters(*partitions), 10)

    async def committed(self, *partitions: TP) -> Mapping[TP, int | None]:
        if self._admin is None:
            self._admin = AIOKafkaAdminClient(**client_options(self.bootstrap))
            await self._admin.start()
        asked = {tp: TopicPartition(tp.topic, tp.partition) for tp in partitions}
        offsets = await asyncio.wait_for(
            self._admin.list_consumer_group_offsets(self.app.conf.id, partitions=list(asked.values())), 10
        )
        found = {tp: offsets.get(asked[tp]) for tp in partitions}
        return {tp: done.offset if done and done.offset >= 0 else None for tp, done in found.items()}

    async def processed(self, *partitions: TP) -> Mapping[TP, int]:
        return await asyncio.wait_for(self.positions.of(*partitions), 10)


class Watchdog:
    """Reads again what was committed unprocessed; exits (to be restarted) if an assigned
    partition of `topic` has records it never processes."""

    def __init__(self, app: faust.App, reader: PartitionReader, topic: str, patience_seconds: float) -> None:
        self.app = app
        self.reader = reader
        self.topic = topic
        self.detector = StallDetector(patience_seconds=patience_seconds)
        self.rewound: set[tuple[Hashable, int]] = set()

    async def check(self) -> None:
        app = self.app
        if not app.tables.recovery.completed.is_set() or app.in_recovery or app.rebalancing:
            return  # positions restored from the changelog are not final yet
        assigned = [tp for tp in app.consumer.assignment() if tp.topic == self.topic]
        verdict = await check_partitions(self.reader, assigned, self.detector, self.rewound, time.monotonic())
        for tp, offset in verdict.rewind.items():
            log.error("%s was committed past what was processed (%s); reading again from there", tp, offset)
            await app.consumer.seek(tp, offset)  # type: ignore[arg-type]
        if verdict.stuck:
            log.error(
                "partitions %s have records waiting, unprocessed; exiting to be restarted", verdict.stuck
            )
            os._exit(70)  # no graceful stop: it would commit nothing more and wait on the stuck fetcher
