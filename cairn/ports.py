"""The ports: what the use cases need from the world, as typing.Protocol classes.

The adapters in cairn/adapters/ implement them for real (Kafka, SQLAlchemy, the keyring, SMTP);
tests/service/ implements them in memory. A use case names only these, never an adapter."""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import BaseModel

from cairn.credentials import vc_jwt
from cairn.domain.failures import Permanent, Transient
from cairn.domain.records import (
    ApiKeyInfo,
    BadgeImageRecord,
    CheckInRecord,
    CheckInSessionRecord,
    Claim,
    CredentialRecord,
    DirectAwardRecord,
    NotificationRecord,
    Org,
    QuestionRecord,
    RecipientContact,
    RecipientRecord,
    SealedKey,
    StatusListRecord,
    WalletExchangeRecord,
)
from cairn.domain.volunteers import ActivityEntry, BadgeStats, VolunteerPage, VolunteerQuery
from cairn.domain.webhooks import Attempt, Delivery, Endpoint
from schemas.activity import ActivityData
from schemas.awards import AwardQuestioned, BadgeProgress, ProgressUpdated
from schemas.badge_class import BadgeClass, BadgeClassIn

# ---- publishing ----


class Publisher(Protocol):
    """Puts records on Kafka. The adapter (cairn.adapters.kafka.publisher) finds each record's
    topic, CloudEvent type and key from its type in one topic table; a use case never names a topic."""

    async def publish(self, record: BaseModel) -> None:
        """Publishes one record and returns once the broker has acknowledged it (acks=all)."""
        ...

    async def publish_all(self, records: Sequence[BaseModel]) -> None:
        """Sends every record, then waits for every acknowledgement (one batch, not one round
        trip per record)."""
        ...


# ---- mail and time ----


class HandOver(Protocol):
    """Where a sender records that a message is in the relay's hands, for whoever finds the email
    after the sender died: SMTP cannot say afterwards whether the server took it (RFC 1047), so a
    successor must not send it again, and must send one the relay never took."""

    async def handing(self) -> None:
        """The relay has the message but for its final line: record that first. Raises
        HandOverFailed (the final line is not sent) when it cannot be recorded, or the email is
        no longer this sender's."""
        ...

    async def not_taken(self) -> None:
        """DATA failed, or the relay stayed silent after it longer than an answer takes: the
        message is not in the relay's hands after all. Never raises."""
        ...


class Mailer(Protocol):
    """Sends one email, retrying what a retry can fix; raises MailRefused or MailNotSent."""

    async def send(
        self,
        message: EmailMessage,
        still_wanted: Callable[[], Awaitable[bool]] | None = None,
        hand_over: HandOver | None = None,
    ) -> str:
        """Returns the server's answer to the accepted message. `still_wanted` is asked before
        each retry: False stops the retries (MailNotSent), as when another sender took over.
        `hand_over` is told around each DATA."""
        ...


class HandOverFailed(Transient):
    """The hand-over could not be recorded (the database is away, or another sender has the
    email now): the message was not sent, and the record is tried again."""


class MailRefused(Permanent):
    """The server refused the message for good (5xx): the address bounced."""


class MailNotSent(Transient):
    """Still failing after every retry: with a 4xx about this recipient (mailbox full,
    greylisted), or (`unreachable`) with the relay in trouble: no server, a dropped or silent
    connection, 421, a 4xx to MAIL FROM or DATA. The notifier records the first as failed; the
    second it leaves to the consumer to retry (up to `smtp_give_up_after_rounds`)."""

    def __init__(self, reason: str, unreachable: bool) -> None:
        super().__init__(reason)
        self.unreachable = unreachable


@dataclass(frozen=True)
class Answer:
    """What a webhook endpoint said: its status (None: no answer) and the start of its body, or
    why there was no answer."""

    status_code: int | None
    text: str
    duration_ms: int


class Poster(Protocol):
    """POSTs a signed webhook body to an endpoint (cairn.adapters.webhook_http). The endpoint's
    failures and an address the URL policy forbids are answers to log, never exceptions."""

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> Answer: ...


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, UTC-aware."""
        ...


class SystemClock:
    """The real clock: the default a use case falls back on, so callers that do not care about
    time (every production caller) need not pass one."""

    def now(self) -> datetime:
        return datetime.now(UTC)


SYSTEM_CLOCK = SystemClock()


# ---- the store and the keyring: one Protocol per concern of the store; `Store` is all of them,
# which is what the services are given (cairn.adapters.store.Store fits it, and so do the fakes in
# tests/service/fakes_store.py) ----


class Keyring(Protocol):
    """Every secret derived from the master key; the store keeps only what this seals."""

    def new_org_secret(self, org_id: str) -> bytes: ...
    def org_secret(self, org_id: str, sealed: bytes) -> bytes: ...
    def recipient_key(self, org_id: str, sealed_secret: bytes, email: str) -> str: ...
    def mint_ed25519(self, org_id: str) -> SealedKey: ...
    def unseal_ed25519(self, org_id: str, sealed: bytes) -> Ed25519PrivateKey: ...
    def mint_jwt_key(self, org_id: str, alg: vc_jwt.Algorithm) -> tuple[vc_jwt.PrivateKey, SealedKey]: ...
    def unseal_jwt_key(self, org_id: str, sealed: bytes) -> vc_jwt.PrivateKey: ...
    def mint_api_key(self) -> str: ...
    def mint_token(self, nbytes: int = 32) -> str: ...
    def new_salt(self) -> str: ...
    def unlinkable_key(self) -> str: ...
    def session_mac(self, value: str) -> str: ...
    def claim_token(self, credential_id: str, generation: int = 0) -> str: ...
    def unsubscribe_code(self, org_id: str, recipient_key: str) -> str: ...
    def unsubscribe_code_matches(self, org_id: str, recipient_key: str, code: str) -> bool: ...
    def check_in_code(self, session_id: str) -> str: ...
    def check_in_code_matches(self, session_id: str, code: str) -> bool: ...
    def seal_webhook_secret(self, endpoint_id: str, secret: str) -> bytes: ...
    def unseal_webhook_secret(self, endpoint_id: str, sealed: bytes) -> str: ...


class SchemaStore(Protocol):
    async def create_schema(self) -> None: ...
    async def close(self) -> None: ...


class SlugTaken(ValueError):
    """What `create_org` raises when another organisation has the slug, even one made a moment
    ago by a request racing this one (the use case maps it to OrgExists)."""


class OrganisationStore(Protocol):
    """Organisations, their API keys, issuer keys, profile, badge classes and badge images."""

    async def create_org(
        self,
        name: str,
        slug: str,
        url: str | None = None,
        email: str | None = None,
        image_url: str | None = None,
    ) -> tuple[Org, str]: ...
    async def create_api_key(self, org_id: str, name: str, scopes: set[str]) -> tuple[str, str]: ...
    async def api_key(self, key: str) -> ApiKeyInfo | None: ...
    async def api_key_by_id(self, key_id: str) -> ApiKeyInfo | None: ...
    async def api_keys(self, org_id: str) -> list[ApiKeyInfo]: ...
    async def revoke_api_key(self, org_id: str, key_id: str) -> bool: ...
    def session_mac(self, value: str) -> str: ...
    async def org(self, org_id: str) -> Org | None: ...
    async def org_by_slug(self, slug: str) -> Org | None: ...
    async def org_secret(self, org_id: str) -> bytes: ...
    async def recipient_key_of(self, org_id: str, email: str) -> str: ...
    async def update_org_profile(self, org_id: str, changes: dict[str, Any]) -> Org: ...
    async def rotate_issuer_key(self, org_id: str) -> str: ...
    async def issuer_public_keys(self, org_id: str) -> list[str]: ...
    async def issuer_jwks(self, org_id: str) -> list[dict[str, Any]]: ...
    async def jwt_key(self, org_id: str, alg: vc_jwt.Algorithm) -> tuple[vc_jwt.PrivateKey, str]: ...
    async def issuer_key(self, org_id: str) -> Ed25519PrivateKey: ...
    async def save_badge_class(
        self, org_id: str, body: BadgeClassIn, timezone: str = "UTC"
    ) -> BadgeClass: ...
    async def badge_class(
        self, org_id: str, badge_id: str, version: int | None = None
    ) -> BadgeClass | None: ...
    async def badge_classes(self, org_id: str) -> list[BadgeClass]: ...
    async def set_badge_image(
        self, org_id: str, badge_class_id: str, content_type: str, data: bytes
    ) -> None: ...
    async def badge_image(self, org_id: str, badge_class_id: str) -> BadgeImageRecord | None: ...


class CredentialStore(Protocol):
    """Signed credentials, their status-list indexes and the signed status lists."""

    async def insert_credential(
        self,
        *,
        credential_id: str,
        award_id: str,
        org_id: str,
        badge_class_id: str,
        recipient_key: str,
        document: dict[str, Any],
        issued_at: datetime,
        badge_class_version: int | None = None,
    ) -> tuple[CredentialRecord, bool]: ...
    async def status_index(self, org_id: str, credential_id: str) -> int: ...
    async def status_list(self, org_id: str, purpose: str) -> StatusListRecord | None: ...
    async def save_status_list(
        self, org_id: str, purpose: str, bits: bytes, document: dict[str, Any]
    ) -> None: ...
    async def change_status(
        self,
        org_id: str,
        credential_id: str,
        new_status: str,
        reason: str | None,
        flips: dict[str, bool],
        sign_list: Callable[[str, bytes], dict[str, Any]],
    ) -> CredentialRecord: ...
    async def credential_by_award(self, award_id: str) -> CredentialRecord | None: ...
    async def credential(self, credential_id: str) -> CredentialRecord | None: ...
    async def credentials(
        self,
        org_id: str,
        badge_class_id: str | None = None,
        recipient_key: str | None = None,
        status: str | None = None,
    ) -> list[CredentialRecord]: ...


class EarnerStore(Protocol):
    """The people credentials are for: contacts, claim and sign-in links, wallet exchanges,
    claim emails and unsubscribing, export and erasure."""

    async def upsert_recipients(self, org_id: str, people: dict[str, tuple[str, str | None]]) -> None: ...
    async def set_recipient_languages(self, org_id: str, languages: dict[str, str]) -> None: ...
    async def recipient(self, org_id: str, recipient_key: str) -> RecipientContact | None: ...
    async def recipients(self, org_id: str) -> list[RecipientRecord]: ...
    def claim_token_for(self, credential_id: str, generation: int = 0) -> str: ...
    async def ensure_claim_token(
        self, credential_id: str, token: str, ttl: timedelta, generation: int = 0
    ) -> None: ...
    async def claim(self, token: str) -> Claim: ...
    async def create_sign_in_token(self, email: str, ttl: timedelta) -> str: ...
    async def sign_in(self, token: str) -> str | None: ...
    async def earner_records(
        self, email: str
    ) -> list[tuple[Org, list[CredentialRecord], list[BadgeProgress]]]: ...
    async def create_exchange(self, credential_id: str, ttl: timedelta) -> WalletExchangeRecord: ...
    async def exchange(self, exchange_id: str) -> WalletExchangeRecord | None: ...
    async def complete_exchange(self, exchange_id: str, holder: str) -> bool: ...
    def unsubscribe_code(self, org_id: str, recipient_key: str) -> str: ...
    async def unsubscribe(self, org_id: str, recipient_key: str, code: str) -> bool: ...
    async def notifications(self, credential_ids: list[str]) -> dict[str, NotificationRecord]: ...
    async def notification(self, credential_id: str) -> NotificationRecord | None: ...
    async def record_notification(
        self, credential_id: str, message_id: str, status: str, error: str | None = None, generation: int = 0
    ) -> None: ...
    async def mark_handed_over(
        self, credential_id: str, generation: int, attempts: int, handed: bool
    ) -> bool:
        """Sets a "sending" email "handed_over" (at now, in sent_at), or back; only while the row
        is still this sender's (same generation and attempts). False if it is not."""
        ...

    async def person_export(self, org_id: str, recipient_key: str) -> dict[str, Any] | None: ...
    async def erase_person(self, org_id: str, recipient_key: str) -> bool: ...


class ReadModelStore(Protocol):
    """Projections of Kafka topics kept for the gateway: progress, award questions, counts."""

    async def save_question(self, question: AwardQuestioned) -> None: ...
    async def questions(self, org_id: str) -> list[QuestionRecord]: ...
    async def decide_question(self, org_id: str, award_id: str, decision: str) -> bool: ...
    async def save_progress(self, update: ProgressUpdated) -> None: ...
    async def progress(self, org_id: str, recipient_key: str) -> ProgressUpdated | None: ...
    async def progress_views(self, org_id: str) -> dict[str, list[BadgeProgress]]: ...
    async def award_counts(self, org_id: str) -> dict[str, int]: ...


class DirectAwardStore(Protocol):
    """Direct awards by their idempotency key (a repeated post issues nothing new)."""

    async def claim_direct_award(self, award: DirectAwardRecord) -> tuple[DirectAwardRecord, bool]: ...
    async def direct_awards(self, org_id: str) -> list[DirectAwardRecord]: ...


class CheckInStore(Protocol):
    """Workshop sessions open for check-in, and the check-ins at each."""

    def check_in_code(self, session_id: str) -> str: ...
    def check_in_code_matches(self, session_id: str, code: str) -> bool: ...
    async def create_check_in_session(self, session: CheckInSessionRecord) -> None: ...
    async def check_in_session(self, session_id: str) -> CheckInSessionRecord | None: ...
    async def check_in_sessions(self, org_id: str) -> list[CheckInSessionRecord]: ...
    async def add_check_in(self, check_in: CheckInRecord) -> tuple[CheckInRecord, bool]: ...
    async def check_ins(self, session_id: str) -> list[CheckInRecord]: ...
    async def set_check_in_status(self, check_in_id: str, old: str, new: str) -> CheckInRecord | None: ...


class WebhookStore(Protocol):
    """Webhook endpoints (secrets sealed), their deliveries and each attempt's answer."""

    async def create_webhook_endpoint(
        self, org_id: str, url: str, events: list[str], include_email: bool, description: str
    ) -> tuple[Endpoint, str]: ...
    async def webhook_endpoints(self, org_id: str) -> list[Endpoint]: ...
    async def webhook_endpoint(self, endpoint_id: str) -> Endpoint | None: ...
    async def webhook_secret(self, endpoint_id: str) -> str: ...
    async def disable_webhook_endpoint(self, org_id: str, endpoint_id: str) -> bool: ...
    async def add_webhook_delivery(self, delivery: Delivery) -> tuple[Delivery, bool]: ...
    async def webhook_delivery(self, delivery_id: str) -> Delivery | None: ...
    async def webhook_deliveries(
        self, org_id: str, endpoint_id: str | None = None, limit: int = 100
    ) -> list[Delivery]: ...
    async def record_webhook_attempt(
        self, delivery_id: str, attempt: Attempt, status: str, next_attempt_at: datetime | None
    ) -> bool: ...


class VolunteerStore(Protocol):
    """The volunteer list (search, sort, paging), each person's activity history as the gateway
    accepted it, and per-badge delivery counts for the overview."""

    async def record_activities(self, org_id: str, entries: Sequence[ActivityEntry]) -> None: ...
    async def activity_history(self, org_id: str, recipient_key: str) -> list[ActivityEntry]: ...
    async def activity(
        self, org_id: str, event_id: str, recipient_key: str | None = None
    ) -> ActivityEntry | None: ...
    async def volunteer_page(self, org_id: str, query: VolunteerQuery) -> VolunteerPage: ...
    async def progress_of(
        self, org_id: str, recipient_keys: Sequence[str]
    ) -> dict[str, list[BadgeProgress]]: ...
    async def credentials_of(self, org_id: str, recipient_keys: Sequence[str]) -> list[CredentialRecord]: ...
    async def badge_stats(self, org_id: str) -> dict[str, BadgeStats]: ...


class ActivityLogStore(Protocol):
    """Every accepted activity by person (recipient key), for dry runs of new criteria: read from
    the one history the gateway keeps as it accepts events (VolunteerStore.record_activities)."""

    async def activity_histories(self, org_id: str) -> dict[str, list[tuple[str, ActivityData]]]: ...


class Store(
    SchemaStore,
    OrganisationStore,
    CredentialStore,
    EarnerStore,
    ReadModelStore,
    DirectAwardStore,
    CheckInStore,
    WebhookStore,
    VolunteerStore,
    ActivityLogStore,
    Protocol,
):
    """The whole store, as a service is given it."""


# ---- end of the store and keyring section ----
