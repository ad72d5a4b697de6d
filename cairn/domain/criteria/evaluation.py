"""Evaluating criteria against a progress: the leaves (hours, counts, distinct values, weekly
streaks, each optionally within a rolling window) and the combinators (all, any, at least n,
holds a badge). Every measure is exact: whole seconds and whole counts against the requirement.
"""

import math
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from fractions import Fraction
from functools import cache
from itertools import groupby
from zoneinfo import ZoneInfo

from cairn.domain.criteria.progress import ActivityRecord, Progress
from schemas.badge_class import (
    ActivityCount,
    ActivityFilter,
    AllOf,
    AnyOf,
    AtLeastOf,
    Criterion,
    DistinctCount,
    HoldsBadge,
    Streak,
    TotalHours,
)

HELD = "badges held"


@dataclass(frozen=True)
class Figure:
    """One measured figure against its requirement, exactly: "7.5 of 10 hours"."""

    measure: str
    achieved: Fraction
    required: Fraction
    seconds: int | None = None  # hours: the time counted
    badges: tuple[str, ...] = ()  # badges held: their ids


@dataclass(frozen=True)
class Result:
    met: bool
    earned_at: datetime | None
    figures: list[Figure] = field(default_factory=list)


Leaf = TotalHours | ActivityCount | DistinctCount | Streak


def _matcher(wanted: ActivityFilter) -> Callable[[ActivityRecord], bool]:
    """The filter as a test of one activity: completed, and equal on every field it sets."""
    fields = [(name, value) for name, value in wanted if value is not None]
    return lambda record: record.completed and all(getattr(record, n) == v for n, v in fields)


@cache
def zone_of(name: str) -> tzinfo:
    """The badge class's time zone (an IANA name, checked by the schema)."""
    return UTC if name == "UTC" else ZoneInfo(name)


def _local_day(moment: datetime, zone: tzinfo) -> date:
    return moment.astimezone(zone).date()


def _value(record: ActivityRecord, name: str, zone: tzinfo) -> str | None:
    return _local_day(record.at, zone).isoformat() if name == "day" else getattr(record, name)


def _monday(record: ActivityRecord, zone: tzinfo) -> date:
    day = _local_day(record.at, zone)
    return day - timedelta(days=day.weekday())


class _Union:
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


def _longest_weekly_run(weeks: Iterable[date]) -> int:
    ordered = sorted(weeks)
    best = run = 0
    for i, monday in enumerate(ordered):
        run = run + 1 if i and (monday - ordered[i - 1]).days == 7 else 1
        best = max(best, run)
    return best


class _Tally:
    """One leaf's measure over activities that join in event time and, under a rolling window,
    leave again: each activity is added and removed once, so a leaf is evaluated in one pass."""

    def __init__(self, criterion: Leaf, zone: tzinfo) -> None:
        self.criterion = criterion
        self.zone = zone
        self.total = 0  # activities, for a count
        self.time = _Union()  # seconds covered, for hours
        self.values: Counter[object] = Counter()
        self._run: int | None = 0  # longest weekly run, None when it must be recounted
        # Whole seconds the hours need, computed once: reached() is asked after every activity,
        # and an int against the ceiling is the same test as against the exact Fraction.
        self._seconds_needed = (
            math.ceil(_hours(criterion.at_least) * 3600) if isinstance(criterion, TotalHours) else 0
        )

    def _key(self, record: ActivityRecord) -> object:
        criterion = self.criterion
        if isinstance(criterion, Streak):
            return _monday(record, self.zone)
        assert isinstance(criterion, DistinctCount)
        value = _value(record, criterion.field, self.zone)
        return None if criterion.of is not None and value not in criterion.of else value

    def add(self, record: ActivityRecord) -> None:
        self._change(record, 1)

    def remove(self, record: ActivityRecord) -> None:
        self._change(record, -1)

    def _change(self, record: ActivityRecord, sign: int) -> None:
        if isinstance(self.criterion, TotalHours):
            if (span := record.span()) is not None:
                (self.time.add if sign > 0 else self.time.remove)(span)
        elif isinstance(self.criterion, ActivityCount):
            self.total += sign * record.count
        elif (key := self._key(record)) is not None:
            self.values[key] += sign
            if self.values[key] == 0:
                del self.values[key]
                self._run = None
            elif self.values[key] == 1 and sign > 0:
                self._run = None

    def reached(self) -> bool:
        """Exact: whole seconds against the requirement in seconds, whole counts otherwise."""
        criterion = self.criterion
        if isinstance(criterion, TotalHours):
            return self.time.length() >= self._seconds_needed
        if isinstance(criterion, ActivityCount):
            return self.total >= criterion.at_least
        figure = self.figure()  # distinct values, weeks
        return figure.achieved >= figure.required

    def figure(self) -> Figure:
        criterion = self.criterion
        if isinstance(criterion, TotalHours):
            seconds = self.time.length()
            return Figure("hours", Fraction(seconds, 3600), _hours(criterion.at_least), seconds=seconds)
        if isinstance(criterion, ActivityCount):
            return Figure("activities", Fraction(self.total), Fraction(criterion.at_least))
        if isinstance(criterion, DistinctCount):
            measure = "distinct series" if criterion.field == "series" else f"distinct {criterion.field}s"
            return Figure(measure, Fraction(len(self.values)), Fraction(criterion.at_least))
        if self._run is None:
            self._run = _longest_weekly_run(self.values)
        return Figure("consecutive weeks", Fraction(self._run), Fraction(criterion.weeks))


@cache
def _hours(at_least: float) -> Fraction:
    """A requirement in hours as the decimal it was written as (0.1 hours is 6 minutes, exactly)."""
    return Fraction(str(at_least))


def _evaluate_leaf(criterion: Leaf, progress: Progress, zone: tzinfo) -> Result:
    """Walks the matching activities in event time; earned_at is the first moment the measure,
    over the rolling window ending then (or everything so far), reached the requirement."""
    matches = _matcher(criterion.filter)
    matching = sorted(
        ((eid, r) for eid, r in progress.records() if matches(r)),
        key=lambda item: (item[1].at, item[0] or ""),
    )
    window = timedelta(days=criterion.within_days) if criterion.within_days else None
    tally = _Tally(criterion, zone)
    earned_at = None
    first = 0  # the oldest activity still inside the window
    for end, group in groupby((r for _, r in matching), key=lambda r: r.at):
        for record in group:  # activities at the same moment count together
            tally.add(record)
        while window is not None and matching[first][1].at <= end - window:
            tally.remove(matching[first][1])
            first += 1
        if earned_at is None and tally.reached():
            earned_at = end
    return Result(
        met=earned_at is not None,
        earned_at=earned_at,
        figures=[tally.figure()],
    )


def evaluate(criterion: Criterion, progress: Progress, zone: tzinfo = UTC) -> Result:
    """`zone`: the time zone calendar days and weeks are counted in."""
    if isinstance(criterion, HoldsBadge):
        # A questioned award does not open a pathway until the organisation has decided on it.
        times = [] if criterion.badge in progress.questioned else progress.awarded.get(criterion.badge, [])
        held = (criterion.badge,) if times else ()
        return Result(
            met=bool(times),
            earned_at=min(times) if times else None,
            figures=[Figure(HELD, Fraction(len(held)), Fraction(1), badges=held)],
        )
    if isinstance(criterion, AllOf | AnyOf | AtLeastOf):
        parts = [evaluate(child, progress, zone) for child in criterion.of]
        if isinstance(criterion, AllOf):
            needed = len(parts)
        elif isinstance(criterion, AnyOf):
            needed = 1
        else:
            needed = criterion.n
        met_times = sorted(p.earned_at for p in parts if p.met and p.earned_at is not None)
        met = len(met_times) >= needed
        return Result(
            met=met,
            earned_at=met_times[needed - 1] if met else None,
            figures=[f for p in parts for f in p.figures],
        )
    return _evaluate_leaf(criterion, progress, zone)
