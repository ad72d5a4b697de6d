"""Badge classes: what an organisation awards and the criteria that earn it.

Published on the compacted topic cairn.badge-classes.v1 keyed org:badge_class; a tombstone
retires the class. Criteria are a tagged union so later criteria kinds slot in beside these.
"""

from functools import cache
from typing import Annotated, Literal, Self
from zoneinfo import available_timezones

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from schemas.text import ParagraphText, PlainText, WebUrl

SLUG = r"^[a-z0-9][a-z0-9-]{0,62}$"


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def _known_zone(name: str) -> str:
    if name not in _zone_names():
        raise ValueError(f"{name!r} is not an IANA time zone name (e.g. Europe/London, America/Chicago, UTC)")
    return name


TimeZoneName = Annotated[
    str,
    Field(min_length=1, max_length=64, examples=["Europe/London"]),
    AfterValidator(_known_zone),
]


class ActivityFilter(BaseModel):
    """Only activities whose fields equal these values count; None means any."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["volunteer_shift", "workshop_attendance"] | None = None
    program: PlainText | None = None
    role: PlainText | None = None
    site: PlainText | None = None
    series: PlainText | None = None


class _Leaf(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filter: ActivityFilter = Field(default_factory=ActivityFilter)
    within_days: int | None = Field(
        default=None, ge=1, le=3660, description="Only activity inside a rolling window of this many days."
    )


class TotalHours(_Leaf):
    """At least `at_least` hours over the matching activities (shift hours, workshop minutes / 60)."""

    kind: Literal["total_hours"] = "total_hours"
    at_least: float = Field(gt=0, le=100_000)


class ActivityCount(_Leaf):
    """At least `at_least` matching activities."""

    kind: Literal["count"] = "count"
    at_least: int = Field(ge=1, le=100_000)


class DistinctCount(_Leaf):
    """At least `at_least` distinct values of `field` (sessions of a series, days, sites);
    with `of`, only those named values count: "3 of these 4 sessions"."""

    kind: Literal["distinct"] = "distinct"
    field: Literal["session", "day", "site", "program", "series"]
    at_least: int = Field(ge=1, le=100_000)
    of: list[PlainText] | None = Field(default=None, min_length=1)


class Streak(_Leaf):
    """Matching activity in each of `weeks` consecutive ISO weeks."""

    kind: Literal["streak"] = "streak"
    weeks: int = Field(ge=2, le=520)


class HoldsBadge(BaseModel):
    """The recipient already holds this badge class of the same organisation (pathways)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["holds_badge"] = "holds_badge"
    badge: str = Field(pattern=SLUG)


class AllOf(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["all"] = "all"
    of: list["Criterion"] = Field(min_length=1, max_length=20)


class AnyOf(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["any"] = "any"
    of: list["Criterion"] = Field(min_length=1, max_length=20)


class AtLeastOf(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["at_least_of"] = "at_least_of"
    n: int = Field(ge=1)
    of: list["Criterion"] = Field(min_length=1, max_length=20)

    @model_validator(mode="after")
    def _n_fits(self) -> Self:
        if self.n > len(self.of):
            raise ValueError(f"n is {self.n} but only {len(self.of)} criteria are given")
        return self


Criterion = Annotated[
    TotalHours | ActivityCount | DistinctCount | Streak | HoldsBadge | AllOf | AnyOf | AtLeastOf,
    Field(discriminator="kind"),
]
AllOf.model_rebuild()
AnyOf.model_rebuild()
AtLeastOf.model_rebuild()


Glyph = Literal["star", "heart", "hands", "clock", "apple", "wrench", "book", "leaf", "people", "house"]
Shape = Literal["circle", "shield", "hexagon", "rosette", "square"]


PANTRY_EXAMPLE = {
    "id": "pantry-10-hours",
    "name": "Pantry volunteer: 10 hours",
    "description": "Gave ten hours at the food bank's pantry.",
    "criteria_narrative": "Log at least 10 hours of pantry shifts.",
    "criteria": {"kind": "total_hours", "at_least": 10},
}


class BadgeClassIn(BaseModel):
    """POST /v1/badge-classes body."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [PANTRY_EXAMPLE]},
    )

    id: str = Field(pattern=SLUG, description="Stable slug, unique within the organisation.")
    name: PlainText = Field(min_length=1, max_length=200)
    description: ParagraphText = Field(min_length=1, max_length=2000)
    criteria_narrative: ParagraphText = Field(min_length=1, max_length=2000)
    image: WebUrl | None = None
    glyph: Glyph | None = Field(
        default=None,
        description="The picture on the drawn badge image (used when no image is uploaded); "
        "unset: chosen from the badge's words, else from its id.",
        exclude_if=lambda value: value is None,  # records without one read as before
    )
    shape: Shape | None = Field(
        default=None,
        description="The outline of the drawn badge image; unset: chosen from the badge's id.",
        exclude_if=lambda value: value is None,
    )
    tags: list[Annotated[PlainText, Field(min_length=1, max_length=50)]] = Field(
        default_factory=list, max_length=20, description="Keywords, shown in the credential's Achievement."
    )
    repeat: Literal["calendar_year", "each_multiple"] | None = Field(
        default=None,
        description="calendar_year: earned again each year the criteria are met within that year; "
        "each_multiple: earned again at every multiple of a top-level total_hours or count requirement.",
    )
    expires_after_days: int | None = Field(
        default=None,
        ge=1,
        le=36500,
        description="Credentials expire (validUntil) this many days after issue.",
    )
    manual_only: bool = Field(
        default=False,
        description="Awarded only directly by a coordinator (POST /v1/badge-classes/{id}/awards): "
        "no criteria, no repeat.",
        exclude_if=lambda value: not value,
    )
    criteria: Criterion | None = Field(default=None, description="Required unless manual_only.")

    @model_validator(mode="after")
    def _repeat_fits(self) -> Self:
        if self.manual_only:
            if self.criteria is not None or self.repeat is not None:
                raise ValueError("a manual_only badge class has no criteria and no repeat")
            return self
        if self.criteria is None:
            raise ValueError("criteria is required unless manual_only is true")
        if self.repeat == "each_multiple" and not isinstance(self.criteria, TotalHours | ActivityCount):
            raise ValueError("repeat each_multiple needs a top-level total_hours or count criterion")
        return self


class BadgeClass(BadgeClassIn):
    """The record on cairn.badge-classes.v1 and the stored definition: BadgeClassIn plus owner and version."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{**PANTRY_EXAMPLE, "org_id": "6f1c2a8e-org", "version": 1}]},
    )

    org_id: str
    version: int = Field(ge=1)
    timezone: TimeZoneName = Field(
        default="UTC",
        description="The organisation's time zone when the class was published: calendar criteria "
        "(calendar_year, streak weeks, distinct days) count in it, whatever offset an event was written in.",
    )
