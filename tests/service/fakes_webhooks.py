"""The webhook part of the FakeStore (tests/service/fakes_store.py): endpoints, deliveries and
attempts in dicts, answering as cairn/adapters/store/webhooks.py does."""

import uuid
from dataclasses import replace
from datetime import UTC, datetime

from cairn.adapters.keyring import Keyring
from cairn.adapters.store.webhooks import new_secret
from cairn.domain.webhooks import Attempt, Delivery, Endpoint


class FakeWebhookTables:
    keyring: Keyring

    def _webhook_tables(self) -> tuple[dict[str, Endpoint], dict[str, bytes], dict[str, Delivery]]:
        if not hasattr(self, "_endpoints"):
            self._endpoints: dict[str, Endpoint] = {}
            self._sealed: dict[str, bytes] = {}
            self._deliveries: dict[str, Delivery] = {}
        return self._endpoints, self._sealed, self._deliveries

    async def create_webhook_endpoint(
        self, org_id: str, url: str, events: list[str], include_email: bool, description: str
    ) -> tuple[Endpoint, str]:
        endpoints, sealed, _ = self._webhook_tables()
        endpoint_id, secret = str(uuid.uuid4()), new_secret()
        endpoint = Endpoint(
            endpoint_id, org_id, url, sorted(set(events)), include_email, description, datetime.now(UTC), None
        )
        endpoints[endpoint_id] = endpoint
        sealed[endpoint_id] = self.keyring.seal_webhook_secret(endpoint_id, secret)
        return endpoint, secret

    async def webhook_endpoints(self, org_id: str) -> list[Endpoint]:
        endpoints, _, _ = self._webhook_tables()
        found = [e for e in endpoints.values() if e.org_id == org_id and e.disabled_at is None]
        return sorted(found, key=lambda e: (e.created_at, e.id))

    async def webhook_endpoint(self, endpoint_id: str) -> Endpoint | None:
        return self._webhook_tables()[0].get(endpoint_id)

    async def webhook_secret(self, endpoint_id: str) -> str:
        sealed = self._webhook_tables()[1].get(endpoint_id)
        if sealed is None:
            raise LookupError(f"no webhook endpoint {endpoint_id}")
        return self.keyring.unseal_webhook_secret(endpoint_id, sealed)

    async def disable_webhook_endpoint(self, org_id: str, endpoint_id: str) -> bool:
        endpoints, _, _ = self._webhook_tables()
        endpoint = endpoints.get(endpoint_id)
        if endpoint is None or endpoint.org_id != org_id or endpoint.disabled_at is not None:
            return False
        endpoints[endpoint_id] = replace(endpoint, disabled_at=datetime.now(UTC))
        return True

    async def add_webhook_delivery(self, delivery: Delivery) -> tuple[Delivery, bool]:
        deliveries = self._webhook_tables()[2]
        if delivery.id in deliveries:
            return deliveries[delivery.id], False
        deliveries[delivery.id] = replace(delivery, log=())
        return deliveries[delivery.id], True

    async def webhook_delivery(self, delivery_id: str) -> Delivery | None:
        return self._webhook_tables()[2].get(delivery_id)

    def forget_emails(self, org_id: str, recipient_key: str) -> None:
        deliveries = self._webhook_tables()[2]
        for d in list(deliveries.values()):
            data = d.payload.get("data", {})
            if d.org_id == org_id and data.get("recipient_key") == recipient_key and "email" in data:
                kept = {k: v for k, v in data.items() if k != "email"}
                deliveries[d.id] = replace(d, payload={**d.payload, "data": kept})

    async def webhook_deliveries(
        self, org_id: str, endpoint_id: str | None = None, limit: int = 100
    ) -> list[Delivery]:
        found = [
            d
            for d in self._webhook_tables()[2].values()
            if d.org_id == org_id and endpoint_id in (None, d.endpoint_id)
        ]
        found.sort(key=lambda d: d.id)
        found.sort(key=lambda d: d.created_at, reverse=True)
        return found[:limit]

    async def record_webhook_attempt(
        self, delivery_id: str, attempt: Attempt, status: str, next_attempt_at: datetime | None
    ) -> bool:
        deliveries = self._webhook_tables()[2]
        delivery = deliveries.get(delivery_id)
        if delivery is None or delivery.attempts != attempt.attempt - 1:
            return False
        deliveries[delivery_id] = replace(
            delivery,
            attempts=attempt.attempt,
            status=status,
            next_attempt_at=next_attempt_at,
            log=(*delivery.log, attempt),
        )
        return True
