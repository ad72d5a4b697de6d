"""The criteria engine: folds activity into a recipient's progress and says which awards are due.

Pure functions, no I/O: the aggregator, `cairn criteria check` and the tests all run this code.
A recipient's Progress keeps recent activities by event id, so a duplicate counts once, a
void takes its activity back out, and every figure is recomputed in event time whatever order
the events arrived in. Every criterion is monotone in the set of activities (more activity can
only help), which is what makes incremental evaluation agree with evaluating the whole history.

Durations are whole seconds and hours are compared exactly (three shifts of 3h20 are 10 hours).
A person's hours are the union of the time their matching activities cover, so overlapping
shifts never count an hour twice; counts count each activity. Calendar criteria (years, ISO
weeks, days) count in the badge class's time zone, whatever offset an event was written in.

The ids kept stay bounded: past KEEP_BY_ID activities, the oldest are compacted (their ids
forgotten) and only activities at the same instant with the same fields are folded together,
so no activity moves in time and a compacted history earns what the whole history earns,
rolling windows included. Everything before the compaction point is then closed: an activity
from before it cannot be told from a duplicate, so it is refused (BeforeCompactedHistory)
rather than risk counting it twice.
"""

import math
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from fractions import Fraction
from functools import cache
from itertools import groupby
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, field_validator, model_validator

from schemas.activity import (
    ActivityData,
    ActivityVoided,
    VolunteerShiftLogged,
    WorkshopAttendanceRecorded,
    event_time,
)
from schemas.awards import AwardGranted, AwardQuestioned, BadgeProgress, Evidence, award_id_for
from schemas.badge_class import (
    ActivityCount,
    ActivityFilter,
    AllOf,
    AnyOf,
    AtLeastOf,
    BadgeClass,
    Criterion,
    DistinctCount,
    HoldsBadge,
    Streak,
    TotalHours,
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)


class ActivityRecord(BaseModel):
    """What the engine keeps of one activity: enough to evaluate criteria, no personal data."""

    at: datetime
    kind: str
    seconds: int = Field(
        default=0, ge=0, description="the time it covers: a shift's ends at `at`, a workshop's starts there"
    )
    program: str | None = None
    role: str | None = None
    site: str | None = None
    series: str | None = None
    session: str | None = None
    completed: bool = True
    count: int = Field(default=1, description="activities this record stands for (more once compacted)")

    @model_validator(mode="before")
    @classmethod
    def _hours_as_seconds(cls, value: object) -> object:
        """Progress stored before durations were exact kept hours as a float."""
        if isinstance(value, dict) and "hours" in value:
            value = dict(value)
            value["seconds"] = round(float(value.pop("hours") or 0) * 3600)
        return value

    def span(self) -> tuple[int, int] | None:
        """The time this activity covers, in seconds since the epoch, or None if it has no length."""
        if not self.seconds:
            return None
        at = (self.at - _EPOCH) // _SECOND
        return (at - self.seconds, at) if self.kind == "volunteer_shift" else (at, at + self.seconds)


KEEP_BY_ID = 1000  # activities a recipient's progress keeps by event id before compacting


class BeforeCompactedHistory(ValueError):
    """An activity older than the recipient's compacted history: it may be a duplicate of one
    whose id was forgotten, so it is refused (the aggregator dead-letters it with this reason)."""


class Progress(BaseModel):
    """One recipient's state within one organisation: the value of the aggregator's table."""

    activities: dict[str, ActivityRecord] = Field(default_factory=dict, description="recent, by event id")
    compacted: list[ActivityRecord] = Field(
        default_factory=list,
        description="older activities, ids forgotten; those at one instant with the same fields folded",
    )
    compacted_before: datetime | None = Field(
        default=None, description="activities earlier than this are all in `compacted`"
    )
    voided: dict[str, datetime | None] = Field(
        default_factory=dict, description="event ids taken back -> the activity's time, if it was seen"
    )
    awarded: dict[str, list[datetime]] = Field(
        default_factory=dict, description="badge class -> when each occurrence was earned"
    )
    questioned: list[str] = Field(default_factory=list, description="awarded classes no longer met")
    checked: dict[str, int] = Field(
        default_factory=dict, description="badge class -> the version these activities were evaluated under"
    )

    @field_validator("voided", mode="before")
    @classmethod
    def _voided_list(cls, value: object) -> object:
        """Progress stored before compaction existed kept voided ids as a list."""
        return dict.fromkeys(value) if isinstance(value, list) else value

    def pending_voids(self) -> list[str]:
        """Voids still waiting for the activity they take back (perhaps a mistyped id), for the
        organisation to see: such a void changes nothing until that activity arrives."""
        return sorted(event_id for event_id, at in self.voided.items() if at is None)

    def stored(self) -> bytes:
        """The table value: JSON without default fields, which most of an activity's are."""
        return self.model_dump_json(exclude_defaults=True).encode()

    def records(self) -> list[tuple[str | None, ActivityRecord]]:
        """Every counted activity; compacted ones have no event id any more."""
        return [*self.activities.items(), *((None, r) for r in self.compacted)]


def _record_of(data: VolunteerShiftLogged | WorkshopAttendanceRecorded) -> ActivityRecord:
    if isinstance(data, VolunteerShiftLogged):
        return ActivityRecord(
            at=event_time(data),
            kind=data.kind,
            seconds=data.duration_seconds,
            program=data.program,
            role=data.role,
            site=data.site,
        )
    return ActivityRecord(
        at=data.attended_at,
        kind=data.kind,
        seconds=round((data.minutes or 0) * 60),
        series=data.series,
        session=data.session,
        completed=data.completed,
    )


def record_activity(
    progress: Progress, event_id: str, data: ActivityData, keep: int = KEEP_BY_ID
) -> Progress | None:
    """The progress with this event applied, or None when it changes nothing (a duplicate).
    Raises BeforeCompactedHistory for an activity earlier than the compacted history."""
    if isinstance(data, ActivityVoided):
        if data.voids in progress.voided:
            return None
        taken = progress.activities.get(data.voids)
        remaining = {k: v for k, v in progress.activities.items() if k != data.voids}
        voided = {**progress.voided, data.voids: taken.at if taken else None}
        return progress.model_copy(update={"activities": remaining, "voided": voided})
    if event_id in progress.voided:
        if progress.voided[event_id] is not None:
            return None
        # it arrived after its void: still not counted, but the void no longer waits
        at = _record_of(data).at
        return progress.model_copy(update={"voided": {**progress.voided, event_id: at}})
    if event_id in progress.activities:
        return None
    record = _record_of(data)
    if progress.compacted_before is not None and record.at < progress.compacted_before:
        raise BeforeCompactedHistory(
            f"activity at {record.at.isoformat()} is earlier than this recipient's compacted history "
            f"(before {progress.compacted_before.isoformat()}); it cannot be told from a duplicate"
        )
    updated = progress.model_copy(update={"activities": {**progress.activities, event_id: record}})
    return _compacted(updated, keep) if len(updated.activities) > keep else updated


def _compacted(progress: Progress, keep: int) -> Progress:
    """Keeps the newest three quarters of `keep` activities by id and forgets the ids of the
    older ones. Activities at the cut time stay, so the cut is a strict boundary. Only records
    at the same instant with the same fields are folded: folding across instants would move an
    activity in time, into or out of a rolling window, and change what is earned and when."""
    by_time = sorted(progress.activities.items(), key=lambda item: item[1].at)
    cut = by_time[len(by_time) - max(1, keep * 3 // 4)][1].at
    old = [record for _, record in by_time if record.at < cut]
    if not old:
        return progress  # every activity shares one time: nothing can be closed off yet
    folded: dict[tuple[object, ...], ActivityRecord] = {}
    for record in [*progress.compacted, *old]:
        key = tuple(record.model_dump(exclude={"seconds", "count"}).values())
        held = folded.get(key)
        folded[key] = record if held is None else _merged(held, record)
    # A voided activity from before the cut would be refused anyway, so its id can go; voids of
    # activities not seen yet are remembered, the newest `keep` of them.
    voided = [(e, at) for e, at in progress.voided.items() if at is None or at >= cut]
    return progress.model_copy(
        update={
            "activities": {e: r for e, r in by_time if r.at >= cut},
            "compacted": list(folded.values()),
            "compacted_before": cut,
            "voided": dict(voided[-keep:]),
        }
    )


def _merged(a: ActivityRecord, b: ActivityRecord) -> ActivityRecord:
    """Two activities at one instant with the same fields as one record. Their spans both end
    (shifts) or both start (workshops) at that instant, so the time they cover together is the
    longer one's; the count is both."""
    return a.model_copy(update={"seconds": max(a.seconds, b.seconds), "count": a.count + b.count})


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
            return self.time.length() >= _hours(criterion.at_least) * 3600
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


@dataclass(frozen=True)
class Settlement:
    progress: Progress
    awards: list[AwardGranted]
    questions: list[AwardQuestioned]


def _evidence(result: Result, names: Mapping[str, str]) -> list[Evidence]:
    """The figures as stated: hours rounded down to the hundredth (with the exact seconds), and
    every badge held in one figure with the badges' names, where the first of them stood."""
    held = [f for f in result.figures if f.measure == HELD]
    evidence = []
    for figure in result.figures:
        if figure.measure != HELD:
            evidence.append(
                Evidence(
                    measure=figure.measure,
                    achieved=math.floor(figure.achieved * 100) / 100,
                    required=float(figure.required),
                    seconds=figure.seconds,
                )
            )
        elif figure is held[0]:
            evidence.append(
                Evidence(
                    measure=HELD,
                    achieved=float(sum(f.achieved for f in held)),
                    required=float(sum(f.required for f in held)),
                    badges=[names.get(b, b) for f in held for b in f.badges],
                )
            )
    return evidence


def settle(progress: Progress, badge_classes: list[BadgeClass], recipient_key: str) -> Settlement:
    """Brings the awards in line with the activities: grants what is now earned, questions an
    award whose criteria a void has undone (never revoking it: the organisation decides), and
    clears the question when the criteria hold again. Repeats until nothing changes, because
    each of these can open or close a pathway badge that builds on it."""
    awarded = {k: list(v) for k, v in progress.awarded.items()}
    questioned = list(progress.questioned)
    names = {badge.id: badge.name for badge in badge_classes}
    awards: list[AwardGranted] = []
    questions: list[AwardQuestioned] = []
    for _ in range(len(badge_classes) + 1):  # a pathway can be at most this deep
        changed = False
        for badge in badge_classes:
            now = progress.model_copy(update={"awarded": awarded, "questioned": questioned})
            earned = _newly_earned(badge, now)
            for occurrence, result in earned:
                assert result.earned_at is not None
                awarded.setdefault(badge.id, []).append(result.earned_at)
                awards.append(_award(badge, recipient_key, occurrence, result, names))
                changed = True
            if earned or not awarded.get(badge.id):
                continue
            undone, result = _undone_occurrences(badge, now)
            if badge.id in questioned:
                if not undone:
                    questioned.remove(badge.id)
                    changed = True
            elif undone:
                questioned.append(badge.id)
                award_id = award_id_for(badge.org_id, badge.id, recipient_key, undone[0])
                questions.append(_question(award_id, badge, recipient_key, result, names))
                changed = True
        if not changed:
            break
    # Exactly the versions just evaluated: a class missing from `badge_classes` (not loaded yet)
    # must read as unchecked, so that the re-evaluation after it loads does not skip this recipient.
    checked = {badge.id: badge.version for badge in badge_classes}
    updated = progress.model_copy(update={"awarded": awarded, "questioned": questioned, "checked": checked})
    return Settlement(updated, awards, questions)


def _newly_earned(badge: BadgeClass, progress: Progress) -> list[tuple[int, Result]]:
    """Occurrences of this badge that the progress earns and that were not awarded yet."""
    held = progress.awarded.get(badge.id, [])
    zone = zone_of(badge.timezone)
    if badge.repeat is None:
        result = evaluate(badge.criteria, progress, zone) if not held else None
        return [(1, result)] if result and result.met else []
    if badge.repeat == "calendar_year":  # the occurrence is the year, in the organisation's time zone
        earned = []
        years = {_year(r.at, zone) for _, r in progress.records()} - {_year(t, zone) for t in held}
        for year in sorted(years):
            result = evaluate(badge.criteria, _within_year(progress, year, zone), zone)
            if result.met:
                earned.append((year, result))
        return earned
    assert isinstance(badge.criteria, TotalHours | ActivityCount)  # each_multiple, checked by the schema
    earned = []
    for occurrence in range(len(held) + 1, len(held) + 1000):
        result = evaluate(_times(badge.criteria, occurrence), progress, zone)
        if not result.met:
            break
        earned.append((occurrence, result))
    return earned


def _year(moment: datetime, zone: tzinfo) -> int:
    return moment.astimezone(zone).year


def _within_year(progress: Progress, year: int, zone: tzinfo) -> Progress:
    """The progress as it stands with only that calendar year's activities (yearly badges)."""
    in_year = {k: r for k, r in progress.activities.items() if _year(r.at, zone) == year}
    compacted = [r for r in progress.compacted if _year(r.at, zone) == year]
    return progress.model_copy(update={"activities": in_year, "compacted": compacted})


def _times(criterion: TotalHours | ActivityCount, multiple: int) -> TotalHours | ActivityCount:
    """The requirement scaled for the n-th occurrence of an each_multiple badge."""
    return criterion.model_copy(update={"at_least": criterion.at_least * multiple})


def _undone_occurrences(badge: BadgeClass, progress: Progress) -> tuple[list[int], Result]:
    """Occurrences already awarded that the activities as they stand no longer earn (after a
    void), and the figures as they stand now."""
    held = progress.awarded.get(badge.id, [])
    zone = zone_of(badge.timezone)
    result = evaluate(badge.criteria, progress, zone)
    if badge.repeat == "calendar_year":
        undone = []
        for year in sorted(_year(t, zone) for t in held):
            if not evaluate(badge.criteria, _within_year(progress, year, zone), zone).met:
                undone.append(year)
        return undone, result
    if badge.repeat == "each_multiple":
        assert isinstance(badge.criteria, TotalHours | ActivityCount)
        earned = 0
        while earned < len(held):
            if not evaluate(_times(badge.criteria, earned + 1), progress, zone).met:
                break
            earned += 1
        return list(range(earned + 1, len(held) + 1)), result
    return ([] if result.met else [1]), result


def _award(
    badge: BadgeClass, recipient_key: str, occurrence: int, result: Result, names: Mapping[str, str]
) -> AwardGranted:
    assert result.earned_at is not None
    return AwardGranted(
        award_id=award_id_for(badge.org_id, badge.id, recipient_key, occurrence),
        org_id=badge.org_id,
        badge_class_id=badge.id,
        badge_class_version=badge.version,
        recipient_key=recipient_key,
        occurrence=occurrence,
        earned_at=result.earned_at,
        evidence=_evidence(result, names),
    )


def _question(
    award_id: str, badge: BadgeClass, recipient_key: str, result: Result, names: Mapping[str, str]
) -> AwardQuestioned:
    return AwardQuestioned(
        award_id=award_id,
        org_id=badge.org_id,
        badge_class_id=badge.id,
        recipient_key=recipient_key,
        reason="the criteria are no longer met after an activity was voided",
        evidence=_evidence(result, names),
    )


def progress_report(progress: Progress, badge_classes: list[BadgeClass]) -> list[BadgeProgress]:
    """Where the recipient stands toward each badge: the figures a progress bar shows."""
    names = {badge.id: badge.name for badge in badge_classes}
    return [
        BadgeProgress(
            badge_class_id=badge.id,
            badge_class_version=badge.version,
            name=badge.name,
            awarded=bool(progress.awarded.get(badge.id)),
            questioned=badge.id in progress.questioned,
            figures=_evidence(evaluate(badge.criteria, progress, zone_of(badge.timezone)), names),
        )
        for badge in badge_classes
    ]


def needs_check(progress: Progress, badge: BadgeClass) -> bool:
    return progress.checked.get(badge.id) != badge.version


def awards_for_history(
    events: list[tuple[str, ActivityData]], badge_classes: list[BadgeClass], recipient_key: str
) -> list[AwardGranted]:
    """Everything a whole history earns, evaluated once at the end (the brute-force reference,
    and `cairn criteria check`)."""
    progress = Progress()
    for event_id, data in events:  # in any order, so nothing is compacted
        progress = record_activity(progress, event_id, data, keep=len(events) + 1) or progress
    return settle(progress, badge_classes, recipient_key).awards
