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
