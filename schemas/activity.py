"""Activity: what organisations post (API bodies) and what travels on cairn.activity.v1.

The API body carries the volunteer's email; the Kafka record carries only the recipient_key
(an HMAC of the normalised email under the organisation's secret), never personal data.
"""

from datetime import datetime, timedelta
from typing import Annotated, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field, RootModel, model_validator

MAX_SHIFT_HOURS = 24.0


class Volunteer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    name: str | None = Field(default=None, max_length=200)
    external_id: str | None = Field(default=None, max_length=200)


class ShiftDetails(BaseModel):
    """Fields shared by the API body and the Kafka record of a volunteer shift."""

    started_at: AwareDatetime
    ended_at: AwareDatetime | None = None
    hours: float | None = Field(default=None, gt=0, le=MAX_SHIFT_HOURS)
    program: str | None = Field(default=None, max_length=100)
    role: str | None = Field(default=None, max_length=100)
    site: str | None = Field(default=None, max_length=100)
    shift_id: str | None = Field(default=None, max_length=200)

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

    id: str = Field(min_length=1, max_length=200, description="Your idempotency key.")
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

    id: str = Field(min_length=1, max_length=200, description="Your idempotency key.")
    type: Literal["workshop_attendance"]
    attendee: Volunteer
    series: str = Field(min_length=1, max_length=100)
    session: str = Field(min_length=1, max_length=100)
    attended_at: AwareDatetime
    minutes: float | None = Field(default=None, gt=0, le=24 * 60)
    completed: bool = True


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

    id: str = Field(min_length=1, max_length=200, description="Your idempotency key for the void itself.")
    type: Literal["activity_voided"]
    voids: str = Field(min_length=1, max_length=200, description="The id of the event taken back.")
    reason: str = Field(min_length=1, max_length=500)
    volunteer: Volunteer = Field(description="Whose activity it was.")


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
    series: str
    session: str
    attended_at: AwareDatetime
    minutes: float | None = None
    completed: bool = True


class ActivityVoided(BaseModel):
    """The data of a cairn.activity.v1 record that takes an activity back out."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["activity_voided"] = "activity_voided"
    recipient_key: str = Field(pattern=r"^[0-9a-f]{64}$")
    voids: str
    reason: str


ActivityData = Annotated[
    VolunteerShiftLogged | WorkshopAttendanceRecorded | ActivityVoided, Field(discriminator="kind")
]


class ActivityRecordValue(RootModel[ActivityData]):
    """The data of any cairn.activity.v1 record (a discriminated union on `kind`)."""


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
