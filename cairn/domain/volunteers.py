"""Volunteers as a coordinator looks them up: natural sort of names, how close someone is to a
badge, a page of the list, an activity as the history shows it, and progress grouped so a
pathway (a badge earned by holding others) reads as one item with its parts."""

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from schemas.activity import ActivityData, ActivityVoided, VolunteerShiftLogged
from schemas.awards import BadgeProgress
from schemas.badge_class import BadgeClass, Criterion, HoldsBadge

Sort = Literal["name", "recent", "closest"]
SORTS: tuple[Sort, ...] = ("name", "recent", "closest")
PAGE_SIZE = 50
_DIGITS = re.compile(r"\d+")


def natural_key(name: str) -> str:
    """A key whose plain string order is the natural order of names: "Volunteer 9" before
    "Volunteer 10", case-insensitive. Digit runs are padded to 12 places (longer runs keep
    their length, so they sort after, which is still right for numbers)."""
    folded = " ".join(name.casefold().split())
    return _DIGITS.sub(lambda m: m.group().lstrip("0").rjust(12, "0"), folded)[:200]


def display_name(name: str | None, email: str) -> str:
    return name or email


def closeness(badges: Iterable[BadgeProgress]) -> float:
    """0..1: how far the person is toward the badge they are nearest to and do not hold yet
    (each figure's share, capped at 1, averaged over the badge's figures)."""
    best = 0.0
    for badge in badges:
        if badge.awarded or not badge.figures:
            continue
        shares = [min(1.0, f.achieved / f.required) if f.required else 1.0 for f in badge.figures]
        best = max(best, sum(shares) / len(shares))
    return round(best, 6)


@dataclass(frozen=True)
class VolunteerQuery:
    """A page of the volunteer list: `search` matches names and emails (case-insensitive)."""

    search: str = ""
    sort: Sort = "name"
    page: int = 1
    per_page: int = PAGE_SIZE

    @property
    def offset(self) -> int:
        return (max(self.page, 1) - 1) * self.per_page


@dataclass(frozen=True)
class VolunteerRow:
    recipient_key: str
    email: str
    name: str | None
    last_activity_at: datetime | None
    closest: float


@dataclass(frozen=True)
class VolunteerPage:
    total: int
    rows: list[VolunteerRow]
    query: VolunteerQuery

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.query.per_page))


@dataclass(frozen=True)
class ActivityEntry:
    """One activity in a person's history (no personal data: the person is their key). A void
    is an entry of its own (`voids`, `reason`); the entry it took back carries `voided_by`."""

    event_id: str
    recipient_key: str
    kind: str
    at: datetime
    seconds: int | None = None
    label: str = ""
    voids: str | None = None
    reason: str | None = None
    voided_by: str | None = None
    void_reason: str | None = None
    # the record as cairn.activity.v1 carries it (no contact details), for the builder's dry run
    data: ActivityData | None = field(default=None, compare=False, repr=False)


def activity_entry(event_id: str, data: ActivityData, at: datetime) -> ActivityEntry:
    """The history entry of an accepted activity record; `at` is when a void was accepted."""
    if isinstance(data, VolunteerShiftLogged):
        label = " · ".join(x for x in (data.program, data.role, data.site) if x)
        return ActivityEntry(
            event_id, data.recipient_key, data.kind, data.started_at, data.duration_seconds, label, data=data
        )
    if isinstance(data, ActivityVoided):
        return ActivityEntry(
            event_id, data.recipient_key, data.kind, at, voids=data.voids, reason=data.reason, data=data
        )
    seconds = round(data.minutes * 60) if data.minutes is not None else None
    label = f"{data.series} · session {data.session}"
    return ActivityEntry(event_id, data.recipient_key, data.kind, data.attended_at, seconds, label, data=data)


@dataclass(frozen=True)
class BadgeStats:
    """Per badge class: credentials not revoked, those claimed, and claim emails that bounced or
    failed (of credentials not revoked); revoked ones counted apart."""

    awarded: int = 0
    claimed: int = 0
    bounced: int = 0
    failed: int = 0
    revoked: int = 0


@dataclass
class ProgressItem:
    """A badge as the volunteer's page shows it; a pathway has its parts (by name) inside."""

    name: str
    progress: BadgeProgress | None
    parts: list["ProgressItem"] = field(default_factory=list)


def _held_badges(criterion: Criterion) -> list[str]:
    if isinstance(criterion, HoldsBadge):
        return [criterion.badge]
    inner = getattr(criterion, "of", None)
    if isinstance(inner, list):
        return [slug for c in inner for slug in _held_badges(c)]
    return []


def progress_items(progress: Sequence[BadgeProgress], classes: Sequence[BadgeClass]) -> list[ProgressItem]:
    """Each badge once: a composite badge with the badges it needs as parts, and a badge that is
    part of a composite shown inside it rather than again on its own. Names, never slugs."""
    names = {c.id: c.name for c in classes}
    by_id = {p.badge_class_id: p for p in progress}
    parts_of = {c.id: _held_badges(c.criteria) for c in classes if c.criteria is not None}
    inside = {slug for parts in parts_of.values() for slug in parts}
    items = []
    for badge in classes:
        if badge.id in inside and parts_of.get(badge.id) == []:
            continue
        parts = [
            ProgressItem(names.get(slug, "a badge no longer offered"), by_id.get(slug))
            for slug in parts_of.get(badge.id, [])
        ]
        items.append(ProgressItem(badge.name, by_id.get(badge.id), parts))
    return items


KIND_NAMES = {"volunteer_shift": "shift", "workshop_attendance": "workshop", "activity_voided": "void"}


def describe(entry: ActivityEntry) -> str:
    """An activity in a few words, for a coordinator: "shift on 2026-11-28 (4 h) · pantry"."""
    length = f" ({entry.seconds / 3600:.4g} h)" if entry.seconds else ""
    words = f"{KIND_NAMES.get(entry.kind, entry.kind)} on {entry.at.date().isoformat()}{length}"
    return f"{words} · {entry.label}" if entry.label else words


def void_behind(history: Sequence[ActivityEntry], before: datetime) -> ActivityEntry | None:
    """The activity whose void most likely undid an award questioned at `before`: the one taken
    back by the person's latest void accepted by then (the question does not name it)."""
    voids = [e for e in history if e.voids and e.at <= before]
    if not voids:
        return None
    last = max(voids, key=lambda e: e.at)
    by_id = {e.event_id: e for e in history}
    return by_id.get(last.voids or "") or ActivityEntry(
        last.voids or "",
        last.recipient_key,
        "unknown",
        last.at,
        voided_by=last.event_id,
        void_reason=last.reason,
    )


def void_id_for(event_id: str) -> str:
    """The id of the dashboard's void of an activity: the same each time, so pressing the
    button twice takes it back once (the event id is the idempotency key)."""
    if len(event_id) <= 195:
        return f"void-{event_id}"
    return f"void-{hashlib.sha256(event_id.encode()).hexdigest()}"
