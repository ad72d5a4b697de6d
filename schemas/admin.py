"""Bodies of the organisation and credential API responses."""

from datetime import datetime

from pydantic import BaseModel


class BadgeClassStored(BaseModel):
    id: str
    version: int


class CredentialSummary(BaseModel):
    id: str
    badge_class_id: str
    issued_at: datetime
    status: str
