"""The records the use cases and the pages share: plain values read from the store, no ORM rows."""

from dataclasses import dataclass
from datetime import datetime

API_KEY_PREFIX = "cairn_"
SCOPES = {  # what each API-key scope allows, as the dashboard explains it
    "events:write": "post activity (one, a batch, or CSV)",
    "badges:write": "create and change badge classes and their images",
    "credentials:write": "revoke, suspend, unsuspend, resend claim emails",
    "read": "read badge classes, progress, credentials, exports",
    "org:admin": "manage API keys and the profile; erase a person's data",
}


@dataclass(frozen=True)
class Org:
    id: str
    slug: str
    name: str
    url: str | None
    email: str | None
    image_url: str | None
    colour: str
    timezone: str = "UTC"


@dataclass(frozen=True)
class ApiKeyInfo:
    id: str
    org: Org
    name: str
    scopes: frozenset[str]
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class RecipientContact:
    email: str
    name: str | None
    salt: str
    unsubscribed: bool = False
