"""Bodies of the organisation and credential API responses."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, HttpUrl, field_validator

from schemas.awards import BadgeProgress


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
        description="pending | sending | sent | bounced (refused by the mail server) | "
        "failed (still refused after retries) | suppressed (the earner unsubscribed)",
    )
    email_error: str | None = Field(default=None, description="the mail server's last answer, if it refused")


class ResendAccepted(BaseModel):
    """POST /v1/credentials/{id}/resend: the new claim email is on its way."""

    credential_id: str
    claim_generation: int = Field(description="1 for the first resend; earlier links stop working")


class RecipientProgress(BaseModel):
    """GET /v1/recipients/{email}/progress."""

    email: EmailStr
    badges: list[BadgeProgress]


class StatusChangeIn(BaseModel):
    """POST /v1/credentials/{id}/revoke | suspend | unsuspend."""

    reason: str | None = Field(default=None, max_length=500, examples=["awarded by mistake"])


class CheckResult(BaseModel):
    check: str = Field(description="shape | issuer key | proof | status | validity")
    ok: bool
    reason: str = Field(description="why the check failed (empty when it passed)")


class VerificationResult(BaseModel):
    """POST /v1/verify: each check of the credential, with its reason."""

    valid: bool
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


class OrgProfileUpdate(BaseModel):
    """PATCH /v1/org: the fields given change; the others stay."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"colour": "#1d4e89"}]})

    name: str | None = Field(default=None, min_length=1, max_length=200)
    url: HttpUrl | None = None
    email: EmailStr | None = None
    image_url: HttpUrl | None = None
    colour: Colour | None = None

    @field_validator("name", "colour")
    @classmethod
    def _not_cleared(cls, value: str | None) -> str:
        """null clears url, email and image_url; an organisation always has a name and a colour."""
        if value is None:
            raise ValueError("cannot be cleared (null); leave it out to keep it")
        return value


class OrgCreateIn(BaseModel):
    """POST /admin/v1/orgs (platform admin)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "Riverside Food Bank", "slug": "riverside"}]},
    )

    name: str = Field(min_length=1, max_length=200)
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")
    url: HttpUrl | None = None
    email: EmailStr | None = None
    image_url: HttpUrl | None = None


class OrgCreated(BaseModel):
    id: str
    slug: str
    api_key: str = Field(description="all scopes; shown this once, stored only as a hash")


class ApiKeyCreateIn(BaseModel):
    """POST /v1/api-keys."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"name": "rota sync", "scopes": ["events:write"]}]}
    )

    name: str = Field(min_length=1, max_length=100)
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
