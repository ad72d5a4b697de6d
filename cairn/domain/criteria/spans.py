"""Measures the leaves keep: the length of a union of time spans, and the longest weekly run."""

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable
from datetime import date


class Union:
    """The length of the union of spans that join and leave, so overlapping time counts once.
    Joining merges into a sorted list of disjoint spans; a span leaving (a rolling window)
    makes the union be rebuilt from the spans still in, when it is next asked for."""

    def __init__(self) -> None:
        self._members: Counter[tuple[int, int]] = Counter()
        self._starts: list[int] = []
        self._ends: list[int] = []
        self._length = 0
        self._stale = False

    def add(self, span: tuple[int, int]) -> None:
        self._members[span] += 1
        if self._members[span] == 1 and not self._stale:
            self._merge(*span)

    def remove(self, span: tuple[int, int]) -> None:
        self._members[span] -= 1
        if self._members[span] == 0:
            del self._members[span]
            self._stale = True

    def length(self) -> int:
        if self._stale:
            self._starts, self._ends, self._length, self._stale = [], [], 0, False
            for span in sorted(self._members):
                self._merge(*span)
        return self._length

    def _merge(self, start: int, end: int) -> None:
        first = bisect_left(self._ends, start)  # the spans this one touches: ends >= start ...
        last = bisect_right(self._starts, end)  # ... and starts <= end
        if first < last:
            covered = sum(self._ends[i] - self._starts[i] for i in range(first, last))
            start, end = min(start, self._starts[first]), max(end, self._ends[last - 1])
        else:
            covered = 0
        self._starts[first:last] = [start]
        self._ends[first:last] = [end]
        self._length += end - start - covered


def longest_weekly_run(weeks: Iterable[date]) -> int:
    ordered = sorted(weeks)
    best = run = 0
    for i, monday in enumerate(ordered):
        run = run + 1 if i and (monday - ordered[i - 1]).days == 7 else 1
        best = max(best, run)
    return best
