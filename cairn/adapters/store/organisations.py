"""Organisations: their profile, API keys, badge classes and badge images."""

import time
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.exc import IntegrityError

from cairn.adapters.keyring import token_hash
from cairn.adapters.store import tables as t
from cairn.adapters.store.engine import StoreBase, now
from cairn.adapters.store.records import key_info, record, record_or_none
from cairn.domain import api_keys
from cairn.domain.badge_images import DEFAULT_COLOUR
from cairn.domain.records import ApiKeyInfo, BadgeImageRecord, Org, SealedKey
from cairn.ports import SlugTaken
from schemas.badge_class import BadgeClass, BadgeClassIn

API_KEY_CACHE_SECONDS = 5.0
PROFILE_FIELDS = {"name", "url", "email", "image_url", "colour", "timezone", "language"}


def issuer_key_row(org_id: str, key: SealedKey, created_at: datetime) -> t.IssuerKey:
    return t.IssuerKey(
        org_id=org_id,
        algorithm=key.algorithm,
        public_multibase=key.public_multibase,
        public_jwk=key.public_jwk,
        secret_sealed=key.secret_sealed,
        created_at=created_at,
        active=True,
    )


def _api_key_row(org_id: str, name: str, key: str, scopes: frozenset[str], created_at: datetime) -> t.ApiKey:
    return t.ApiKey(
        id=str(uuid.uuid4()),
        org_id=org_id,
        name=name,
        key_hash=token_hash(key),
        scopes=" ".join(sorted(scopes)),
        created_at=created_at,
        revoked_at=None,
    )


class OrganisationTables(StoreBase):
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
        api_key = self.keyring.mint_api_key()
        created_at = now()
        try:
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
                    language="en",
                    secret_sealed=self.keyring.new_org_secret(org_id),
                    created_at=created_at,
                )
                s.add(row)
                await s.flush()
                s.add(_api_key_row(org_id, "default", api_key, api_keys.all_scopes(), created_at))
                s.add(issuer_key_row(org_id, self.keyring.mint_ed25519(org_id), created_at))
        except IntegrityError:
            if await self.org_by_slug(slug) is not None:
                raise SlugTaken(slug) from None
            raise
        return record(Org, row), api_key

    async def create_api_key(self, org_id: str, name: str, scopes: set[str]) -> tuple[str, str]:
        """A new key for the organisation: (its id, the key itself, shown this once)."""
        key = self.keyring.mint_api_key()
        row = _api_key_row(org_id, name, key, api_keys.checked_scopes(scopes), now())
        async with self._session.begin() as s:
            s.add(row)
        return row.id, key

    async def api_key(self, key: str) -> ApiKeyInfo | None:
        """The unrevoked key and its organisation, looked up by the key's hash; a key found is
        kept for API_KEY_CACHE_SECONDS, so a POST per event is not a query per event for it. A
        key revoked in this process stops at once; revoked by another (a second gateway, the
        command line), within those seconds."""
        digest = token_hash(key)
        kept = self._api_keys.get(digest)
        if kept is not None and time.monotonic() - kept[0] < API_KEY_CACHE_SECONDS:
            return kept[1]
        found = await self._live_key(t.ApiKey.key_hash == digest)
        if found is None:
            self._api_keys.pop(digest, None)
        else:
            if len(self._api_keys) > 10_000:
                self._api_keys.clear()
            self._api_keys[digest] = (time.monotonic(), found)
        return found

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
        return self.keyring.session_mac(value)

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
            row.revoked_at = row.revoked_at or now()
        self._api_keys.clear()
        return True

    async def org(self, org_id: str) -> Org | None:
        async with self._session() as s:
            row = await s.get(t.Organisation, org_id)
        return record_or_none(Org, row)

    async def org_by_slug(self, slug: str) -> Org | None:
        async with self._session() as s:
            row = await s.scalar(select(t.Organisation).where(t.Organisation.slug == slug))
        return record_or_none(Org, row)

    async def org_secret(self, org_id: str) -> bytes:
        """Unsealed once per process: an organisation's secret never changes."""
        if (secret := self._org_secrets.get(org_id)) is not None:
            return secret
        async with self._session() as s:
            row = await s.get_one(t.Organisation, org_id)
        secret = self._org_secrets[org_id] = self.keyring.org_secret(org_id, row.secret_sealed)
        return secret

    async def recipient_key_of(self, org_id: str, email: str) -> str:
        """The pseudonymous key this organisation's records use for the person with `email`."""
        async with self._session() as s:
            row = await s.get_one(t.Organisation, org_id)
        return self.keyring.recipient_key(org_id, row.secret_sealed, email)

    # organisation profile

    async def update_org_profile(self, org_id: str, changes: dict[str, Any]) -> Org:
        async with self._session.begin() as s:
            row = await s.get_one(t.Organisation, org_id)
            for name, value in changes.items():
                if name not in PROFILE_FIELDS:
                    raise ValueError(f"{name} is not a profile field")
                setattr(row, name, value)
        self._api_keys.clear()  # they carry the organisation's profile
        return record(Org, row)

    # badge classes and their images

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
                    created_at=now(),
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

    async def set_badge_image(self, org_id: str, badge_class_id: str, content_type: str, data: bytes) -> None:
        async with self._session.begin() as s:
            await s.merge(
                t.BadgeImage(
                    org_id=org_id,
                    badge_class_id=badge_class_id,
                    content_type=content_type,
                    data=data,
                    updated_at=now(),
                )
            )

    async def badge_image(self, org_id: str, badge_class_id: str) -> BadgeImageRecord | None:
        async with self._session() as s:
            return record_or_none(BadgeImageRecord, await s.get(t.BadgeImage, (org_id, badge_class_id)))
