"""Bodies of the organisation and credential API responses."""

import re
import unicodedata
from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator

from schemas.awards import BadgeProgress
from schemas.badge_class import TimeZoneName
from schemas.text import LanguageTag, PlainText, WebUrl

ORG_SLUG = r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$"


def _valid_slug(slug: str) -> str:
    if not re.fullmatch(ORG_SLUG, slug):
        raise ValueError(
            f"{slug!r} is not a slug: use 1 to 64 lowercase letters a-z, digits and inner hyphens "
            f"(e.g. {slug_from_name(slug) or 'riverside'!r}); it names the organisation's did:web"
        )
    return slug


OrgSlug = Annotated[
    str,
    AfterValidator(_valid_slug),
    Field(
        json_schema_extra={"pattern": ORG_SLUG},
        description="Lowercase ASCII letters, digits and inner hyphens (it names the did:web).",
        examples=["riverside"],
    ),
]


def slug_from_name(name: str) -> str:
    """The one rule for a slug from an organisation's name: transliterated to ASCII, lowercased,
    every run of other characters one hyphen ("Café & Co / Soup Kitchen" -> cafe-co-soup-kitchen).
    Empty if nothing of the name survives (then a slug must be given)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:64].rstrip("-")


class BadgeClassStored(BaseModel):
    id: str
    version: int


class CredentialSummary(BaseModel):
    id: str
    badge_class_id: str
    issued_at: datetime
    status: str = Field(description="active | suspended | revoked")
    status_reason: str | None = None
    email_status: str = Field(
        default="pending",
        description="pending | sending | handed_over (the mail server has it, its answer awaited) | "
        "sent | bounced (refused by the mail server) | "
        "failed (still refused after retries) | suppressed (the earner unsubscribed, or the "
        "credential was revoked or suspended before it went)",
    )
    email_error: str | None = Field(
        default=None,
        description='the mail server\'s last answer, if it refused; for a sent email, "unconfirmed: ..." '
        "when its notifier stopped before the server's answer (it may not have arrived: resend it)",
    )


class ResendAccepted(BaseModel):
    """POST /v1/credentials/{id}/resend: the new claim email is on its way."""

    credential_id: str
    claim_generation: int = Field(description="1 for the first resend; earlier links stop working")


class RecipientProgress(BaseModel):
    """GET /v1/recipients/{email}/progress."""

    email: EmailStr
    badges: list[BadgeProgress]
    pending_voids: list[str] = Field(
        default_factory=list,
        description="Ids your voids named that were never posted for this person (yet): check them.",
    )


class StatusChangeIn(BaseModel):
    """POST /v1/credentials/{id}/revoke | suspend | unsuspend."""

    reason: PlainText | None = Field(default=None, max_length=500, examples=["awarded by mistake"])


class CheckResult(BaseModel):
    check: str = Field(description="shape | issuer key | proof | status | validity")
    ok: bool
    reason: str = Field(description="why the check failed or was not made (empty when it passed)")
    checked: bool = Field(
        default=True,
        description="false when the check could not be made (a status list that may not or cannot "
        "be fetched); a warning, not a failure, unless the status is required",
    )


class VerificationResult(BaseModel):
    """POST /v1/verify: each check of the credential, with its reason."""

    valid: bool = Field(
        description="the proof, issuer key, shape and validity period hold, and the status is not "
        "revoked or suspended (or could not be checked, unless required)"
    )
    outcome: Literal["valid", "valid_status_not_checked", "not_valid"] = Field(
        description="valid; valid, but the status list could not be fetched (see the status check); "
        "or not valid"
    )
    status_checked: bool = Field(description="the credential's status lists were fetched and checked")
    checks: list[CheckResult]


Colour = Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$", examples=["#2e6b4f"])]


class OrgProfile(BaseModel):
    """GET /v1/org: how the organisation appears in credentials, emails and pages."""

    id: str
    slug: str
    name: str
    url: str | None
    email: str | None
    image_url: str | None = Field(description="logo")
    colour: str
    timezone: str = Field(
        description="IANA time zone: calendar criteria (yearly badges, streak weeks, distinct days) of "
        "badge classes published from now on count in it"
    )
    language: str = Field(
        default="en",
        description="BCP 47 tag: the language of the organisation's badge texts (the credential's "
        "inLanguage) and of emails and pages for volunteers whose own language is not known",
    )


class OrgProfileUpdate(BaseModel):
    """PATCH /v1/org: the fields given change; the others stay."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"colour": "#1d4e89"}]})

    name: PlainText | None = Field(default=None, min_length=1, max_length=200)
    url: WebUrl | None = None
    email: EmailStr | None = None
    image_url: WebUrl | None = None
    colour: Colour | None = None
    timezone: TimeZoneName | None = None
    language: LanguageTag | None = None

    @field_validator("name", "colour", "timezone", "language")
    @classmethod
    def _not_cleared(cls, value: str | None) -> str:
        """null clears url, email and image_url; an organisation always has a name, a colour, a time zone
        and a language."""
        if value is None:
            raise ValueError("cannot be cleared (null); leave it out to keep it")
        return value


class OrgCreateIn(BaseModel):
    """POST /admin/v1/orgs (platform admin)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "Riverside Food Bank", "slug": "riverside"}]},
    )

    name: PlainText = Field(min_length=1, max_length=200, description="Free text, shown as the issuer.")
    slug: OrgSlug | None = Field(default=None, description="Default: derived from the name.")
    url: WebUrl | None = None
    email: EmailStr | None = None
    image_url: WebUrl | None = None

    @model_validator(mode="after")
    def _slug(self) -> Self:
        if self.slug is None:
            derived = slug_from_name(self.name)
            if not derived:
                raise ValueError(
                    f"no slug can be made from the name {self.name!r}; give one (e.g. riverside)"
                )
            self.slug = derived
        return self

    @property
    def given_slug(self) -> str:
        assert self.slug is not None  # set by the validator
        return self.slug


class OrgCreated(BaseModel):
    id: str
    slug: str
    api_key: str = Field(description="all scopes; shown this once, stored only as a hash")


class ApiKeyCreateIn(BaseModel):
    """POST /v1/api-keys."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"name": "rota sync", "scopes": ["events:write"]}]}
    )

    name: PlainText = Field(min_length=1, max_length=100)
    scopes: list[Literal["events:write", "badges:write", "credentials:write", "read", "org:admin"]] = Field(
        min_length=1
    )


class ApiKeyOut(BaseModel):
    id: str
    name: str
    scopes: list[str]
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="shown this once, stored only as a hash")


class CsvRowError(BaseModel):
    row: int = Field(description="the file's line; the header is row 1")
    column: str | None
    message: str


class CsvImportResult(BaseModel):
    """POST /v1/events/csv: with dry_run, what would be posted; without, what was."""

    dry_run: bool
    kind: str
    columns: dict[str, str] = Field(description="each field Cairn read, and the column it read it from")
    rows: int = Field(description="rows that became events")
    errors: list[CsvRowError]
    accepted: list[str] = Field(description="event ids Kafka acknowledged (empty in a dry run)")
    preview: list[dict] = Field(description="the first events, as they would be posted")


class PersonExport(BaseModel):
    """GET /v1/recipients/{email}/export: everything the organisation holds about one person."""

    contact: dict
    credentials: list[dict]
    progress: list[dict]


class AwardQuestionOut(BaseModel):
    """GET /v1/award-questions: an award a void undid. Nothing was revoked; you decide."""

    award_id: str
    credential_id: str
    badge_class_id: str
    email: str | None = Field(description="None if the person's data was erased")
    reason: str
    evidence: list[dict] = Field(description="the figures as they stand now")
    questioned_at: datetime
    credential_status: str | None
    decision: str | None = Field(description="kept | revoked, once decided")
    badge_name: str | None = Field(default=None, description="the badge class's name")
    voided_activity_id: str | None = Field(
        default=None, description="the activity whose void undid the award, if the gateway accepted it"
    )
    voided_activity: str | None = Field(
        default=None, description="that activity in words: kind, date, program or session"
    )
    void_reason: str | None = Field(default=None, description="the reason given in the void")
