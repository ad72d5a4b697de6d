"""Evaluating criteria against a progress: the leaves (hours, counts, distinct values, weekly
streaks, each optionally within a rolling window) and the combinators (all, any, at least n,
holds a badge). Every measure is exact: whole seconds and whole counts against the requirement.
"""

import math
from abc import ABC, abstractmethod
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, tzinfo
from fractions import Fraction
from functools import cache
from zoneinfo import ZoneInfo

from cairn.domain.criteria.progress import ActivityRecord, Progress
from cairn.domain.criteria.spans import Union as _Union
from cairn.domain.criteria.spans import longest_weekly_run as _longest_weekly_run
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


class Result:
    """Whether a criterion is met, when it first was, and its figures. The figures are worked
    out only when read (evidence, the progress report): settling mostly asks only `met`."""

    __slots__ = ("_figures", "_make", "earned_at", "met")

    def __init__(
        self,
        met: bool,
        earned_at: datetime | None,
        figures: list[Figure] | None = None,
        make: Callable[[], list[Figure]] | None = None,
    ) -> None:
        self.met, self.earned_at = met, earned_at
        self._figures, self._make = figures, make

    @property
    def figures(self) -> list[Figure]:
        if self._figures is None:
            self._figures = self._make() if self._make is not None else []
        return self._figures

    def __repr__(self) -> str:
        return f"Result(met={self.met}, earned_at={self.earned_at!r}, figures={self.figures!r})"


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

    def measure(self) -> int:
        """Whole seconds (hours) or activities (counts): what each_multiple scales against."""
        return self.time.length() if isinstance(self.criterion, TotalHours) else self.total

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


class LeafRun:
    """One leaf's walk through its matching activities in event time: the running tally, the
    activities inside the rolling window (oldest first), and `firsts`, the first moment the
    measure reached one, two, ... times the requirement (one only, for distinct values and
    streaks). Fed in time order, one activity at a time; activities at one moment may come one
    by one, because every measure only grows as activities join."""

    __slots__ = (
        "criterion",
        "firsts",
        "inside",
        "kind",
        "matches",
        "need",
        "results",
        "scalable",
        "tally",
        "window",
        "zone",
    )

    def __init__(self, criterion: Leaf, zone: tzinfo) -> None:
        self.criterion = criterion
        self.zone = zone
        self.matches = _matcher(criterion.filter)
        self.kind = criterion.filter.kind
        self.window = timedelta(days=criterion.within_days) if criterion.within_days else None
        self.tally = _Tally(criterion, zone)
        self.inside: deque[ActivityRecord] = deque()
        self.firsts: list[datetime] = []
        self.scalable = isinstance(criterion, TotalHours | ActivityCount)
        self.need = _needed(criterion, 1) if self.scalable else 0  # for the next multiple
        self.results: dict[int, Result] = {}  # by multiple, until the next activity

    def feed(self, record: ActivityRecord) -> None:
        """Takes in one matching activity no earlier than any fed before."""
        tally, end = self.tally, record.at
        self.results = {}
        tally.add(record)
        if self.window is not None:
            self.inside.append(record)
            inside, start = self.inside, end - self.window
            while inside[0].at <= start:
                tally.remove(inside.popleft())
        if self.scalable:
            while tally.measure() >= self.need:
                self.firsts.append(end)
                self.need = _needed(self.criterion, len(self.firsts) + 1)
        elif not self.firsts and tally.reached():
            self.firsts.append(end)

    def result(self, multiple: int = 1) -> Result:
        """The leaf as evaluated with its requirement `multiple` times over (each_multiple)."""
        known = self.results.get(multiple)
        if known is not None:
            return known
        met = len(self.firsts) >= multiple

        def figures() -> list[Figure]:
            figure = self.tally.figure()
            if multiple != 1:
                figure = replace(figure, required=_required(self.criterion, multiple))
            return [figure]

        result = Result(met=met, earned_at=self.firsts[multiple - 1] if met else None, make=figures)
        self.results[multiple] = result
        return result


def _scaled(criterion: Leaf, multiple: int) -> float:
    """The requirement for the n-th occurrence, multiplied as a float as it always was."""
    assert isinstance(criterion, TotalHours | ActivityCount)
    return criterion.at_least * multiple


def _needed(criterion: Leaf, multiple: int) -> int:
    """Whole seconds (hours) or activities (counts) the n-th occurrence needs."""
    if isinstance(criterion, TotalHours):
        return math.ceil(_hours(_scaled(criterion, multiple)) * 3600)
    return _scaled(criterion, multiple)  # type: ignore[return-value]


def _required(criterion: Leaf, multiple: int) -> Fraction:
    if isinstance(criterion, TotalHours):
        return _hours(_scaled(criterion, multiple))
    return Fraction(_scaled(criterion, multiple))


class View(ABC):
    """What criteria are evaluated against: the badges held and questioned, the years with
    activity, and each leaf's run. Replay walks a Progress's records; the incremental engine
    (standing.py) keeps its runs between events."""

    awarded: dict[str, list[datetime]]
    questioned: list[str]

    @abstractmethod
    def leaf(self, criterion: Leaf, zone: tzinfo, year: int | None) -> LeafRun: ...

    @abstractmethod
    def years(self, zone: tzinfo) -> set[int]: ...


def year_of(moment: datetime, zone: tzinfo) -> int:
    return moment.astimezone(zone).year


class Replay(View):
    """A Progress evaluated from its records, each leaf walked once per view (the slow path)."""

    def __init__(self, progress: Progress) -> None:
        self.awarded, self.questioned = progress.awarded, progress.questioned
        self._ordered = sorted((r for _, r in progress.records()), key=lambda r: r.at)
        self._runs: dict[tuple[int, tzinfo, int | None], tuple[Leaf, LeafRun]] = {}

    def leaf(self, criterion: Leaf, zone: tzinfo, year: int | None) -> LeafRun:
        key = (id(criterion), zone, year)
        known = self._runs.get(key)
        if known is not None and known[0] is criterion:
            return known[1]
        run = replay(criterion, zone, year, self._ordered)
        self._runs[key] = (criterion, run)
        return run

    def years(self, zone: tzinfo) -> set[int]:
        return {year_of(r.at, zone) for r in self._ordered}


def replay(criterion: Leaf, zone: tzinfo, year: int | None, ordered: Iterable[ActivityRecord]) -> LeafRun:
    """A leaf's run over activities in time order (of one calendar year, if given)."""
    run = LeafRun(criterion, zone)
    matches = run.matches
    for record in ordered:
        if matches(record) and (year is None or year_of(record.at, zone) == year):
            run.feed(record)
    return run


def evaluate(
    criterion: Criterion,
    progress: "Progress | View",
    zone: tzinfo = UTC,
    year: int | None = None,
    multiple: int = 1,
) -> Result:
    """`zone`: the time zone calendar days and weeks are counted in; `year`: only that calendar
    year's activities (yearly badges); `multiple`: a leaf's requirement that many times over."""
    view = progress if isinstance(progress, View) else Replay(progress)
    return _compiled(criterion)(view, zone, year, multiple)


Compiled = Callable[[View, tzinfo, int | None, int], Result]
_COMPILED: dict[int, tuple[Criterion, Compiled]] = {}  # id(criterion) -> (criterion, its function)


def _compiled(criterion: Criterion) -> Compiled:
    """The criterion as a function, built once per badge class version (the tree's objects live
    as long as the catalog holds the class; the identity check guards a reused id)."""
    known = _COMPILED.get(id(criterion))
    if known is not None and known[0] is criterion:
        return known[1]
    if len(_COMPILED) > 100_000:
        _COMPILED.clear()
    function = _compile(criterion)
    _COMPILED[id(criterion)] = (criterion, function)
    return function


def _compile(criterion: Criterion) -> Compiled:
    if isinstance(criterion, HoldsBadge):
        badge = criterion.badge

        def holds(view: View, zone: tzinfo, year: int | None, multiple: int) -> Result:
            # A questioned award does not open a pathway until the organisation has decided on it.
            times = [] if badge in view.questioned else view.awarded.get(badge, [])
            held = (badge,) if times else ()
            return Result(
                met=bool(times),
                earned_at=min(times) if times else None,
                figures=[Figure(HELD, Fraction(len(held)), Fraction(1), badges=held)],
            )

        return holds
    if isinstance(criterion, AllOf | AnyOf | AtLeastOf):
        children = [_compiled(child) for child in criterion.of]
        if isinstance(criterion, AllOf):
            needed = len(children)
        elif isinstance(criterion, AnyOf):
            needed = 1
        else:
            needed = criterion.n

        def combined(view: View, zone: tzinfo, year: int | None, multiple: int) -> Result:
            parts = [child(view, zone, year, 1) for child in children]
            met_times = sorted(p.earned_at for p in parts if p.met and p.earned_at is not None)
            met = len(met_times) >= needed
            return Result(
                met=met,
                earned_at=met_times[needed - 1] if met else None,
                make=lambda: [f for p in parts for f in p.figures],
            )

        return combined
    leaf = criterion

    def measured(view: View, zone: tzinfo, year: int | None, multiple: int) -> Result:
        return view.leaf(leaf, zone, year).result(multiple)

    return measured
