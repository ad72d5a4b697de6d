"""Badge classes: what an organisation awards and the criteria that earn it.

Published on the compacted topic cairn.badge-classes.v1 keyed org:badge_class; a tombstone
retires the class. Criteria are a tagged union so later criteria kinds slot in beside these.
"""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

SLUG = r"^[a-z0-9][a-z0-9-]{0,62}$"


class ActivityFilter(BaseModel):
    """Only activities whose fields equal these values count; None means any."""

    model_config = ConfigDict(extra="forbid")

    program: str | None = None
    role: str | None = None
    site: str | None = None


class TotalHours(BaseModel):
    """At least `at_least` hours over the matching volunteer shifts."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["total_hours"] = "total_hours"
    at_least: float = Field(gt=0, le=100_000)
    filter: ActivityFilter = Field(default_factory=ActivityFilter)


Criterion = Annotated[TotalHours, Field(discriminator="kind")]


class BadgeClassIn(BaseModel):
    """POST /v1/badge-classes body."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "pantry-10-hours",
                    "name": "Pantry volunteer: 10 hours",
                    "description": "Gave ten hours at the food bank's pantry.",
                    "criteria_narrative": "Log at least 10 hours of pantry shifts.",
                    "criteria": {"kind": "total_hours", "at_least": 10},
                }
            ]
        },
    )

    id: str = Field(pattern=SLUG, description="Stable slug, unique within the organisation.")
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=2000)
    criteria_narrative: str = Field(min_length=1, max_length=2000)
    image: HttpUrl | None = None
    criteria: Criterion


class BadgeClass(BadgeClassIn):
    """The record on cairn.badge-classes.v1 and the stored definition: BadgeClassIn plus owner and version."""

    org_id: str
    version: int = Field(ge=1)
