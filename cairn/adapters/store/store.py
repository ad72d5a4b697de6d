"""The store adapter: every query Cairn's services make, in one place."""

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)
from sqlalchemy import ColumnElement, Connection, delete, event, func, inspect, select, update
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from cairn.adapters.secrets import load_or_create_master_key, seal, unseal
from cairn.adapters.store import tables as t
from cairn.adapters.store.records import key_info, org_record, record, record_or_none
from cairn.credentials import vc_jwt
from cairn.credentials.multikey import public_key_multibase, secret_key_from_multibase
from cairn.credentials.multikey import secret_key_multibase as _secret_multibase
from cairn.credentials.status_list import empty_bits, random_index, set_bit
from cairn.domain import identity
from cairn.domain.badge_images import DEFAULT_COLOUR
from cairn.domain.identity import normalise_email
from cairn.domain.records import (
    API_KEY_PREFIX,
    SCOPES,
    ApiKeyInfo,
    BadgeImageRecord,
    CredentialRecord,
    NotificationRecord,
    Org,
    QuestionRecord,
    RecipientContact,
    RecipientRecord,
    StatusListRecord,
    WalletExchangeRecord,
)
from cairn.settings import Settings
from schemas.awards import AwardQuestioned, BadgeProgress, ProgressUpdated
from schemas.badge_class import BadgeClass, BadgeClassIn


def _now() -> datetime:
    return datetime.now(UTC)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Claim:
    credential: CredentialRecord | None
    expired: bool


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _: ConnectionPoolEntry) -> None:
    """WAL and a busy timeout let the gateway, signer and notifier share one SQLite file."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class StaleSchema(RuntimeError):
    """The database's tables lack columns this version of Cairn needs."""


def _missing_columns(conn: Connection) -> list[str]:
    inspector = inspect(conn)
    missing = []
    for table in t.Base.metadata.sorted_tables:
        present = {column["name"] for column in inspector.get_columns(table.name)}
        missing += [f"{table.name}.{column.name}" for column in table.columns if column.name not in present]
    return missing


class Store:
    def __init__(self, engine: AsyncEngine, master_key: bytes) -> None:
        self.engine = engine
        self._master_key = master_key
        self._session = async_sessionmaker(engine, expire_on_commit=False)

    async def create_schema(self) -> None:
        """Creates what is missing; a database an older Cairn made is refused by name, since
        Cairn has no migrations yet (create_all never adds a column to an existing table)."""
        async with self.engine.begin() as conn:
            await conn.run_sync(t.Base.metadata.create_all)
            missing = await conn.run_sync(_missing_columns)
        if missing:
            raise StaleSchema(
                f"the database (CAIRN_DATABASE_URL, or var/cairn.db) was made by an older Cairn: it lacks "
                f"{', '.join(missing)}. Cairn has no migrations yet; move that database aside "
                "(for the demo: make clean) and run again."
            )

    async def close(self) -> None:
        await self.engine.dispose()

    # organisations and API keys

    async def create_org(
        self,
        name: str,
        slug: str,
        url: str | None = None,
        email: str | None = None,
        image_url: str | None = None,
    ) -> tuple[Org, str]:
        """Creates the organisation with its first API key and issuer key; returns the key once."""
        org_id = str(uuid.uuid4())
        api_key = API_KEY_PREFIX + secrets.token_urlsafe(32)
        issuer = Ed25519PrivateKey.generate()
        now = _now()
        async with self._session.begin() as s:
            row = t.Organisation(
                id=org_id,
                slug=slug,
                name=name,
                url=url,
                email=email,
                image_url=image_url,
                colour=DEFAULT_COLOUR,
                timezone="UTC",
                secret_sealed=seal(self._master_key, secrets.token_bytes(32), f"org-secret:{org_id}"),
                created_at=now,
            )
            s.add(row)
            await s.flush()
            s.add(self._api_key_row(org_id, "default", api_key, set(SCOPES), now))
            s.add(self._issuer_key_row(org_id, issuer, now))
        return org_record(row), api_key

    def _api_key_row(self, org_id: str, name: str, key: str, scopes: set[str], now: datetime) -> t.ApiKey:
        unknown = scopes - set(SCOPES)
        if unknown:
            raise ValueError(f"unknown scopes: {', '.join(sorted(unknown))}")
        return t.ApiKey(
            id=str(uuid.uuid4()),
            org_id=org_id,
            name=name,
            key_hash=_sha256(key),
            scopes=" ".join(sorted(scopes)),
            created_at=now,
            revoked_at=None,
        )

    async def create_api_key(self, org_id: str, name: str, scopes: set[str]) -> tuple[str, str]:
        """A new key for the organisation: (its id, the key itself, shown this once)."""
        key = API_KEY_PREFIX + secrets.token_urlsafe(32)
        row = self._api_key_row(org_id, name, key, scopes, _now())
        async with self._session.begin() as s:
            s.add(row)
        return row.id, key

    async def api_key(self, key: str) -> ApiKeyInfo | None:
        """The unrevoked key and its organisation, looked up by the key's hash."""
        return await self._live_key(t.ApiKey.key_hash == _sha256(key))

    async def api_key_by_id(self, key_id: str) -> ApiKeyInfo | None:
        """An unrevoked key by its id (a dashboard session holds the id, never the key)."""
        return await self._live_key(t.ApiKey.id == key_id)

    async def _live_key(self, condition: ColumnElement[bool]) -> ApiKeyInfo | None:
        async with self._session() as s:
            found = (
                await s.execute(
                    select(t.ApiKey, t.Organisation)
                    .join(t.Organisation, t.ApiKey.org_id == t.Organisation.id)
                    .where(condition, t.ApiKey.revoked_at.is_(None))
                )
            ).first()
        return key_info(found[0], found[1]) if found else None

    def session_mac(self, value: str) -> str:
        """Signs dashboard session cookies and form tokens (a key derived from the master key)."""
        return hmac.new(self._master_key, f"session:{value}".encode(), "sha256").hexdigest()

    async def api_keys(self, org_id: str) -> list[ApiKeyInfo]:
        async with self._session() as s:
            rows = (
                await s.execute(
                    select(t.ApiKey, t.Organisation)
                    .join(t.Organisation, t.ApiKey.org_id == t.Organisation.id)
                    .where(t.ApiKey.org_id == org_id)
                    .order_by(t.ApiKey.created_at)
                )
            ).all()
        return [key_info(key, org) for key, org in rows]

    async def revoke_api_key(self, org_id: str, key_id: str) -> bool:
        async with self._session.begin() as s:
            row = await s.get(t.ApiKey, key_id)
            if row is None or row.org_id != org_id:
                return False
            row.revoked_at = row.revoked_at or _now()
        return True

    def _issuer_key_row(self, org_id: str, key: Ed25519PrivateKey, now: datetime) -> t.IssuerKey:
        return t.IssuerKey(
            org_id=org_id,
            algorithm="Ed25519",
            public_multibase=public_key_multibase(key.public_key()),
            secret_sealed=seal(self._master_key, _secret_multibase(key).encode(), f"issuer:{org_id}"),
            created_at=now,
            active=True,
        )

    async def org(self, org_id: str) -> Org | None:
        async with self._session() as s:
            row = await s.get(t.Organisation, org_id)
        return org_record(row) if row else None

    async def org_by_slug(self, slug: str) -> Org | None:
        async with self._session() as s:
            row = await s.scalar(select(t.Organisation).where(t.Organisation.slug == slug))
        return org_record(row) if row else None

    async def org_secret(self, org_id: str) -> bytes:
        async with self._session() as s:
            row = await s.get_one(t.Organisation, org_id)
        return unseal(self._master_key, row.secret_sealed, f"org-secret:{org_id}")

    async def rotate_issuer_key(self, org_id: str) -> str:
        """A new active Ed25519 key (and new JWT keys on their next use); earlier keys stay,
        inactive, so the DID document keeps them and earlier credentials still verify."""
        async with self._session.begin() as s:
            await s.execute(update(t.IssuerKey).where(t.IssuerKey.org_id == org_id).values(active=False))
            row = self._issuer_key_row(org_id, Ed25519PrivateKey.generate(), _now())
            s.add(row)
        return row.public_multibase

    async def issuer_public_keys(self, org_id: str) -> list[str]:
        """Every Ed25519 key the organisation has signed with, oldest first (for its DID document)."""
        async with self._session() as s:
            rows = await s.scalars(
                select(t.IssuerKey.public_multibase)
                .where(t.IssuerKey.org_id == org_id, t.IssuerKey.algorithm == "Ed25519")
                .order_by(t.IssuerKey.id)
            )
            return list(rows.all())

    async def issuer_jwks(self, org_id: str) -> list[dict[str, Any]]:
        """Every public JWK the organisation has signed VC-JWTs with, oldest first."""
        async with self._session() as s:
            rows = await s.scalars(
                select(t.IssuerKey.public_jwk)
                .where(t.IssuerKey.org_id == org_id, t.IssuerKey.algorithm != "Ed25519")
                .order_by(t.IssuerKey.id)
            )
            return [jwk for jwk in rows.all() if jwk]

    async def jwt_key(self, org_id: str, alg: vc_jwt.Algorithm) -> tuple[vc_jwt.PrivateKey, str]:
        """The active RS256 or ES256 key and its thumbprint, made on first use."""
        async with self._session.begin() as s:
            row = await s.scalar(
                select(t.IssuerKey)
                .where(
                    t.IssuerKey.org_id == org_id, t.IssuerKey.algorithm == alg, t.IssuerKey.active.is_(True)
                )
                .order_by(t.IssuerKey.id.desc())
            )
            if row is None:
                key = vc_jwt.generate_key(alg)
                jwk = vc_jwt.public_jwk(key.public_key())
                pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
                row = t.IssuerKey(
                    org_id=org_id,
                    algorithm=alg,
                    public_multibase=vc_jwt.jwk_thumbprint(jwk),
                    public_jwk=jwk,
                    secret_sealed=seal(self._master_key, pem, f"issuer:{org_id}"),
                    created_at=_now(),
                    active=True,
                )
                s.add(row)
                return key, row.public_multibase
        pem = unseal(self._master_key, row.secret_sealed, f"issuer:{org_id}")
        key = load_pem_private_key(pem, password=None)
        assert isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey)
        return key, row.public_multibase

    async def recipient_key_of(self, org_id: str, email: str) -> str:
        """The pseudonymous key this organisation's records use for the person with `email`."""
        return identity.recipient_key(await self.org_secret(org_id), email)

    async def issuer_key(self, org_id: str) -> Ed25519PrivateKey:
        """The organisation's active signing key, decrypted only in memory."""
        async with self._session() as s:
            row = await s.scalar(
                select(t.IssuerKey)
                .where(
                    t.IssuerKey.org_id == org_id,
                    t.IssuerKey.algorithm == "Ed25519",
                    t.IssuerKey.active.is_(True),
                )
                .order_by(t.IssuerKey.id.desc())
            )
        if row is None:
            raise LookupError(f"organisation {org_id} has no active issuer key")
        secret = unseal(self._master_key, row.secret_sealed, f"issuer:{org_id}").decode()
        return secret_key_from_multibase(secret)

    # recipients

    async def upsert_recipients(self, org_id: str, people: dict[str, tuple[str, str | None]]) -> None:
        """recipient_key -> (email, name); keeps the first salt, refreshes the name if given."""
        async with self._session.begin() as s:
            for key, (email, name) in people.items():
                row = await s.get(t.Recipient, (org_id, key))
                if row is None:
                    s.add(
                        t.Recipient(
                            org_id=org_id,
                            recipient_key=key,
                            email=email,
                            name=name,
                            salt=secrets.token_hex(16),
                        )
                    )
                elif name and row.name != name:
                    row.name = name

    async def recipient(self, org_id: str, recipient_key: str) -> RecipientContact | None:
        async with self._session() as s:
            row = await s.get(t.Recipient, (org_id, recipient_key))
        return (
            RecipientContact(row.email, row.name, row.salt, row.unsubscribed_at is not None) if row else None
        )

    # badge classes

    async def save_badge_class(self, org_id: str, body: BadgeClassIn, timezone: str = "UTC") -> BadgeClass:
        """Stores a new version of the class (1 for a new class), with the organisation's time
        zone as it is now: the aggregator counts the class's calendar criteria in it."""
        async with self._session.begin() as s:
            latest = await s.scalar(
                select(func.max(t.BadgeClassRow.version)).where(
                    t.BadgeClassRow.org_id == org_id, t.BadgeClassRow.id == body.id
                )
            )
            badge = BadgeClass(
                org_id=org_id, version=(latest or 0) + 1, timezone=timezone, **body.model_dump()
            )
            s.add(
                t.BadgeClassRow(
                    org_id=org_id,
                    id=badge.id,
                    version=badge.version,
                    definition=badge.model_dump(mode="json"),
                    created_at=_now(),
                )
            )
        return badge

    async def badge_class(self, org_id: str, badge_id: str, version: int | None = None) -> BadgeClass | None:
        query = select(t.BadgeClassRow).where(
            t.BadgeClassRow.org_id == org_id, t.BadgeClassRow.id == badge_id
        )
        if version is not None:
            query = query.where(t.BadgeClassRow.version == version)
        async with self._session() as s:
            row = await s.scalar(query.order_by(t.BadgeClassRow.version.desc()).limit(1))
        return BadgeClass.model_validate(row.definition) if row else None

    async def badge_classes(self, org_id: str) -> list[BadgeClass]:
        """The latest version of each of the organisation's classes."""
        async with self._session() as s:
            rows = (
                await s.scalars(
                    select(t.BadgeClassRow)
                    .where(t.BadgeClassRow.org_id == org_id)
                    .order_by(t.BadgeClassRow.id, t.BadgeClassRow.version.desc())
                )
            ).all()
        latest: dict[str, BadgeClass] = {}
        for row in rows:
            latest.setdefault(row.id, BadgeClass.model_validate(row.definition))
        return list(latest.values())

    # credentials

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
    ) -> tuple[CredentialRecord, bool]:
        """Stores the signed credential unless its award already has one.

        Returns the stored credential and whether this call created it: award_id is unique,
        so a redelivered award can never become a second credential.
        """
        try:
            async with self._session.begin() as s:
                row = t.Credential(
                    id=credential_id,
                    award_id=award_id,
                    org_id=org_id,
                    badge_class_id=badge_class_id,
                    recipient_key=recipient_key,
                    document=document,
                    issued_at=issued_at,
                    status="active",
                )
                s.add(row)
            return record(CredentialRecord, row), True
        except IntegrityError:
            existing = await self.credential_by_award(award_id)
            if existing is None:
                raise
            return existing, False

    async def status_index(self, org_id: str, credential_id: str) -> int:
        """The credential's status list index: random, unique in the organisation, and the same
        on every call for the same credential (so a redelivered award gets the same one)."""
        for _ in range(64):
            async with self._session() as s:
                existing = await s.get(t.StatusEntry, credential_id)
            if existing is not None:
                return existing.status_index
            try:
                async with self._session.begin() as s:
                    s.add(
                        t.StatusEntry(credential_id=credential_id, org_id=org_id, status_index=random_index())
                    )
            except IntegrityError:
                continue  # index taken (or this credential raced us): look again
        raise RuntimeError(f"no free status list index for organisation {org_id}")

    async def status_list(self, org_id: str, purpose: str) -> StatusListRecord | None:
        async with self._session() as s:
            return record_or_none(StatusListRecord, await s.get(t.StatusList, (org_id, purpose)))

    async def save_status_list(
        self, org_id: str, purpose: str, bits: bytes, document: dict[str, Any]
    ) -> None:
        async with self._session.begin() as s:
            await s.merge(
                t.StatusList(org_id=org_id, purpose=purpose, bits=bits, document=document, updated_at=_now())
            )

    async def change_status(
        self,
        org_id: str,
        credential_id: str,
        new_status: str,
        reason: str | None,
        flips: dict[str, bool],
        sign_list: Callable[[str, bytes], dict[str, Any]],
    ) -> CredentialRecord:
        """Sets the credential's status and its bits in the lists, re-signing each changed list
        with `sign_list(purpose, bits)`, all in one transaction (rows locked on PostgreSQL)."""
        async with self._session.begin() as s:
            credential = await s.get(t.Credential, credential_id, with_for_update=True)
            entry = await s.get(t.StatusEntry, credential_id)
            if credential is None or credential.org_id != org_id or entry is None:
                raise LookupError(f"credential {credential_id} not found")
            for purpose, value in flips.items():
                row = await s.get(t.StatusList, (org_id, purpose), with_for_update=True)
                bits = bytearray(row.bits) if row else empty_bits()
                set_bit(bits, entry.status_index, value)
                document = sign_list(purpose, bytes(bits))
                if row is None:
                    s.add(
                        t.StatusList(
                            org_id=org_id,
                            purpose=purpose,
                            bits=bytes(bits),
                            document=document,
                            updated_at=_now(),
                        )
                    )
                else:
                    row.bits, row.document, row.updated_at = bytes(bits), document, _now()
            credential.status, credential.status_reason = new_status, reason
        return record(CredentialRecord, credential)

    async def credential_by_award(self, award_id: str) -> CredentialRecord | None:
        async with self._session() as s:
            row = await s.scalar(select(t.Credential).where(t.Credential.award_id == award_id))
        return record_or_none(CredentialRecord, row)

    async def credential(self, credential_id: str) -> CredentialRecord | None:
        async with self._session() as s:
            return record_or_none(CredentialRecord, await s.get(t.Credential, credential_id))

    async def credentials(
        self,
        org_id: str,
        badge_class_id: str | None = None,
        recipient_key: str | None = None,
        status: str | None = None,
    ) -> list[CredentialRecord]:
        query = select(t.Credential).where(t.Credential.org_id == org_id)
        if badge_class_id:
            query = query.where(t.Credential.badge_class_id == badge_class_id)
        if recipient_key:
            query = query.where(t.Credential.recipient_key == recipient_key)
        if status:
            query = query.where(t.Credential.status == status)
        async with self._session() as s:
            rows = (await s.scalars(query.order_by(t.Credential.issued_at))).all()
        return [record(CredentialRecord, row) for row in rows]

    async def award_counts(self, org_id: str) -> dict[str, int]:
        """badge_class_id -> how many credentials the organisation has issued for it."""
        async with self._session() as s:
            rows = await s.execute(
                select(t.Credential.badge_class_id, func.count())
                .where(t.Credential.org_id == org_id)
                .group_by(t.Credential.badge_class_id)
            )
            return {badge_id: count for badge_id, count in rows.all()}

    # organisation profile and badge images

    async def update_org_profile(self, org_id: str, changes: dict[str, Any]) -> Org:
        allowed = {"name", "url", "email", "image_url", "colour", "timezone"}
        async with self._session.begin() as s:
            row = await s.get_one(t.Organisation, org_id)
            for name, value in changes.items():
                if name not in allowed:
                    raise ValueError(f"{name} is not a profile field")
                setattr(row, name, value)
        return org_record(row)

    async def set_badge_image(self, org_id: str, badge_class_id: str, content_type: str, data: bytes) -> None:
        async with self._session.begin() as s:
            await s.merge(
                t.BadgeImage(
                    org_id=org_id,
                    badge_class_id=badge_class_id,
                    content_type=content_type,
                    data=data,
                    updated_at=_now(),
                )
            )

    async def badge_image(self, org_id: str, badge_class_id: str) -> BadgeImageRecord | None:
        async with self._session() as s:
            return record_or_none(BadgeImageRecord, await s.get(t.BadgeImage, (org_id, badge_class_id)))

    # a person's data: export and erasure

    async def recipients(self, org_id: str) -> list[RecipientRecord]:
        async with self._session() as s:
            rows = await s.scalars(
                select(t.Recipient).where(t.Recipient.org_id == org_id).order_by(t.Recipient.email)
            )
            return [record(RecipientRecord, row) for row in rows.all()]

    async def progress_views(self, org_id: str) -> dict[str, list[BadgeProgress]]:
        """recipient_key -> their progress toward each badge, for the whole organisation."""
        async with self._session() as s:
            rows = await s.scalars(select(t.ProgressView).where(t.ProgressView.org_id == org_id))
            return {r.recipient_key: [BadgeProgress.model_validate(b) for b in r.badges] for r in rows.all()}

    async def person_export(self, org_id: str, recipient_key: str) -> dict[str, Any] | None:
        """Everything this organisation's store holds about one person."""
        async with self._session() as s:
            person = await s.get(t.Recipient, (org_id, recipient_key))
            if person is None:
                return None
            credentials = (
                await s.scalars(
                    select(t.Credential).where(
                        t.Credential.org_id == org_id, t.Credential.recipient_key == recipient_key
                    )
                )
            ).all()
            notifications = {
                n.credential_id: n
                for n in (
                    await s.scalars(
                        select(t.Notification).where(
                            t.Notification.credential_id.in_([c.id for c in credentials])
                        )
                    )
                ).all()
            }
            progress = await s.get(t.ProgressView, (org_id, recipient_key))
        return {
            "contact": {
                "email": person.email,
                "name": person.name,
                "unsubscribed_at": person.unsubscribed_at.isoformat() if person.unsubscribed_at else None,
            },
            "credentials": [
                {
                    "id": c.id,
                    "status": c.status,
                    "issued_at": c.issued_at.isoformat(),
                    "email_status": notifications[c.id].status if c.id in notifications else None,
                    "document": c.document,
                }
                for c in credentials
            ],
            "progress": progress.badges if progress else [],
        }

    async def erase_person(self, org_id: str, recipient_key: str) -> bool:
        """Deletes the contact details and every link that leads from an email to the person's
        credentials (claim links, sign-in links, the email-derived key on their rows). The
        credentials stay valid: they hold only a salted hash, and the salt goes with the contact."""
        async with self._session.begin() as s:
            person = await s.get(t.Recipient, (org_id, recipient_key))
            if person is None:
                return False
            credential_ids = select(t.Credential.id).where(
                t.Credential.org_id == org_id, t.Credential.recipient_key == recipient_key
            )
            await s.execute(delete(t.ClaimToken).where(t.ClaimToken.credential_id.in_(credential_ids)))
            await s.execute(
                delete(t.WalletExchange).where(t.WalletExchange.credential_id.in_(credential_ids))
            )
            await s.execute(delete(t.SignInToken).where(t.SignInToken.email == normalise_email(person.email)))
            await s.execute(
                update(t.Credential)
                .where(t.Credential.org_id == org_id, t.Credential.recipient_key == recipient_key)
                .values(recipient_key=secrets.token_hex(32))  # no longer derivable from the email
            )
            await s.execute(
                delete(t.ProgressView).where(
                    t.ProgressView.org_id == org_id, t.ProgressView.recipient_key == recipient_key
                )
            )
            await s.delete(person)
        return True

    # award questions (derived from cairn.award-questions.v1)

    async def save_question(self, question: AwardQuestioned) -> None:
        """Keeps the first record of a question; a redelivery changes nothing, nor a decision."""
        async with self._session.begin() as s:
            if await s.get(t.AwardQuestionRow, question.award_id) is None:
                s.add(
                    t.AwardQuestionRow(
                        award_id=question.award_id,
                        org_id=question.org_id,
                        badge_class_id=question.badge_class_id,
                        recipient_key=question.recipient_key,
                        reason=question.reason[:500],
                        evidence=[e.model_dump(mode="json") for e in question.evidence],
                        questioned_at=_now(),
                        decision=None,
                    )
                )

    async def questions(self, org_id: str) -> list[QuestionRecord]:
        async with self._session() as s:
            rows = await s.scalars(
                select(t.AwardQuestionRow)
                .where(t.AwardQuestionRow.org_id == org_id)
                .order_by(t.AwardQuestionRow.questioned_at)
            )
            return [record(QuestionRecord, row) for row in rows.all()]

    async def decide_question(self, org_id: str, award_id: str, decision: str) -> bool:
        async with self._session.begin() as s:
            row = await s.get(t.AwardQuestionRow, award_id)
            if row is None or row.org_id != org_id:
                return False
            row.decision = decision
        return True

    # progress (derived from cairn.progress.v1)

    async def save_progress(self, update: ProgressUpdated) -> None:
        """Keeps the newest update per recipient; an older one redelivered changes nothing."""
        badges = [b.model_dump(mode="json") for b in update.badges]
        async with self._session.begin() as s:
            row = await s.get(t.ProgressView, (update.org_id, update.recipient_key))
            if row is None:
                s.add(
                    t.ProgressView(
                        org_id=update.org_id,
                        recipient_key=update.recipient_key,
                        as_of=update.as_of,
                        badges=badges,
                        pending_voids=update.pending_voids,
                    )
                )
            elif update.as_of >= row.as_of:
                row.as_of, row.badges, row.pending_voids = update.as_of, badges, update.pending_voids

    async def progress(self, org_id: str, recipient_key: str) -> ProgressUpdated | None:
        async with self._session() as s:
            row = await s.get(t.ProgressView, (org_id, recipient_key))
        if row is None:
            return None
        return ProgressUpdated(
            org_id=org_id,
            recipient_key=recipient_key,
            as_of=row.as_of,
            badges=[BadgeProgress.model_validate(b) for b in row.badges],
            pending_voids=row.pending_voids or [],
        )

    # claim tokens and notifications

    def claim_token_for(self, credential_id: str, generation: int = 0) -> str:
        """Deterministic but unguessable (HMAC under the master key), so an email re-sent after
        a crash carries the same link; only its hash is stored."""
        mac = hmac.new(self._master_key, f"claim:{credential_id}:{generation}".encode(), "sha256")
        return mac.hexdigest()[:43]

    async def ensure_claim_token(
        self, credential_id: str, token: str, ttl: timedelta, generation: int = 0
    ) -> None:
        """Stores the token's hash; tokens of earlier generations of the credential stop working."""
        async with self._session.begin() as s:
            await s.execute(
                delete(t.ClaimToken).where(
                    t.ClaimToken.credential_id == credential_id, t.ClaimToken.generation < generation
                )
            )
            if await s.get(t.ClaimToken, _sha256(token)) is None:
                s.add(
                    t.ClaimToken(
                        token_hash=_sha256(token),
                        credential_id=credential_id,
                        generation=generation,
                        expires_at=_now() + ttl,
                        claimed_at=None,
                    )
                )

    async def claim(self, token: str) -> Claim:
        """Looks a claim link up; an unexpired one records the first claim."""
        async with self._session.begin() as s:
            row = await s.get(t.ClaimToken, _sha256(token))
            if row is None:
                return Claim(None, expired=False)
            credential = record_or_none(CredentialRecord, await s.get(t.Credential, row.credential_id))
            if row.expires_at < _now():
                return Claim(credential, expired=True)
            if row.claimed_at is None:
                row.claimed_at = _now()
            return Claim(credential, expired=False)

    # a volunteer's own view ("my badges")

    async def create_sign_in_token(self, email: str, ttl: timedelta) -> str:
        token = secrets.token_urlsafe(32)  # 256 random bits; only the hash is stored
        async with self._session.begin() as s:
            s.add(
                t.SignInToken(
                    token_hash=_sha256(token), email=normalise_email(email), expires_at=_now() + ttl
                )
            )
        return token

    async def sign_in(self, token: str) -> str | None:
        """The email an unexpired magic link was sent to."""
        async with self._session() as s:
            row = await s.get(t.SignInToken, _sha256(token))
        return row.email if row is not None and row.expires_at >= _now() else None

    async def earner_records(
        self, email: str
    ) -> list[tuple[Org, list[CredentialRecord], list[BadgeProgress]]]:
        """Per organisation that knows this email: its credentials for them and their progress."""
        async with self._session() as s:
            people = (
                await s.scalars(
                    select(t.Recipient).where(func.lower(t.Recipient.email) == normalise_email(email))
                )
            ).all()
            out = []
            for person in people:
                org = await s.get(t.Organisation, person.org_id)
                credentials = (
                    await s.scalars(
                        select(t.Credential)
                        .where(
                            t.Credential.org_id == person.org_id,
                            t.Credential.recipient_key == person.recipient_key,
                        )
                        .order_by(t.Credential.issued_at)
                    )
                ).all()
                view = await s.get(t.ProgressView, (person.org_id, person.recipient_key))
                progress = [BadgeProgress.model_validate(b) for b in view.badges] if view else []
                if org is not None:
                    out.append(
                        (org_record(org), [record(CredentialRecord, c) for c in credentials], progress)
                    )
        return out

    # wallet exchanges

    async def create_exchange(self, credential_id: str, ttl: timedelta) -> WalletExchangeRecord:
        row = t.WalletExchange(
            id=secrets.token_urlsafe(24),
            credential_id=credential_id,
            challenge=secrets.token_urlsafe(24),
            expires_at=_now() + ttl,
            holder=None,
        )
        async with self._session.begin() as s:
            s.add(row)
        return record(WalletExchangeRecord, row)

    async def exchange(self, exchange_id: str) -> WalletExchangeRecord | None:
        async with self._session() as s:
            row = await s.get(t.WalletExchange, exchange_id)
        return record(WalletExchangeRecord, row) if row is not None and row.expires_at >= _now() else None

    async def complete_exchange(self, exchange_id: str, holder: str) -> bool:
        """Records the holder; False if the exchange was used already (each is single-use)."""
        async with self._session.begin() as s:
            done = await s.execute(
                update(t.WalletExchange)
                .where(t.WalletExchange.id == exchange_id, t.WalletExchange.holder.is_(None))
                .values(holder=holder)
            )
        return done.rowcount == 1

    # unsubscribing

    def unsubscribe_code(self, org_id: str, recipient_key: str) -> str:
        mac = hmac.new(self._master_key, f"unsubscribe:{org_id}:{recipient_key}".encode(), "sha256")
        return mac.hexdigest()[:32]

    async def unsubscribe(self, org_id: str, recipient_key: str, code: str) -> bool:
        # as bytes: compare_digest refuses a str with non-ASCII characters (a 500 the fuzzing found)
        if not hmac.compare_digest(code.encode(), self.unsubscribe_code(org_id, recipient_key).encode()):
            return False
        async with self._session.begin() as s:
            row = await s.get(t.Recipient, (org_id, recipient_key))
            if row is None:
                return False
            row.unsubscribed_at = row.unsubscribed_at or _now()
        return True

    async def notifications(self, credential_ids: list[str]) -> dict[str, NotificationRecord]:
        """The notification rows of many credentials, in one query."""
        async with self._session() as s:
            rows = await s.scalars(
                select(t.Notification).where(t.Notification.credential_id.in_(credential_ids))
            )
            return {row.credential_id: record(NotificationRecord, row) for row in rows.all()}

    async def notification(self, credential_id: str) -> NotificationRecord | None:
        async with self._session() as s:
            return record_or_none(NotificationRecord, await s.get(t.Notification, credential_id))

    async def record_notification(
        self, credential_id: str, message_id: str, status: str, error: str | None = None, generation: int = 0
    ) -> None:
        async with self._session.begin() as s:
            row = await s.get(t.Notification, credential_id)
            if row is None:
                row = t.Notification(
                    credential_id=credential_id,
                    message_id=message_id,
                    generation=generation,
                    status=status,
                    attempts=0,
                    last_error=None,
                    sent_at=None,
                )
                s.add(row)
            if generation != row.generation:
                row.generation, row.message_id, row.attempts = generation, message_id, 0
            row.status = status
            row.attempts += 1
            row.last_error = error
            if status == "sent":
                row.sent_at = _now()


def store_for(settings: Settings) -> Store:
    """The store the settings point at, with the master key from CAIRN_MASTER_KEY_FILE."""
    return open_store(
        settings.resolved_database_url, load_or_create_master_key(settings.resolved_master_key_file)
    )


def open_store(database_url: str, master_key: bytes) -> Store:
    engine = create_async_engine(database_url)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return Store(engine, master_key)
