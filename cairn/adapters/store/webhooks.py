"""Webhook endpoints, deliveries and their attempts (the delivery log)."""

import base64
import secrets
import uuid
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cairn.adapters.store import tables as t
from cairn.adapters.store.engine import StoreBase, now
from cairn.adapters.store.records import record
from cairn.domain.webhooks import SECRET_PREFIX, Attempt, Delivery, Endpoint


async def forget_emails(s: AsyncSession, org_id: str, recipient_key: str) -> None:
    """Erasure: the person's email leaves every stored webhook payload (a replay then sends the
    message without it)."""
    rows = await s.scalars(select(t.WebhookDelivery).where(t.WebhookDelivery.org_id == org_id))
    for row in rows:
        data = row.payload.get("data", {})
        if data.get("recipient_key") == recipient_key and "email" in data:
            row.payload = {**row.payload, "data": {k: v for k, v in data.items() if k != "email"}}


def new_secret() -> str:
    """A Standard Webhooks secret: "whsec_" and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


class WebhookTables(StoreBase):
    async def create_webhook_endpoint(
        self, org_id: str, url: str, events: list[str], include_email: bool, description: str
    ) -> tuple[Endpoint, str]:
        """The new endpoint and its signing secret (returned this once; kept sealed)."""
        endpoint_id, secret = str(uuid.uuid4()), new_secret()
        row = t.WebhookEndpoint(
            id=endpoint_id,
            org_id=org_id,
            url=url,
            events=sorted(set(events)),
            include_email=include_email,
            description=description,
            secret_sealed=self.keyring.seal_webhook_secret(endpoint_id, secret),
            created_at=now(),
            disabled_at=None,
        )
        async with self._session.begin() as s:
            s.add(row)
        return record(Endpoint, row), secret

    async def webhook_endpoints(self, org_id: str) -> list[Endpoint]:
        """The organisation's endpoints still in use, oldest first."""
        async with self._session() as s:
            rows = await s.scalars(
                select(t.WebhookEndpoint)
                .where(t.WebhookEndpoint.org_id == org_id, t.WebhookEndpoint.disabled_at.is_(None))
                .order_by(t.WebhookEndpoint.created_at, t.WebhookEndpoint.id)
            )
            return [record(Endpoint, row) for row in rows]

    async def webhook_endpoint(self, endpoint_id: str) -> Endpoint | None:
        async with self._session() as s:
            row = await s.get(t.WebhookEndpoint, endpoint_id)
            return None if row is None else record(Endpoint, row)

    async def webhook_secret(self, endpoint_id: str) -> str:
        async with self._session() as s:
            row = await s.get(t.WebhookEndpoint, endpoint_id)
            if row is None:
                raise LookupError(f"no webhook endpoint {endpoint_id}")
            return self.keyring.unseal_webhook_secret(endpoint_id, row.secret_sealed)

    async def disable_webhook_endpoint(self, org_id: str, endpoint_id: str) -> bool:
        """Stops deliveries to it; its log stays. False if it is not the organisation's."""
        async with self._session.begin() as s:
            done = await s.execute(
                update(t.WebhookEndpoint)
                .where(
                    t.WebhookEndpoint.id == endpoint_id,
                    t.WebhookEndpoint.org_id == org_id,
                    t.WebhookEndpoint.disabled_at.is_(None),
                )
                .values(disabled_at=now())
            )
            return bool(done.rowcount)  # type: ignore[attr-defined]

    async def add_webhook_delivery(self, delivery: Delivery) -> tuple[Delivery, bool]:
        """Inserts the delivery unless its id is there (a redelivered event); returns the stored
        one and whether it is new."""
        async with self._session.begin() as s:
            values: dict[str, Any] = {k: v for k, v in delivery.__dict__.items() if k != "log"}
            inserted = await s.execute(
                self._insert(t.WebhookDelivery).values(**values).on_conflict_do_nothing()
            )
        stored = await self.webhook_delivery(delivery.id)
        assert stored is not None
        return stored, bool(inserted.rowcount)  # type: ignore[attr-defined]

    async def webhook_delivery(self, delivery_id: str) -> Delivery | None:
        async with self._session() as s:
            row = await s.get(t.WebhookDelivery, delivery_id)
            if row is None:
                return None
            attempts = await s.scalars(
                select(t.WebhookAttempt)
                .where(t.WebhookAttempt.delivery_id == delivery_id)
                .order_by(t.WebhookAttempt.attempt)
            )
            values = {f.name: getattr(row, f.name) for f in fields(Delivery) if f.name != "log"}
            return Delivery(**values, log=tuple(record(Attempt, a) for a in attempts))

    async def webhook_deliveries(
        self, org_id: str, endpoint_id: str | None = None, limit: int = 100
    ) -> list[Delivery]:
        """The newest deliveries first, each with its attempts."""
        query = select(t.WebhookDelivery.id).where(t.WebhookDelivery.org_id == org_id)
        if endpoint_id is not None:
            query = query.where(t.WebhookDelivery.endpoint_id == endpoint_id)
        async with self._session() as s:
            ids = list(
                await s.scalars(
                    query.order_by(t.WebhookDelivery.created_at.desc(), t.WebhookDelivery.id).limit(limit)
                )
            )
        found = [await self.webhook_delivery(i) for i in ids]
        return [d for d in found if d is not None]

    async def record_webhook_attempt(
        self, delivery_id: str, attempt: Attempt, status: str, next_attempt_at: datetime | None
    ) -> bool:
        """Logs the attempt and moves the delivery on, only if it is the delivery's next attempt
        (a redelivered attempt record changes nothing and returns False)."""
        async with self._session.begin() as s:
            moved = await s.execute(
                update(t.WebhookDelivery)
                .where(
                    t.WebhookDelivery.id == delivery_id,
                    t.WebhookDelivery.attempts == attempt.attempt - 1,
                )
                .values(attempts=attempt.attempt, status=status, next_attempt_at=next_attempt_at)
            )
            if not moved.rowcount:  # type: ignore[attr-defined]
                return False
            s.add(t.WebhookAttempt(delivery_id=delivery_id, **attempt.__dict__))
        return True
