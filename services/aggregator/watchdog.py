"""Detects an assigned partition that has records waiting but is never processed.

faust-streaming 0.15.3 can, after a rebalance, leave a worker assigned a partition whose
records it never hands to the agent (upstream issues #471 and #629): the log grows while the
worker stands still. The aggregator checks every few seconds and exits when it sees that; its
supervisor (cairn dev, Docker's restart policy) starts it again and the rebalance that follows
fetches normally.

Where a partition stands is the group's committed offset, read from the broker: Faust commits
only what the agent finished, so records never fetched, fetched but never delivered, or
skipped as belonging to an earlier generation all show as a commit that stops short of the
end of the log.
"""

import logging
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

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


class PartitionReader(Protocol):
    """Reads where the log ends and where the group's commits stand (Faust's consumer, the admin client)."""

    async def highwaters(self, *partitions: Hashable) -> Mapping[Hashable, int]: ...

    async def committed(self, *partitions: Hashable) -> Mapping[Hashable, int]:
        """The group's committed offsets; where nothing is committed yet, the fetch position."""
        ...


async def stuck_partitions(
    reader: PartitionReader, assigned: Iterable[Hashable], detector: StallDetector, now: float
) -> list[Hashable]:
    """One check. A failure to read (a rebalance revoking a partition between the calls, a
    broker timeout) skips this check only: the watchdog must outlive it."""
    partitions = list(assigned)
    if not partitions:
        return []
    try:
        highwaters = await reader.highwaters(*partitions)
        committed = await reader.committed(*partitions)
    except Exception as error:  # any failure here means "look again next time"
        log.warning("stall check skipped: %s", error)
        return []
    return detector.stalled(now, {tp: committed.get(tp) for tp in partitions}, highwaters)
