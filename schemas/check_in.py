"""Workshop check-in: a host opens a session of a series for check-in (a signed link and its QR
code); attendees give their name and email, and each check-in becomes a workshop_attendance
event through the same intake and contract as POST /v1/events."""

from datetime import timedelta
from typing import Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field, model_validator

from schemas.text import PlainText


class CheckInSessionIn(BaseModel):
    """What the host opens check-in for: one session of a series, when it runs, and whether
    each check-in waits for the host's click before it is posted."""

    model_config = ConfigDict(extra="forbid")

    series: PlainText = Field(min_length=1, max_length=100)
    session: PlainText = Field(min_length=1, max_length=100)
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    host_confirms: bool = False

    @model_validator(mode="after")
    def _a_session_long(self) -> Self:
        if not self.starts_at < self.ends_at <= self.starts_at + timedelta(hours=24):
            raise ValueError("a session ends after it starts, within 24 hours")
        return self


class CheckInIn(BaseModel):
    """What an attendee types on their phone."""

    model_config = ConfigDict(extra="forbid")

    name: PlainText = Field(min_length=1, max_length=200)
    email: EmailStr
