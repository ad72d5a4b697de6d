"""A recipient's progress: the activities recorded by event id, voids, and compaction.

Recording is idempotent (a duplicate event id changes nothing) and order-free: a void may come
before the activity it takes back. Past `keep` activities the oldest are compacted, and an
activity from before the compaction point is refused (BeforeCompactedHistory).
"""

from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, Field, field_validator, model_validator

from schemas.activity import (
    ActivityData,
    ActivityVoided,
    VolunteerShiftLogged,
    WorkshopAttendanceRecorded,
    event_time,
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


def record_fields(data: VolunteerShiftLogged | WorkshopAttendanceRecorded) -> dict[str, object]:
    """What is kept of one activity (ActivityRecord's fields), from its event."""
    if isinstance(data, VolunteerShiftLogged):
        return {
            "at": event_time(data),
            "kind": data.kind,
            "seconds": data.duration_seconds,
            "program": data.program,
            "role": data.role,
            "site": data.site,
        }
    return {
        "at": data.attended_at,
        "kind": data.kind,
        "seconds": round((data.minutes or 0) * 60),
        "series": data.series,
        "session": data.session,
        "completed": data.completed,
    }


def _record_of(data: VolunteerShiftLogged | WorkshopAttendanceRecorded) -> ActivityRecord:
    return ActivityRecord(**record_fields(data))


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
    return compacted(updated, keep) if len(updated.activities) > keep else updated


def compacted(progress: Progress, keep: int) -> Progress:
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
