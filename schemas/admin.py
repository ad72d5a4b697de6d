"""Bodies of the organisation and credential API responses."""

from datetime import datetime

from pydantic import BaseModel, EmailStr, Field

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
