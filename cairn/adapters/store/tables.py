"""Table definitions. Contact details live only here, so erasing a person is a delete here."""

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from cairn.domain.badge_images import DEFAULT_COLOUR


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UtcDateTime}  # noqa: RUF012


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(500))
    email: Mapped[str | None] = mapped_column(String(320))
    image_url: Mapped[str | None] = mapped_column(String(500), doc="logo, shown as the issuer's image")
    colour: Mapped[str] = mapped_column(
        String(7), default=DEFAULT_COLOUR, doc="brand colour for emails and images"
    )
    timezone: Mapped[str] = mapped_column(
        String(64), default="UTC", doc="IANA name; calendar criteria count days, weeks and years in it"
    )
    language: Mapped[str] = mapped_column(
        String(35), default="en", doc="BCP 47: its badge texts' and volunteers' default"
    )
    secret_sealed: Mapped[bytes] = mapped_column(LargeBinary, doc="HMAC secret for recipient keys")
    created_at: Mapped[datetime]


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    key_hash: Mapped[str] = mapped_column(
        String(64), unique=True, doc="SHA-256 of the key; the key is shown once"
    )
    scopes: Mapped[str] = mapped_column(
        String(200), doc="space-separated; see SCOPES in cairn/domain/records.py"
    )
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class IssuerKey(Base):
    """Signing keys; none is ever deleted, so the DID document can list every key ever used."""

    __tablename__ = "issuer_keys"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    algorithm: Mapped[str] = mapped_column(String(10), default="Ed25519", doc="Ed25519 | RS256 | ES256")
    public_multibase: Mapped[str] = mapped_column(
        String(100), doc="Ed25519: Multikey; JWT keys: JWK thumbprint"
    )
    public_jwk: Mapped[dict | None] = mapped_column(JSON, doc="JWT keys only")
    secret_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
    active: Mapped[bool]


class BadgeClassRow(Base):
    __tablename__ = "badge_classes"

    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True)
    definition: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime]


class Recipient(Base):
    __tablename__ = "recipients"

    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    recipient_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str | None] = mapped_column(String(200))
    salt: Mapped[str] = mapped_column(String(64), doc="salt of the credential's identityHash")
    unsubscribed_at: Mapped[datetime | None] = mapped_column(
        doc="no more badge emails from this organisation"
    )
    language: Mapped[str | None] = mapped_column(
        String(35), doc="BCP 47: the language this person reads, as given or chosen on a page"
    )
    sort_name: Mapped[str] = mapped_column(
        String(200),
        default="",
        server_default="",
        doc="natural-sort key of the name (or email), for the volunteer list",
    )
    last_activity_at: Mapped[datetime | None] = mapped_column(doc="the latest activity accepted for them")

    __table_args__ = (
        Index("ix_recipients_org_sort_name", "org_id", "sort_name"),
        Index("ix_recipients_org_last_activity", "org_id", "last_activity_at"),
    )


class Credential(Base):
    __tablename__ = "credentials"
    __table_args__ = (UniqueConstraint("award_id", name="uq_credentials_award_id"),)

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    award_id: Mapped[str] = mapped_column(String(36))
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    badge_class_id: Mapped[str] = mapped_column(String(64))
    recipient_key: Mapped[str] = mapped_column(String(64), index=True)
    document: Mapped[dict] = mapped_column(JSON)
    issued_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default="active", doc="active | suspended | revoked")
    status_reason: Mapped[str | None] = mapped_column(String(500))
    badge_class_version: Mapped[int | None] = mapped_column(
        doc="the version of the class it was awarded under (None: issued before versions were kept)"
    )


class StatusEntry(Base):
    """A credential's index in its organisation's status lists (the same index in each)."""

    __tablename__ = "status_entries"
    __table_args__ = (UniqueConstraint("org_id", "status_index", name="uq_status_entries_index"),)

    credential_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    status_index: Mapped[int]


class StatusList(Base):
    __tablename__ = "status_lists"

    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(20), primary_key=True)
    bits: Mapped[bytes] = mapped_column(LargeBinary)
    document: Mapped[dict] = mapped_column(JSON, doc="the signed BitstringStatusListCredential")
    updated_at: Mapped[datetime]


class ClaimToken(Base):
    __tablename__ = "claim_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    credential_id: Mapped[str] = mapped_column(ForeignKey("credentials.id"), index=True)
    generation: Mapped[int] = mapped_column(default=0, doc="a resend makes the next; older ones stop working")
    expires_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]


class Notification(Base):
    __tablename__ = "notifications"

    credential_id: Mapped[str] = mapped_column(ForeignKey("credentials.id"), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(200))
    generation: Mapped[int] = mapped_column(default=0, doc="0 for the first email, +1 per resend")
    status: Mapped[str] = mapped_column(
        String(20),
        doc="sending | handed_over (to the relay, its answer awaited) | sent | bounced (5xx) | "
        "failed (gave up retrying) | suppressed (unsubscribed)",
    )
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    sent_at: Mapped[datetime | None]


class ProgressView(Base):
    """The latest ProgressUpdated per recipient, kept by the gateway for the progress API."""

    __tablename__ = "progress_views"

    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    recipient_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    as_of: Mapped[datetime]
    badges: Mapped[list] = mapped_column(JSON)
    pending_voids: Mapped[list] = mapped_column(JSON, default=list)
    closest: Mapped[float] = mapped_column(
        Float, default=0.0, server_default="0", doc="0..1, how near the badge they are nearest to and lack"
    )

    __table_args__ = (Index("ix_progress_views_org_closest", "org_id", "closest"),)


class SignInToken(Base):
    """A volunteer's "my badges" magic link: only its hash is kept, and it expires soon."""

    __tablename__ = "sign_in_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    expires_at: Mapped[datetime]


class WalletExchange(Base):
    """A VC-API exchange that hands a credential to a wallet once it proves its DID (DIDAuth)."""

    __tablename__ = "wallet_exchanges"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    credential_id: Mapped[str] = mapped_column(ForeignKey("credentials.id"))
    challenge: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime]
    holder: Mapped[str | None] = mapped_column(String(200), doc="the wallet's DID, once it answered")


class BadgeImage(Base):
    """An uploaded badge image (PNG, or SVG after sanitising); without one a default is drawn."""

    __tablename__ = "badge_images"

    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    badge_class_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(50))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime]


class AwardQuestionRow(Base):
    """An award a void undid (from cairn.award-questions.v1), until the organisation decides."""

    __tablename__ = "award_questions"

    award_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    badge_class_id: Mapped[str] = mapped_column(String(64))
    recipient_key: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(500))
    evidence: Mapped[list] = mapped_column(JSON)
    questioned_at: Mapped[datetime]
    decision: Mapped[str | None] = mapped_column(String(20), doc="kept | revoked, once decided")


class DirectAwardRow(Base):
    """A direct award by its idempotency key, so posting it again issues nothing new. Holds no
    contact details: the digest is over the recipients' keyed hashes and the narrative."""

    __tablename__ = "direct_awards"

    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    badge_class_id: Mapped[str] = mapped_column(String(64))
    badge_class_version: Mapped[int]
    digest: Mapped[str] = mapped_column(String(64))
    recipients: Mapped[int]
    created_at: Mapped[datetime]


class CheckInSessionRow(Base):
    """A workshop session open for check-in through a signed link (issue 12)."""

    __tablename__ = "check_in_sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    series: Mapped[str] = mapped_column(String(100))
    session: Mapped[str] = mapped_column(String(100))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    host_confirms: Mapped[bool]
    created_at: Mapped[datetime]


class CheckInRow(Base):
    """A check-in at a session, by recipient key (the contact is in recipients): once per person."""

    __tablename__ = "check_ins"
    __table_args__ = (UniqueConstraint("session_id", "recipient_key", name="uq_check_ins_person"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("check_in_sessions.id"), index=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    recipient_key: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), doc="pending | posted | removed")
    checked_in_at: Mapped[datetime]


class WebhookEndpoint(Base):
    """An organisation's webhook endpoint; its signing secret sealed by the keyring."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    url: Mapped[str] = mapped_column(String(500))
    events: Mapped[list] = mapped_column(JSON)
    include_email: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str] = mapped_column(String(200), default="")
    secret_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
    disabled_at: Mapped[datetime | None]


class WebhookDelivery(Base):
    """One event to one endpoint (a replay is a new row, the next generation): its payload, and
    where its attempts stand."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("endpoint_id", "message_id", "generation"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    endpoint_id: Mapped[str] = mapped_column(ForeignKey("webhook_endpoints.id"), index=True)
    message_id: Mapped[str] = mapped_column(String(40))
    event_type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict] = mapped_column(JSON)
    generation: Mapped[int] = mapped_column(Integer, default=0)
    replay_of: Mapped[str | None] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(20), doc="pending | retrying | delivered | failed")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class WebhookAttempt(Base):
    """One POST of a delivery and the endpoint's answer (status, start of the body, time taken)."""

    __tablename__ = "webhook_attempts"

    delivery_id: Mapped[str] = mapped_column(ForeignKey("webhook_deliveries.id"), primary_key=True)
    attempt: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    status_code: Mapped[int | None] = mapped_column(Integer)
    answer: Mapped[str] = mapped_column(String(500))
    duration_ms: Mapped[int] = mapped_column(Integer)


class ActivityRow(Base):
    """Each accepted activity, for the volunteer's history (no personal data: the recipient key).
    A void is a row too, and the row it took back is marked with it."""

    __tablename__ = "activities"
    __table_args__ = (
        Index("ix_activities_person", "org_id", "recipient_key", "at"),
        Index("ix_activities_voids", "org_id", "voids"),  # a void waiting for its activity
    )

    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    # per person, as the aggregator counts them: an id reused for someone else is theirs too
    recipient_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    at: Mapped[datetime]
    seconds: Mapped[int | None] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(320), default="")
    voids: Mapped[str | None] = mapped_column(String(200), doc="on a void: the id it takes back")
    reason: Mapped[str | None] = mapped_column(String(500), doc="on a void: why")
    voided_by: Mapped[str | None] = mapped_column(String(200), doc="the void that took this back")
    void_reason: Mapped[str | None] = mapped_column(String(500))
    data: Mapped[dict | None] = mapped_column(
        JSON, doc="the record as cairn.activity.v1 carries it (no contact details): the builder's dry run"
    )
