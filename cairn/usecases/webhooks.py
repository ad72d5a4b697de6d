"""Outbound webhooks: registering endpoints, fanning an event out to the endpoints that asked
for it, one attempt of a delivery (and scheduling the next), and replaying a delivery.

Every step is safe to repeat: a delivery's id is derived from the event and the endpoint, and an
attempt is logged only if it is the delivery's next one, so a redelivered Kafka record neither
makes a second delivery nor logs an attempt twice. The receiver can drop repeats by webhook-id.
"""

import json
from datetime import datetime, timedelta
from typing import Any

from cairn.domain.failures import PoisonRecord
from cairn.domain.webhooks import (
    ANSWER_KEPT_CHARS,
    RETRY_DELAYS,
    Attempt,
    Delivery,
    Endpoint,
    UrlPolicy,
    accepted,
    delivery_id,
    message_id,
    retry_delay,
    signed_headers,
)
from cairn.ports import SYSTEM_CLOCK, Answer, Clock, Poster, Publisher, Store
from schemas.awards import AwardQuestioned, CredentialIssued
from schemas.webhooks import CredentialChanged, WebhookAttemptDue, WebhookEndpointIn


async def register_endpoint(
    store: Store, policy: UrlPolicy, org_id: str, body: WebhookEndpointIn
) -> tuple[Endpoint, str]:
    """The endpoint and its secret (shown once). Raises EndpointRefused for a URL not allowed."""
    policy.check_url(body.url)
    return await store.create_webhook_endpoint(
        org_id, body.url, list(body.events), body.include_email, body.description
    )


async def _badge(store: Store, org_id: str, badge_class_id: str) -> dict[str, Any]:
    badge = await store.badge_class(org_id, badge_class_id)
    if badge is None:
        return {"id": badge_class_id}
    return {
        "id": badge.id,
        "version": badge.version,
        "name": badge.name,
        "description": badge.description,
        "image": badge.image,
        "tags": list(badge.tags),
    }


async def event_data(
    store: Store, record: CredentialIssued | CredentialChanged | AwardQuestioned, public_url: str
) -> tuple[str, str, dict[str, Any], str] | None:
    """(event type, subject, data, recipient key) for a record; None if it names a credential
    the store does not hold. No email here: that is added per endpoint that asked for it."""
    if isinstance(record, AwardQuestioned):
        data = {
            "award_id": record.award_id,
            "org_id": record.org_id,
            "recipient_key": record.recipient_key,
            "badge": await _badge(store, record.org_id, record.badge_class_id),
            "reason": record.reason,
            "evidence": [e.model_dump(mode="json") for e in record.evidence],
        }
        return "award.questioned", record.award_id, data, record.recipient_key
    credential = await store.credential(record.credential_id)
    if credential is None:
        return None
    kind = "issued" if isinstance(record, CredentialIssued) else record.change
    data = {
        "credential_id": credential.id,
        "award_id": credential.award_id,
        "org_id": credential.org_id,
        "recipient_key": credential.recipient_key,
        "badge": await _badge(store, credential.org_id, credential.badge_class_id),
        "issued_at": credential.issued_at.isoformat(),
        "status": credential.status,
        "url": f"{public_url}/credentials/{credential.id.removeprefix('urn:uuid:')}",
    }
    return f"credential.{kind}", credential.id, data, credential.recipient_key


async def fan_out(
    store: Store,
    publisher: Publisher,
    record: CredentialIssued | CredentialChanged | AwardQuestioned,
    public_url: str,
    clock: Clock = SYSTEM_CLOCK,
) -> list[Delivery]:
    """One delivery per endpoint of the organisation that asked for the event, each with its
    first attempt queued; returns the deliveries whose first attempt was queued now."""
    endpoints = await store.webhook_endpoints(record.org_id)
    if not endpoints:
        return []
    found = await event_data(store, record, public_url)
    if found is None:
        return []
    event_type, subject, data, recipient_key = found
    msg = message_id(event_type, subject)
    now = clock.now()
    queued = []
    for endpoint in endpoints:
        if event_type not in endpoint.events:
            continue
        body = dict(data)
        if endpoint.include_email:
            contact = await store.recipient(record.org_id, recipient_key)
            body["email"] = contact.email if contact else None
        payload = {"type": event_type, "timestamp": now.isoformat(), "data": body}
        stored, _ = await store.add_webhook_delivery(
            _new_delivery(delivery_id(msg, endpoint.id), endpoint, msg, event_type, payload, now)
        )
        if stored.attempts == 0:  # new, or queued before a crash that may have lost the record
            await publisher.publish(_due(stored, 1, now))
            queued.append(stored)
    return queued


def _new_delivery(
    new_id: str,
    endpoint: Endpoint,
    msg: str,
    event_type: str,
    payload: dict[str, Any],
    now: datetime,
    generation: int = 0,
    replay_of: str | None = None,
) -> Delivery:
    return Delivery(
        id=new_id,
        org_id=endpoint.org_id,
        endpoint_id=endpoint.id,
        message_id=msg,
        event_type=event_type,
        payload=payload,
        generation=generation,
        replay_of=replay_of,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )


def _due(delivery: Delivery, attempt: int, due_at: datetime) -> WebhookAttemptDue:
    return WebhookAttemptDue(
        delivery_id=delivery.id,
        org_id=delivery.org_id,
        endpoint_id=delivery.endpoint_id,
        attempt=attempt,
        due_at=due_at,
    )


def body_of(delivery: Delivery) -> bytes:
    """The bytes that are signed and sent: the same on every attempt of the delivery."""
    return json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()


async def attempt_delivery(
    store: Store,
    publisher: Publisher,
    poster: Poster,
    due: WebhookAttemptDue,
    clock: Clock = SYSTEM_CLOCK,
    delays: tuple[float, ...] = RETRY_DELAYS,
) -> Attempt | None:
    """POSTs the delivery once, logs the answer, and queues the next attempt after the delay the
    schedule gives (none after the last: the delivery failed). None: this was not the
    delivery's next attempt (a redelivered record), so nothing was sent."""
    delivery = await store.webhook_delivery(due.delivery_id)
    if delivery is None:
        raise PoisonRecord(f"no webhook delivery {due.delivery_id}")
    if delivery.attempts != due.attempt - 1 or delivery.status in {"delivered", "failed"}:
        return None
    endpoint = await store.webhook_endpoint(delivery.endpoint_id)
    started = clock.now()
    if endpoint is None or endpoint.disabled_at is not None:
        answer = Answer(None, "not sent: the endpoint was removed", 0)
    else:
        secret = await store.webhook_secret(endpoint.id)
        body = body_of(delivery)
        headers = signed_headers(secret, delivery.message_id, int(started.timestamp()), body)
        answer = await poster.post(endpoint.url, body, headers)
    done = Attempt(
        due.attempt, started, answer.status_code, answer.text[:ANSWER_KEPT_CHARS], answer.duration_ms
    )
    if answer.status_code is not None and accepted(answer.status_code):
        status, next_at = "delivered", None
    else:
        delay = retry_delay(due.attempt, delays) if endpoint and endpoint.disabled_at is None else None
        status, next_at = (
            ("failed", None) if delay is None else ("retrying", clock.now() + timedelta(seconds=delay))
        )
    if next_at is not None:  # queued before the log, so a crash between them loses no retry
        await publisher.publish(_due(delivery, due.attempt + 1, next_at))
    await store.record_webhook_attempt(delivery.id, done, status, next_at)
    return done


async def replay(
    store: Store, publisher: Publisher, org_id: str, original_id: str, clock: Clock = SYSTEM_CLOCK
) -> Delivery:
    """A new delivery of the same message (same webhook-id and body) to the same endpoint, with
    its own attempts. Raises LookupError if the delivery is not the organisation's or its
    endpoint was removed."""
    original = await store.webhook_delivery(original_id)
    if original is None or original.org_id != org_id:
        raise LookupError(f"no webhook delivery {original_id}")
    endpoint = await store.webhook_endpoint(original.endpoint_id)
    if endpoint is None or endpoint.disabled_at is not None:
        raise LookupError("the delivery's endpoint was removed")
    generation = original.generation + 1
    while await store.webhook_delivery(delivery_id(original.message_id, endpoint.id, generation)):
        generation += 1
    now = clock.now()
    new = _new_delivery(
        delivery_id(original.message_id, endpoint.id, generation),
        endpoint,
        original.message_id,
        original.event_type,
        original.payload,
        now,
        generation,
        original.id,
    )
    stored, _ = await store.add_webhook_delivery(new)
    await publisher.publish(_due(stored, 1, now))
    return stored
