"""The records the use cases and the pages share: plain values read from the store, no ORM rows."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

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
    language: str = "en"  # BCP 47: its badge texts' language, and volunteers' unless theirs is known


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
    language: str | None = None  # BCP 47, as given in an event or chosen on a page


@dataclass(frozen=True)
class RecipientRecord:
    """A person's contact details as one organisation keeps them (erasure deletes this)."""

    org_id: str
    recipient_key: str
    email: str
    name: str | None
    salt: str
    unsubscribed_at: datetime | None
    language: str | None = None


@dataclass(frozen=True)
class CredentialRecord:
    """A signed credential as stored; `document` is the signed JSON, never edited in place."""

    id: str
    award_id: str
    org_id: str
    badge_class_id: str
    recipient_key: str
    document: dict[str, Any]
    issued_at: datetime
    status: str  # active | suspended | revoked
    status_reason: str | None
    badge_class_version: int | None = None  # None: issued before versions were recorded


@dataclass(frozen=True)
class StatusListRecord:
    org_id: str
    purpose: str
    bits: bytes
    document: dict[str, Any]  # the signed BitstringStatusListCredential
    updated_at: datetime


@dataclass(frozen=True)
class NotificationRecord:
    credential_id: str
    message_id: str
    generation: int  # 0 for the first email, +1 per resend
    status: str  # sending | sent | bounced | failed | suppressed
    attempts: int
    last_error: str | None
    sent_at: datetime | None


@dataclass(frozen=True)
class WalletExchangeRecord:
    """A VC-API exchange that hands a credential to a wallet once it proves its DID."""

    id: str
    credential_id: str
    challenge: str
    expires_at: datetime
    holder: str | None


@dataclass(frozen=True)
class BadgeImageRecord:
    org_id: str
    badge_class_id: str
    content_type: str
    data: bytes
    updated_at: datetime


@dataclass(frozen=True)
class QuestionRecord:
    """An award a void undid, until the organisation decides (kept | revoked)."""

    award_id: str
    org_id: str
    badge_class_id: str
    recipient_key: str
    reason: str
    evidence: list[Any]
    questioned_at: datetime
    decision: str | None


@dataclass(frozen=True)
class Claim:
    """What a claim link led to: its credential (None for an unknown link), and whether it expired."""

    credential: CredentialRecord | None
    expired: bool
    first: bool = False  # this opening claimed it (the link was never opened before)


@dataclass(frozen=True)
class SealedKey:
    """A freshly minted issuer key as the store keeps it: public parts in clear, secret sealed."""

    algorithm: str  # Ed25519 | RS256 | ES256
    public_multibase: str  # Ed25519: Multikey; JWT keys: JWK thumbprint
    public_jwk: dict[str, Any] | None
    secret_sealed: bytes


@dataclass(frozen=True)
class DirectAwardRecord:
    """A direct award as first posted under its idempotency key: what a repeat is checked against
    (`digest`, of the recipients' keys and the narrative) and replayed with (version, time)."""

    org_id: str
    idempotency_key: str
    badge_class_id: str
    badge_class_version: int
    digest: str
    recipients: int
    created_at: datetime


@dataclass(frozen=True)
class CheckInSessionRecord:
    """A workshop session the host opened check-in for: its link works from `starts_at` minus
    CAIRN_CHECK_IN_OPENS_MINUTES to `ends_at` plus CAIRN_CHECK_IN_CLOSES_MINUTES."""

    id: str
    org_id: str
    series: str
    session: str
    starts_at: datetime
    ends_at: datetime
    host_confirms: bool
    created_at: datetime


@dataclass(frozen=True)
class CheckInRecord:
    """One person's check-in at a session: pending (host confirms), posted, or removed (voided).
    No contact details: those are the organisation's recipients, by key."""

    id: str
    session_id: str
    org_id: str
    recipient_key: str
    status: str
    checked_in_at: datetime
