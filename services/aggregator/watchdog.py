"""Detects an assigned partition that has records waiting but is never fetched.

faust-streaming 0.15.3 can, after a rebalance, leave a worker assigned a partition it never
fetches from (upstream issues #471 and #629): the position stays put while the log grows. The
aggregator checks every few seconds and exits when it sees that; its supervisor (cairn dev,
Docker's restart policy) starts it again and the rebalance that follows fetches normally.
The detection is pure: positions and high-water marks in, stalled partitions out.
"""

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field


@dataclass
class StallDetector:
    patience_seconds: float
    _since: dict[Hashable, tuple[int, float]] = field(
        default_factory=dict
    )  # partition -> (position, first seen)

    def stalled(
        self, now: float, positions: Mapping[Hashable, int | None], highwaters: Mapping[Hashable, int]
    ) -> list[Hashable]:
        """Partitions whose position has not moved for `patience_seconds` while records wait."""
        stuck = []
        for partition, position in positions.items():
            waiting = position is not None and highwaters.get(partition, 0) > position
            if not waiting:
                self._since.pop(partition, None)
                continue
            assert position is not None
            seen = self._since.get(partition)
            if seen is None or seen[0] != position:
                self._since[partition] = (position, now)
            elif now - seen[1] >= self.patience_seconds:
                stuck.append(partition)
        for gone in set(self._since) - set(positions):
            del self._since[gone]
        return stuck
