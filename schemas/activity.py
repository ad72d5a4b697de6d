"""Activity: what organisations post (API bodies) and what travels on cairn.activity.v1.

The API body carries the volunteer's email; the Kafka record carries only the recipient_key
(an HMAC of the normalised email under the organisation's secret), never personal data.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    RootModel,
    ValidationInfo,
    model_validator,
)

from schemas.text import LanguageTag, PlainText

MAX_SHIFT_HOURS = 24.0
ACTIVITY_WINDOW = "activity_window"  # the validation context key of an ActivityWindow


@dataclass(frozen=True)
class ActivityWindow:
    """When accepted activity may have happened: not before a floor, not after now plus a
    clock-skew allowance. Intake passes one in the validation context (the models never read
    the clock), so a shift dated 2030 is refused at the door instead of earning a badge."""

    earliest: datetime
    latest: datetime

    @classmethod
    def around(cls, now: datetime, skew: timedelta, floor: date) -> "ActivityWindow":
        return cls(earliest=datetime.combine(floor, time(0), tzinfo=UTC), latest=now + skew)

    def check(self, began: datetime, ended: datetime, ended_field: str) -> None:
        if ended > self.latest:
            raise ValueError(
                f"{ended_field} {ended.isoformat()} is in the future (after "
                f"{self.latest.astimezone(UTC):%Y-%m-%d %H:%M} UTC): only activity that has happened counts"
            )
        if began < self.earliest:
            raise ValueError(
                f"{began.isoformat()} is before {self.earliest:%Y-%m-%d}, the earliest activity accepted"
            )


def _window(info: ValidationInfo) -> ActivityWindow | None:
    context: Any = info.context
    return context.get(ACTIVITY_WINDOW) if isinstance(context, dict) else None


class Volunteer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    name: PlainText | None = Field(default=None, max_length=200)
    external_id: PlainText | None = Field(default=None, max_length=200)
    language: LanguageTag | None = Field(
        default=None,
        description="BCP 47 tag of the language this person reads (emails and pages); remembered "
        "per person, so later events may leave it out. Default: the organisation's language.",
    )


class ShiftDetails(BaseModel):
    """Fields shared by the API body and the Kafka record of a volunteer shift."""

    started_at: AwareDatetime
    ended_at: AwareDatetime | None = None
    hours: float | None = Field(default=None, gt=0, le=MAX_SHIFT_HOURS)
    program: PlainText | None = Field(default=None, max_length=100)
    role: PlainText | None = Field(default=None, max_length=100)
    site: PlainText | None = Field(default=None, max_length=100)
    shift_id: PlainText | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _hours_or_end(self) -> Self:
        if self.ended_at is None and self.hours is None:
            raise ValueError("give ended_at or hours")
        if self.ended_at is not None:
            span = (self.ended_at - self.started_at).total_seconds() / 3600
            if span <= 0:
                raise ValueError("ended_at must be after started_at")
            if span > MAX_SHIFT_HOURS:
                raise ValueError(f"a shift may last at most {MAX_SHIFT_HOURS:g} hours")
            if self.hours is not None and abs(self.hours - span) > 0.01:
                raise ValueError("hours disagrees with started_at..ended_at")
        return self

    @model_validator(mode="after")
    def _when_possible(self, info: ValidationInfo) -> Self:
        window = _window(info)
        if window is not None:
            ended_field = "ended_at" if self.ended_at is not None else "started_at + hours"
            window.check(self.started_at, event_time(self), ended_field)
        return self

    @property
    def duration_seconds(self) -> int:
        """The shift's length in whole seconds, exact from the times (or `hours` converted once),
        so three shifts of 3h20 add up to exactly 10 hours."""
        if self.ended_at is not None:
            return round((self.ended_at - self.started_at) / timedelta(seconds=1))
        assert self.hours is not None
        return round(self.hours * 3600)

    @property
    def duration_hours(self) -> float:
        """For display (the dashboard's upload preview)."""
        return self.duration_seconds / 3600


class VolunteerShiftIn(ShiftDetails):
    """POST /v1/events body for one volunteer shift."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "rota-2026-11-28-0042",
                    "type": "volunteer_shift",
                    "volunteer": {"email": "sam@example.org", "name": "Sam"},
                    "started_at": "2026-11-28T09:00:00Z",
                    "ended_at": "2026-11-28T13:00:00Z",
                    "program": "pantry",
                }
            ]
        },
    )

    id: PlainText = Field(min_length=1, max_length=200, description="Your idempotency key.")
    type: Literal["volunteer_shift"] = "volunteer_shift"
    volunteer: Volunteer


class WorkshopAttendanceIn(BaseModel):
    """POST /v1/events body for one attendance at one session of a workshop series."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "signin-bike-repair-3-sam",
                    "type": "workshop_attendance",
                    "attendee": {"email": "sam@example.org", "name": "Sam"},
                    "series": "bike-repair",
                    "session": "3",
                    "attended_at": "2026-11-28T18:00:00Z",
                    "minutes": 90,
                }
            ]
        },
    )

    id: PlainText = Field(min_length=1, max_length=200, description="Your idempotency key.")
    type: Literal["workshop_attendance"]
    attendee: Volunteer
    series: PlainText = Field(min_length=1, max_length=100)
    session: PlainText = Field(min_length=1, max_length=100)
    attended_at: AwareDatetime
    minutes: float | None = Field(default=None, gt=0, le=24 * 60)
    completed: bool = True

    @model_validator(mode="after")
    def _when_possible(self, info: ValidationInfo) -> Self:
        window = _window(info)
        if window is not None:
            ended = self.attended_at + timedelta(minutes=self.minutes or 0)
            window.check(self.attended_at, ended, "attended_at + minutes" if self.minutes else "attended_at")
        return self


class ActivityVoidedIn(BaseModel):
    """POST /v1/events body that takes back an activity posted in error."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "void-rota-2026-11-28-0042",
                    "type": "activity_voided",
                    "voids": "rota-2026-11-28-0042",
                    "reason": "entered twice",
                    "volunteer": {"email": "sam@example.org"},
                }
            ]
        },
    )

    id: PlainText = Field(
        min_length=1, max_length=200, description="Your idempotency key for the void itself."
    )
    type: Literal["activity_voided"]
    voids: PlainText = Field(min_length=1, max_length=200, description="The id of the event taken back.")
    reason: PlainText = Field(min_length=1, max_length=500)
    volunteer: Volunteer = Field(description="Whose activity it was.")

    @model_validator(mode="after")
    def _not_itself(self) -> Self:
        if self.voids == self.id:
            raise ValueError(f"a void cannot take back itself (voids and id are both {self.id!r})")
        return self


ActivityIn = Annotated[
    VolunteerShiftIn | WorkshopAttendanceIn | ActivityVoidedIn, Field(discriminator="type")
]


def person_of(event: VolunteerShiftIn | WorkshopAttendanceIn | ActivityVoidedIn) -> Volunteer:
    return event.attendee if isinstance(event, WorkshopAttendanceIn) else event.volunteer


class EventBatchIn(BaseModel):
    """POST /v1/events body for many events at once (validated all-or-nothing)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "events": [
                        {
                            "id": "rota-2026-11-28-0042",
                            "type": "volunteer_shift",
                            "volunteer": {"email": "sam@example.org", "name": "Sam"},
                            "started_at": "2026-11-28T09:00:00Z",
                            "hours": 4,
                        },
                        {
                            "id": "rota-2026-11-28-0043",
                            "type": "volunteer_shift",
                            "volunteer": {"email": "ana@example.org"},
                            "started_at": "2026-11-28T09:00:00Z",
                            "hours": 3.5,
                        },
                    ]
                }
            ]
        },
    )

    events: list[ActivityIn] = Field(min_length=1, max_length=1000)

    @model_validator(mode="after")
    def _one_content_per_id(self) -> Self:
        kept, conflicts = fold_same_ids(enumerate(self.events))
        if conflicts:
            first, position, event_id = conflicts[0]
            raise ValueError(
                f"events {first} and {position} have the same id {event_id!r} but different contents"
            )
        self.events = [event for _, event in kept]
        return self


def fold_same_ids(
    numbered: Iterable[tuple[int, ActivityIn]],
) -> tuple[list[tuple[int, ActivityIn]], list[tuple[int, int, str]]]:
    """An id is an idempotency key: an event repeated under its id is folded into the first
    (kept); another event under the same id would silently lose one, so it is a conflict
    (the first's number, its own, the id). Shared by batches (positions) and CSV files (rows)."""
    first: dict[str, tuple[int, ActivityIn]] = {}
    kept: list[tuple[int, ActivityIn]] = []
    conflicts: list[tuple[int, int, str]] = []
    for number, event in numbered:
        held = first.setdefault(event.id, (number, event))
        if held[0] == number:
            kept.append((number, event))
        elif held[1] != event:
            conflicts.append((held[0], number, event.id))
    return kept, conflicts


class VolunteerShiftLogged(ShiftDetails):
    """The data of a cairn.activity.v1 record: a shift, with no personal data."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["volunteer_shift"] = "volunteer_shift"
    recipient_key: str = Field(pattern=r"^[0-9a-f]{64}$")


class EventsAccepted(BaseModel):
    """202 response: the ids Kafka acknowledged."""

    accepted: list[str]


class WorkshopAttendanceRecorded(BaseModel):
    """The data of a cairn.activity.v1 record: one attendance, with no personal data."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["workshop_attendance"] = "workshop_attendance"
    recipient_key: str = Field(pattern=r"^[0-9a-f]{64}$")
    series: PlainText
    session: PlainText
    attended_at: AwareDatetime
    minutes: float | None = None
    completed: bool = True


class ActivityVoided(BaseModel):
    """The data of a cairn.activity.v1 record that takes an activity back out."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["activity_voided"] = "activity_voided"
    recipient_key: str = Field(pattern=r"^[0-9a-f]{64}$")
    voids: PlainText
    reason: PlainText


ActivityData = Annotated[
    VolunteerShiftLogged | WorkshopAttendanceRecorded | ActivityVoided, Field(discriminator="kind")
]


class ActivityRecordValue(RootModel[ActivityData]):
    """The data of any cairn.activity.v1 record (a discriminated union on `kind`)."""


class OrgActivity(BaseModel):
    """An accepted activity as intake hands it to the publisher: the record's data with what its
    envelope carries and the data does not, the event's id (the aggregator's idempotency key)
    and its organisation."""

    model_config = ConfigDict(extra="forbid")

    event_id: str = Field(min_length=1, max_length=200)
    org_id: str = Field(min_length=1)
    activity: ActivityRecordValue


def activity_from_api(
    body: VolunteerShiftIn | WorkshopAttendanceIn | ActivityVoidedIn, key: str
) -> ActivityData:
    """The Kafka-side record: the API body with the person replaced by their recipient key."""
    if isinstance(body, VolunteerShiftIn):
        details = body.model_dump(include=set(ShiftDetails.model_fields))
        return VolunteerShiftLogged(recipient_key=key, **details)
    if isinstance(body, WorkshopAttendanceIn):
        return WorkshopAttendanceRecorded(
            recipient_key=key,
            series=body.series,
            session=body.session,
            attended_at=body.attended_at,
            minutes=body.minutes,
            completed=body.completed,
        )
    return ActivityVoided(recipient_key=key, voids=body.voids, reason=body.reason)


def event_time(shift: ShiftDetails) -> datetime:
    """Event time of a shift: when it ended (a shift counts once it is done)."""
    if shift.ended_at is not None:
        return shift.ended_at
    return shift.started_at + timedelta(seconds=shift.duration_seconds)
