"""Bodies of the organisation and credential API responses."""

from datetime import datetime

from pydantic import BaseModel, EmailStr

from schemas.awards import BadgeProgress


class BadgeClassStored(BaseModel):
    id: str
    version: int


class CredentialSummary(BaseModel):
    id: str
    badge_class_id: str
    issued_at: datetime
    status: str


class RecipientProgress(BaseModel):
    """GET /v1/recipients/{email}/progress."""

    email: EmailStr
    badges: list[BadgeProgress]
