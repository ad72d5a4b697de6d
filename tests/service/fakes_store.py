"""A dict-backed store for the service-layer tests: the ports.Store methods the use cases call,
with the real store's answers (tests/service/test_store_fakes_agree.py holds it to that), and no
database. Crypto is the real Keyring's: it is pure, and so the MACs match the real store's."""

import dataclasses
import secrets
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cairn.adapters.keyring import Keyring, token_hash
from cairn.credentials import vc_jwt
from cairn.credentials.status_list import random_index, with_bit
from cairn.domain import api_keys
from cairn.domain.badge_images import DEFAULT_COLOUR
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
    RecipientContact,
    RecipientRecord,
    SealedKey,
    StatusListRecord,
)
from cairn.ports import SlugTaken
from schemas.awards import ProgressUpdated
from schemas.badge_class import BadgeClass, BadgeClassIn
from tests.service.fakes_volunteers import FakeVolunteers
from tests.service.fakes_webhooks import FakeWebhookTables


def _now() -> datetime:
    return datetime.now(UTC)


@dataclasses.dataclass
class _ApiKey:
    id: str
    org_id: str
    name: str
    key_hash: str
    scopes: frozenset[str]
    created_at: datetime
    revoked_at: datetime | None = None


@dataclasses.dataclass
class _ClaimToken:
    credential_id: str
    generation: int
    expires_at: datetime
    claimed_at: datetime | None = None


class FakeStore(FakeWebhookTables, FakeVolunteers):
    def __init__(self, keyring: Keyring | None = None) -> None:
        self.keyring = keyring or Keyring(secrets.token_bytes(32))
        self.orgs: dict[str, Org] = {}
        self.org_secrets: dict[str, bytes] = {}  # sealed, as the real store keeps them
        self.keys: dict[str, _ApiKey] = {}
        self.issuer_keys: dict[str, list[tuple[SealedKey, bool]]] = {}  # org -> (key, active), oldest first
        self.badge_classes_: dict[tuple[str, str], list[BadgeClass]] = {}
        self.images: dict[tuple[str, str], BadgeImageRecord] = {}
        self.people: dict[tuple[str, str], RecipientRecord] = {}
        self.credentials_: dict[str, CredentialRecord] = {}
        self.status_entries: dict[str, int] = {}
        self.status_lists: dict[tuple[str, str], StatusListRecord] = {}
        self.claim_tokens: dict[str, _ClaimToken] = {}
        self.notifications_: dict[str, NotificationRecord] = {}
        self.progress_: dict[tuple[str, str], ProgressUpdated] = {}
        self.direct_awards_: dict[tuple[str, str], DirectAwardRecord] = {}
        self.check_in_sessions_: dict[str, CheckInSessionRecord] = {}
        self.check_ins_: dict[str, CheckInRecord] = {}
        self.closed = False

    async def claim_direct_award(self, award: DirectAwardRecord) -> tuple[DirectAwardRecord, bool]:
        key = (award.org_id, award.idempotency_key)
        created = key not in self.direct_awards_
        return self.direct_awards_.setdefault(key, award), created

    async def direct_awards(self, org_id: str) -> list[DirectAwardRecord]:
        mine = [a for (org, _), a in self.direct_awards_.items() if org == org_id]
        return sorted(mine, key=lambda a: (-a.created_at.timestamp(), a.idempotency_key))

    def check_in_code(self, session_id: str) -> str:
        return self.keyring.check_in_code(session_id)

    def check_in_code_matches(self, session_id: str, code: str) -> bool:
        return self.keyring.check_in_code_matches(session_id, code)

    async def create_check_in_session(self, session: CheckInSessionRecord) -> None:
        self.check_in_sessions_[session.id] = session

    async def check_in_session(self, session_id: str) -> CheckInSessionRecord | None:
        return self.check_in_sessions_.get(session_id)

    async def check_in_sessions(self, org_id: str) -> list[CheckInSessionRecord]:
        mine = [s for s in self.check_in_sessions_.values() if s.org_id == org_id]
        return sorted(sorted(mine, key=lambda s: s.id), key=lambda s: s.starts_at, reverse=True)

    async def add_check_in(self, check_in: CheckInRecord) -> tuple[CheckInRecord, bool]:
        for held in self.check_ins_.values():
            if (held.session_id, held.recipient_key) == (check_in.session_id, check_in.recipient_key):
                return held, False
        self.check_ins_[check_in.id] = check_in
        return check_in, True

    async def check_ins(self, session_id: str) -> list[CheckInRecord]:
        mine = [c for c in self.check_ins_.values() if c.session_id == session_id]
        return sorted(mine, key=lambda c: (c.checked_in_at, c.id))

    async def set_check_in_status(self, check_in_id: str, old: str, new: str) -> CheckInRecord | None:
        held = self.check_ins_.get(check_in_id)
        if held is None or held.status != old:
            return None
        self.check_ins_[check_in_id] = dataclasses.replace(held, status=new)
        return self.check_ins_[check_in_id]

    async def create_schema(self) -> None:
        pass

    async def close(self) -> None:
        self.closed = True

    # organisations, API keys, issuer keys

    async def create_org(
        self,
        name: str,
        slug: str,
        url: str | None = None,
        email: str | None = None,
        image_url: str | None = None,
    ) -> tuple[Org, str]:
        if any(org.slug == slug for org in self.orgs.values()):
            raise SlugTaken(slug)
        org = Org(str(uuid.uuid4()), slug, name, url, email, image_url, DEFAULT_COLOUR, "UTC")
        self.orgs[org.id] = org
        self.org_secrets[org.id] = self.keyring.new_org_secret(org.id)
        self.issuer_keys[org.id] = [(self.keyring.mint_ed25519(org.id), True)]
        key = self.keyring.mint_api_key()
        self._add_key(org.id, "default", key, api_keys.all_scopes())
        return org, key

    def _add_key(self, org_id: str, name: str, key: str, scopes: frozenset[str]) -> str:
        key_id = str(uuid.uuid4())
        self.keys[key_id] = _ApiKey(key_id, org_id, name, token_hash(key), scopes, _now())
        return key_id

    async def create_api_key(self, org_id: str, name: str, scopes: set[str]) -> tuple[str, str]:
        key = self.keyring.mint_api_key()
        return self._add_key(org_id, name, key, api_keys.checked_scopes(scopes)), key

    async def api_key(self, key: str) -> ApiKeyInfo | None:
        for row in self.keys.values():
            if row.key_hash == token_hash(key) and row.revoked_at is None:
                return ApiKeyInfo(row.id, self.orgs[row.org_id], row.name, row.scopes, row.created_at, None)
        return None

    async def api_key_by_id(self, key_id: str) -> ApiKeyInfo | None:
        row = self.keys.get(key_id)
        if row is None or row.revoked_at is not None:
            return None
        return ApiKeyInfo(row.id, self.orgs[row.org_id], row.name, row.scopes, row.created_at, None)

    def session_mac(self, value: str) -> str:
        return self.keyring.session_mac(value)

    async def org(self, org_id: str) -> Org | None:
        return self.orgs.get(org_id)

    async def org_by_slug(self, slug: str) -> Org | None:
        return next((org for org in self.orgs.values() if org.slug == slug), None)

    async def org_secret(self, org_id: str) -> bytes:
        return self.keyring.org_secret(org_id, self.org_secrets[org_id])

    async def recipient_key_of(self, org_id: str, email: str) -> str:
        return self.keyring.recipient_key(org_id, self.org_secrets[org_id], email)

    async def rotate_issuer_key(self, org_id: str) -> str:
        new = self.keyring.mint_ed25519(org_id)
        self.issuer_keys[org_id] = [(key, False) for key, _ in self.issuer_keys[org_id]] + [(new, True)]
        return new.public_multibase

    async def issuer_public_keys(self, org_id: str) -> list[str]:
        return [
            key.public_multibase for key, _ in self.issuer_keys.get(org_id, []) if key.algorithm == "Ed25519"
        ]

    async def issuer_jwks(self, org_id: str) -> list[dict[str, Any]]:
        return [key.public_jwk for key, _ in self.issuer_keys.get(org_id, []) if key.public_jwk]

    async def jwt_key(self, org_id: str, alg: vc_jwt.Algorithm) -> tuple[vc_jwt.PrivateKey, str]:
        for key, active in reversed(self.issuer_keys[org_id]):
            if active and key.algorithm == alg:
                return self.keyring.unseal_jwt_key(org_id, key.secret_sealed), key.public_multibase
        private, sealed = self.keyring.mint_jwt_key(org_id, alg)
        self.issuer_keys[org_id].append((sealed, True))
        return private, sealed.public_multibase

    async def issuer_key(self, org_id: str) -> Ed25519PrivateKey:
        for key, active in reversed(self.issuer_keys.get(org_id, [])):
            if active and key.algorithm == "Ed25519":
                return self.keyring.unseal_ed25519(org_id, key.secret_sealed)
        raise LookupError(f"organisation {org_id} has no active issuer key")

    # badge classes and images

    async def save_badge_class(self, org_id: str, body: BadgeClassIn, timezone: str = "UTC") -> BadgeClass:
        versions = self.badge_classes_.setdefault((org_id, body.id), [])
        badge = BadgeClass(org_id=org_id, version=len(versions) + 1, timezone=timezone, **body.model_dump())
        versions.append(badge)
        return badge

    async def badge_class(self, org_id: str, badge_id: str, version: int | None = None) -> BadgeClass | None:
        versions = self.badge_classes_.get((org_id, badge_id), [])
        if version is not None:
            return next((b for b in versions if b.version == version), None)
        return versions[-1] if versions else None

    async def badge_classes(self, org_id: str) -> list[BadgeClass]:
        return [v[-1] for (org, _), v in sorted(self.badge_classes_.items()) if org == org_id]

    async def set_badge_image(self, org_id: str, badge_class_id: str, content_type: str, data: bytes) -> None:
        self.images[org_id, badge_class_id] = BadgeImageRecord(
            org_id, badge_class_id, content_type, data, _now()
        )

    async def badge_image(self, org_id: str, badge_class_id: str) -> BadgeImageRecord | None:
        return self.images.get((org_id, badge_class_id))

    # recipients

    async def upsert_recipients(self, org_id: str, people: dict[str, tuple[str, str | None]]) -> None:
        for key, (email, name) in people.items():
            row = self.people.get((org_id, key))
            if row is None:
                self.people[org_id, key] = RecipientRecord(
                    org_id, key, email, name, self.keyring.new_salt(), None
                )
            elif name and row.name != name:
                self.people[org_id, key] = dataclasses.replace(row, name=name)

    async def recipient(self, org_id: str, recipient_key: str) -> RecipientContact | None:
        row = self.people.get((org_id, recipient_key))
        return (
            RecipientContact(row.email, row.name, row.salt, row.unsubscribed_at is not None, row.language)
            if row
            else None
        )

    async def set_recipient_languages(self, org_id: str, languages: dict[str, str]) -> None:
        for key, language in languages.items():
            row = self.people.get((org_id, key))
            if row is not None:
                self.people[org_id, key] = dataclasses.replace(row, language=language)

    async def recipients(self, org_id: str) -> list[RecipientRecord]:
        return sorted((r for r in self.people.values() if r.org_id == org_id), key=lambda r: r.email)

    # credentials and status lists

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
    ) -> tuple[CredentialRecord, bool]:
        existing = await self.credential_by_award(award_id)
        if existing is not None:
            return existing, False
        if credential_id in self.credentials_:
            raise ValueError(f"credential {credential_id} exists (the database says IntegrityError)")
        row = CredentialRecord(
            credential_id,
            award_id,
            org_id,
            badge_class_id,
            recipient_key,
            document,
            issued_at,
            "active",
            None,
            badge_class_version,
        )
        self.credentials_[credential_id] = row
        return row, True

    async def credential_by_award(self, award_id: str) -> CredentialRecord | None:
        return next((c for c in self.credentials_.values() if c.award_id == award_id), None)

    async def credential(self, credential_id: str) -> CredentialRecord | None:
        return self.credentials_.get(credential_id)

    async def credentials(
        self,
        org_id: str,
        badge_class_id: str | None = None,
        recipient_key: str | None = None,
        status: str | None = None,
    ) -> list[CredentialRecord]:
        found = [
            c
            for c in self.credentials_.values()
            if c.org_id == org_id
            and (not badge_class_id or c.badge_class_id == badge_class_id)
            and (not recipient_key or c.recipient_key == recipient_key)
            and (not status or c.status == status)
        ]
        return sorted(found, key=lambda c: c.issued_at)

    async def status_index(self, org_id: str, credential_id: str) -> int:
        if credential_id not in self.status_entries:
            taken = set(self.status_entries.values())
            index = random_index()
            while index in taken:
                index = random_index()
            self.status_entries[credential_id] = index
        return self.status_entries[credential_id]

    async def status_list(self, org_id: str, purpose: str) -> StatusListRecord | None:
        return self.status_lists.get((org_id, purpose))

    async def save_status_list(
        self, org_id: str, purpose: str, bits: bytes, document: dict[str, Any]
    ) -> None:
        self.status_lists[org_id, purpose] = StatusListRecord(org_id, purpose, bits, document, _now())

    async def change_status(
        self,
        org_id: str,
        credential_id: str,
        new_status: str,
        reason: str | None,
        flips: dict[str, bool],
        sign_list: Callable[[str, bytes], dict[str, Any]],
    ) -> CredentialRecord:
        credential = self.credentials_.get(credential_id)
        if credential is None or credential.org_id != org_id or credential_id not in self.status_entries:
            raise LookupError(f"credential {credential_id} not found")
        for purpose, value in flips.items():
            row = self.status_lists.get((org_id, purpose))
            bits = with_bit(row.bits if row else None, self.status_entries[credential_id], value)
            await self.save_status_list(org_id, purpose, bits, sign_list(purpose, bits))
        changed = dataclasses.replace(credential, status=new_status, status_reason=reason)
        self.credentials_[credential_id] = changed
        return changed

    # claim links, claim emails, unsubscribing

    def claim_token_for(self, credential_id: str, generation: int = 0) -> str:
        return self.keyring.claim_token(credential_id, generation)

    async def ensure_claim_token(
        self, credential_id: str, token: str, ttl: timedelta, generation: int = 0
    ) -> None:
        for hashed, row in list(self.claim_tokens.items()):
            if row.credential_id == credential_id and row.generation < generation:
                del self.claim_tokens[hashed]
        self.claim_tokens.setdefault(token_hash(token), _ClaimToken(credential_id, generation, _now() + ttl))

    async def claim(self, token: str) -> Claim:
        row = self.claim_tokens.get(token_hash(token))
        if row is None:
            return Claim(None, expired=False)
        credential = self.credentials_.get(row.credential_id)
        if row.expires_at < _now():
            return Claim(credential, expired=True)
        first, row.claimed_at = row.claimed_at is None, row.claimed_at or _now()
        return Claim(credential, expired=False, first=first)

    def unsubscribe_code(self, org_id: str, recipient_key: str) -> str:
        return self.keyring.unsubscribe_code(org_id, recipient_key)

    async def unsubscribe(self, org_id: str, recipient_key: str, code: str) -> bool:
        row = self.people.get((org_id, recipient_key))
        if not self.keyring.unsubscribe_code_matches(org_id, recipient_key, code) or row is None:
            return False
        self.people[org_id, recipient_key] = dataclasses.replace(
            row, unsubscribed_at=row.unsubscribed_at or _now()
        )
        return True

    async def notifications(self, credential_ids: list[str]) -> dict[str, NotificationRecord]:
        return {i: self.notifications_[i] for i in credential_ids if i in self.notifications_}

    async def notification(self, credential_id: str) -> NotificationRecord | None:
        return self.notifications_.get(credential_id)

    async def record_notification(
        self, credential_id: str, message_id: str, status: str, error: str | None = None, generation: int = 0
    ) -> None:
        row = self.notifications_.get(credential_id) or NotificationRecord(
            credential_id, message_id, generation, status, 0, None, None
        )
        if generation != row.generation:
            row = dataclasses.replace(row, generation=generation, message_id=message_id, attempts=0)
        self.notifications_[credential_id] = dataclasses.replace(
            row,
            status=status,
            attempts=row.attempts + 1,
            last_error=error,
            sent_at=_now() if status == "sent" else row.sent_at,
        )

    async def mark_handed_over(
        self, credential_id: str, generation: int, attempts: int, handed: bool
    ) -> bool:
        row = self.notifications_.get(credential_id)
        if row is None or (row.generation, row.attempts) != (generation, attempts):
            return False
        if row.status not in ("sending", "handed_over"):
            return False
        self.notifications_[credential_id] = dataclasses.replace(
            row, status="handed_over" if handed else "sending", sent_at=_now() if handed else None
        )
        return True

    # progress, export and erasure

    async def save_progress(self, update: ProgressUpdated) -> None:
        row = self.progress_.get((update.org_id, update.recipient_key))
        if row is None or update.as_of >= row.as_of:
            self.progress_[update.org_id, update.recipient_key] = update

    async def progress(self, org_id: str, recipient_key: str) -> ProgressUpdated | None:
        return self.progress_.get((org_id, recipient_key))

    async def person_export(self, org_id: str, recipient_key: str) -> dict[str, Any] | None:
        person = self.people.get((org_id, recipient_key))
        if person is None:
            return None
        progress = self.progress_.get((org_id, recipient_key))
        return {
            "contact": {
                "email": person.email,
                "name": person.name,
                "unsubscribed_at": person.unsubscribed_at.isoformat() if person.unsubscribed_at else None,
                "language": person.language,
            },
            "credentials": [
                {
                    "id": c.id,
                    "status": c.status,
                    "issued_at": c.issued_at.isoformat(),
                    "email_status": self.notifications_[c.id].status if c.id in self.notifications_ else None,
                    "document": c.document,
                }
                for c in self.credentials_.values()
                if c.org_id == org_id and c.recipient_key == recipient_key
            ],
            "progress": [b.model_dump(mode="json") for b in progress.badges] if progress else [],
        }

    async def erase_person(self, org_id: str, recipient_key: str) -> bool:
        """As the real store: contact, claim links and progress go; credentials stay, re-keyed."""
        person = self.people.pop((org_id, recipient_key), None)
        if person is None:
            return False
        for c in list(self.credentials_.values()):
            if c.org_id == org_id and c.recipient_key == recipient_key:
                self.credentials_[c.id] = dataclasses.replace(c, recipient_key=self.keyring.unlinkable_key())
                for hashed in [h for h, t in self.claim_tokens.items() if t.credential_id == c.id]:
                    del self.claim_tokens[hashed]
        self.progress_.pop((org_id, recipient_key), None)
        self.forget_emails(org_id, recipient_key)
        self.activities_ = {k: e for k, e in self.activities_.items() if e.recipient_key != recipient_key}
        return True
