"""The incremental engine: a recipient's standing kept between events, so one more event costs
the same whatever the history's length.

A Standing holds what a Progress holds (activities by event id, compacted activities, voids,
awards), as plain objects, plus one LeafRun per leaf of the badge classes it was evaluated
under (and per calendar year, for yearly badges): a leaf's running tally, built once from the
records by replaying them and then fed each new activity. An activity no earlier than the
newest one (the usual case) is appended and fed to the runs whose filter it matches; a late
(out-of-order) activity, a void, or an activity arriving after its void recounts this recipient
on the slow path: the Progress code records it and the runs are rebuilt when next asked for.

The table value keeps each activity as a short row (time, kind, seconds, fields; trailing
defaults left off) under "v": 2; a value in the earlier format (a Progress's JSON) is read and
converted. The runs are not stored: they are rebuilt from the rows when a value is read.
"""

import json
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from cairn.domain.criteria.awards import Settlement, settle_view
from cairn.domain.criteria.evaluation import Leaf, LeafRun, View, replay, year_of
from cairn.domain.criteria.progress import (
    KEEP_BY_ID,
    ActivityRecord,
    Progress,
    record_activity,
    record_fields,
)
from schemas.activity import ActivityData, ActivityVoided
from schemas.badge_class import BadgeClass

FORMAT = 2
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)
_FIELDS = ("at", "kind", "seconds", "program", "role", "site", "series", "session", "completed", "count")
_DEFAULTS = (None, None, 0, None, None, None, None, None, True, 1)
_KIND_CODES = {"volunteer_shift": "s", "workshop_attendance": "w"}  # a row's kind, shortened
_KINDS = {code: kind for kind, code in _KIND_CODES.items()}


class Rec:
    """One activity as the engine keeps it (ActivityRecord's fields, without pydantic)."""

    __slots__ = _FIELDS

    def __init__(
        self,
        at: datetime,
        kind: str,
        seconds: int = 0,
        program: str | None = None,
        role: str | None = None,
        site: str | None = None,
        series: str | None = None,
        session: str | None = None,
        completed: bool = True,
        count: int = 1,
    ) -> None:
        self.at, self.kind, self.seconds, self.count = at, kind, seconds, count
        self.program, self.role, self.site = program, role, site
        self.series, self.session, self.completed = series, session, completed

    def span(self) -> tuple[int, int] | None:
        """As ActivityRecord.span: the seconds since the epoch this activity covers."""
        if not self.seconds:
            return None
        at = (self.at - _EPOCH) // _SECOND
        return (at - self.seconds, at) if self.kind == "volunteer_shift" else (at, at + self.seconds)

    def merged(self, other: "Rec") -> "Rec":
        """As progress._merged: the longer span, both counts."""
        fields = [getattr(self, name) for name in _FIELDS]
        fields[2], fields[9] = max(self.seconds, other.seconds), self.count + other.count
        return Rec(*fields)

    def row(self) -> list[object]:
        kind = _KIND_CODES.get(self.kind, self.kind)
        row = [_text(self.at), kind, *(getattr(self, name) for name in _FIELDS[2:])]
        while len(row) > 2 and row[-1] == _DEFAULTS[len(row) - 1]:
            row.pop()
        return row

    @classmethod
    def of_row(cls, row: list[Any]) -> "Rec":
        return cls(datetime.fromisoformat(row[0]), _KINDS.get(row[1], row[1]), *row[2:])

    @classmethod
    def of(cls, record: ActivityRecord) -> "Rec":
        return cls(*(getattr(record, name) for name in _FIELDS))

    def record(self) -> ActivityRecord:
        return ActivityRecord.model_construct(**{name: getattr(self, name) for name in _FIELDS})


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _text(moment: datetime | None) -> str | None:
    """ISO 8601 with the event's own offset (an award's date keeps it), UTC written Z."""
    if moment is None:
        return None
    text = moment.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class Standing:
    """One recipient's state within one organisation, kept between events (the table value)."""

    __slots__ = (
        "_feeds",
        "_latest",
        "_ordered",
        "_runs",
        "_years",
        "activities",
        "awarded",
        "checked",
        "compacted",
        "compacted_before",
        "questioned",
        "voided",
    )

    def __init__(self) -> None:
        self.activities: dict[str, Rec] = {}
        self.compacted: list[Rec] = []
        self.compacted_before: datetime | None = None
        self.voided: dict[str, datetime | None] = {}
        self.awarded: dict[str, list[datetime]] = {}
        self.questioned: list[str] = []
        self.checked: dict[str, int] = {}
        self._forget_runs()

    def _forget_runs(self) -> None:
        self._latest = max((r.at for r in self.records_only()), default=None)
        self._ordered: list[Rec] | None = None  # every record in time order, once asked for
        self._runs: dict[tuple[int, int | None], tuple[Leaf, LeafRun]] = {}
        self._feeds: list[tuple[LeafRun, tzinfo, int | None]] = []
        self._years: dict[tzinfo, set[int]] = {}

    # -- reading and writing --------------------------------------------------------------

    @classmethod
    def of(cls, progress: Progress) -> "Standing":
        standing = cls()
        standing._take(progress)
        return standing

    def _take(self, progress: Progress) -> None:
        self.activities = {e: Rec.of(r) for e, r in progress.activities.items()}
        self.compacted = [Rec.of(r) for r in progress.compacted]
        self.compacted_before = progress.compacted_before
        self.voided = dict(progress.voided)
        self.awarded = {k: list(v) for k, v in progress.awarded.items()}
        self.questioned = list(progress.questioned)
        self.checked = dict(progress.checked)
        self._forget_runs()

    def progress(self) -> Progress:
        """The same state as a Progress (the slow path and the old interfaces)."""
        return Progress.model_construct(
            activities={e: r.record() for e, r in self.activities.items()},
            compacted=[r.record() for r in self.compacted],
            compacted_before=self.compacted_before,
            voided=dict(self.voided),
            awarded={k: list(v) for k, v in self.awarded.items()},
            questioned=list(self.questioned),
            checked=dict(self.checked),
        )

    @classmethod
    def load(cls, raw: bytes | None) -> "Standing":
        """A table value in either format (an earlier Progress JSON is converted)."""
        if not raw:
            return cls()
        if not raw.startswith(b'{"v":2'):
            return cls.of(Progress.model_validate_json(raw))
        value = json.loads(raw)
        standing = cls()
        standing.activities = {e: Rec.of_row(row) for e, row in value.get("activities", {}).items()}
        standing.compacted = [Rec.of_row(row) for row in value.get("compacted", [])]
        standing.compacted_before = _time(value.get("compacted_before"))
        standing.voided = {e: _time(at) for e, at in value.get("voided", {}).items()}
        standing.awarded = {
            b: [datetime.fromisoformat(t) for t in ts] for b, ts in value.get("awarded", {}).items()
        }
        standing.questioned = value.get("questioned", [])
        standing.checked = value.get("checked", {})
        standing._forget_runs()
        return standing

    def stored(self) -> bytes:
        value: dict[str, object] = {
            "v": FORMAT,
            "activities": {e: r.row() for e, r in self.activities.items()},
        }
        if self.compacted:
            value["compacted"] = [r.row() for r in self.compacted]
            value["compacted_before"] = _text(self.compacted_before)
        if self.voided:
            value["voided"] = {e: _text(at) for e, at in self.voided.items()}
        if self.awarded:
            value["awarded"] = {b: [_text(t) for t in ts] for b, ts in self.awarded.items()}
        if self.questioned:
            value["questioned"] = self.questioned
        if self.checked:
            value["checked"] = self.checked
        return json.dumps(value, separators=(",", ":")).encode()

    def records_only(self) -> list[Rec]:
        return [*self.activities.values(), *self.compacted]

    def records(self) -> list[tuple[str | None, Rec]]:
        """Every counted activity; compacted ones have no event id any more."""
        return [*self.activities.items(), *((None, r) for r in self.compacted)]

    def pending_voids(self) -> list[str]:
        return sorted(event_id for event_id, at in self.voided.items() if at is None)

    # -- recording ------------------------------------------------------------------------

    def record(self, event_id: str, data: ActivityData, keep: int = KEEP_BY_ID) -> bool:
        """Applies one event in place; False when it changes nothing (a duplicate). Raises
        BeforeCompactedHistory as record_activity does."""
        if isinstance(data, ActivityVoided) or event_id in self.voided:
            return self._slowly(event_id, data, keep)
        if event_id in self.activities:
            return False
        fields = record_fields(data)
        at: datetime = fields["at"]  # type: ignore[assignment]
        if (self._latest is not None and at < self._latest) or (
            self.compacted_before is not None and at < self.compacted_before
        ):
            return self._slowly(event_id, data, keep)  # late: recount (or refuse) on the slow path
        record = Rec(**fields)  # type: ignore[arg-type]
        self.activities[event_id] = record
        self._latest = at
        if self._ordered is not None:
            self._ordered.append(record)
        for zone, years in self._years.items():
            years.add(year_of(at, zone))
        kind = record.kind
        for run, zone, year in self._feeds:
            if (run.kind is None or run.kind == kind) and run.matches(record):
                if year is None or year_of(at, zone) == year:
                    run.feed(record)
        if len(self.activities) > keep:
            self._compact(keep)
        return True

    def _compact(self, keep: int) -> None:
        """progress.compacted() on the rows, without a round trip through pydantic. The runs
        stay: folding activities at one instant with the same fields changes no tally."""
        by_time = sorted(self.activities.items(), key=lambda item: item[1].at)
        cut = by_time[len(by_time) - max(1, keep * 3 // 4)][1].at
        old = [record for _, record in by_time if record.at < cut]
        if not old:
            return
        folded: dict[tuple[object, ...], Rec] = {}
        for r in [*self.compacted, *old]:
            key = (r.at, r.kind, r.program, r.role, r.site, r.series, r.session, r.completed)
            held = folded.get(key)
            folded[key] = r if held is None else held.merged(r)
        voided = [(e, at) for e, at in self.voided.items() if at is None or at >= cut]
        self.activities = {e: r for e, r in by_time if r.at >= cut}
        self.compacted = list(folded.values())
        self.compacted_before = cut
        self.voided = dict(voided[-keep:])
        self._ordered = None

    def _slowly(self, event_id: str, data: ActivityData, keep: int) -> bool:
        updated = record_activity(self.progress(), event_id, data, keep=keep)
        if updated is None:
            return False
        self._take(updated)
        return True

    # -- evaluating -----------------------------------------------------------------------

    def run(self, criterion: Leaf, zone: tzinfo, year: int | None) -> LeafRun:
        """The leaf's run, replayed from the records the first time it is asked for."""
        key = (id(criterion), year)
        known = self._runs.get(key)
        if known is not None:
            if known[0] is criterion:
                return known[1]
            self._feeds = [feed for feed in self._feeds if feed[0] is not known[1]]
        if self._ordered is None:
            self._ordered = sorted(self.records_only(), key=lambda r: r.at)
        run = replay(criterion, zone, year, self._ordered)  # type: ignore[arg-type]
        self._runs[key] = (criterion, run)
        self._feeds.append((run, zone, year))
        return run

    def years(self, zone: tzinfo) -> set[int]:
        known = self._years.get(zone)
        if known is None:
            known = self._years[zone] = {year_of(r.at, zone) for r in self.records_only()}
        return known

    def view(self) -> View:
        return _Tallies(self)

    def settled(
        self, awarded: dict[str, list[datetime]], questioned: list[str], checked: dict[str, int]
    ) -> "Standing":
        """This standing with the awards as settled (the records and runs are shared)."""
        after = Standing.__new__(Standing)
        for name in Standing.__slots__:
            setattr(after, name, getattr(self, name))
        after.awarded, after.questioned, after.checked = awarded, questioned, checked
        return after


class _Tallies(View):
    def __init__(self, standing: Standing) -> None:
        self._standing = standing
        self.awarded, self.questioned = standing.awarded, standing.questioned

    def leaf(self, criterion: Leaf, zone: tzinfo, year: int | None) -> LeafRun:
        return self._standing.run(criterion, zone, year)

    def years(self, zone: tzinfo) -> set[int]:
        return self._standing.years(zone)


def settle_standing(standing: Standing, badge_classes: list[BadgeClass], recipient_key: str) -> Settlement:
    """settle() on the incremental engine: the same awards and questions, from the runs."""
    awarded, questioned, awards, questions = settle_view(standing.view(), badge_classes, recipient_key)
    checked = {badge.id: badge.version for badge in badge_classes}
    return Settlement(standing.settled(awarded, questioned, checked), awards, questions)  # type: ignore[arg-type]


def checked_versions(raw: bytes) -> dict[str, int]:
    """The badge class versions a stored value (either format) was last evaluated under,
    without decoding its activities' times: the scan for a new class reads every recipient."""
    checked = json.loads(raw).get("checked", {})
    return checked if isinstance(checked, dict) else {}
