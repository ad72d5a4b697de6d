"""An organisation's webhook endpoints (the API): register one (its signing secret is in that
answer only), list and remove them, read the delivery log, replay a delivery."""

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response

from cairn.bootstrap import url_policy
from cairn.domain.webhooks import Delivery, Endpoint, EndpointRefused
from cairn.usecases.webhooks import register_endpoint, replay
from schemas.webhooks import (
    WebhookAttemptOut,
    WebhookDeliveryOut,
    WebhookEndpointIn,
    WebhookEndpointOut,
)
from services.gateway.dependencies import ClockDep, OrgAdmin, PublisherDep, SettingsDep, StoreDep
from services.gateway.strict_json import ParsedOnceRoute

router = APIRouter(prefix="/v1/webhooks", route_class=ParsedOnceRoute, tags=["webhooks"])


def endpoint_out(endpoint: Endpoint, secret: str | None = None) -> WebhookEndpointOut:
    return WebhookEndpointOut(
        id=endpoint.id,
        url=endpoint.url,
        events=endpoint.events,
        include_email=endpoint.include_email,
        description=endpoint.description,
        created_at=endpoint.created_at,
        disabled=endpoint.disabled_at is not None,
        secret=secret,
    )


def delivery_out(delivery: Delivery) -> WebhookDeliveryOut:
    return WebhookDeliveryOut(
        id=delivery.id,
        endpoint_id=delivery.endpoint_id,
        message_id=delivery.message_id,
        event_type=delivery.event_type,
        status=delivery.status,  # type: ignore[arg-type]
        attempts=[WebhookAttemptOut(**a.__dict__) for a in delivery.log],
        created_at=delivery.created_at,
        next_attempt_at=delivery.next_attempt_at,
        replay_of=delivery.replay_of,
    )


@router.get("", response_model=list[WebhookEndpointOut])
async def list_endpoints(org: OrgAdmin, store: StoreDep) -> list[WebhookEndpointOut]:
    return [endpoint_out(e) for e in await store.webhook_endpoints(org.id)]


@router.post("", status_code=201, response_model=WebhookEndpointOut)
async def create_endpoint(
    body: WebhookEndpointIn, org: OrgAdmin, store: StoreDep, settings: SettingsDep
) -> WebhookEndpointOut:
    """The signing secret (whsec_…) is in this answer only; keep it where the receiver can
    check signatures with it."""
    try:
        endpoint, secret = await register_endpoint(store, url_policy(settings), org.id, body)
    except EndpointRefused as refused:
        raise HTTPException(422, str(refused)) from None
    return endpoint_out(endpoint, secret)


@router.delete("/{endpoint_id}", status_code=204)
async def remove_endpoint(endpoint_id: str, org: OrgAdmin, store: StoreDep) -> Response:
    if not await store.disable_webhook_endpoint(org.id, endpoint_id):
        raise HTTPException(404, "no such webhook endpoint")
    return Response(status_code=204)


@router.get("/{endpoint_id}/deliveries", response_model=list[WebhookDeliveryOut])
async def endpoint_deliveries(endpoint_id: str, org: OrgAdmin, store: StoreDep) -> list[WebhookDeliveryOut]:
    """The newest 100 deliveries to the endpoint, each with every attempt and the answer to it."""
    endpoint = await store.webhook_endpoint(endpoint_id)
    if endpoint is None or endpoint.org_id != org.id:
        raise HTTPException(404, "no such webhook endpoint")
    return [delivery_out(d) for d in await store.webhook_deliveries(org.id, endpoint_id)]


@router.get("/deliveries/{delivery_id}", response_model=WebhookDeliveryOut)
async def delivery(delivery_id: str, org: OrgAdmin, store: StoreDep) -> WebhookDeliveryOut:
    found = await store.webhook_delivery(delivery_id)
    if found is None or found.org_id != org.id:
        raise HTTPException(404, "no such delivery")
    return delivery_out(found)


@router.post("/deliveries/{delivery_id}/replay", status_code=202, response_model=WebhookDeliveryOut)
async def replay_delivery(
    delivery_id: str, org: OrgAdmin, store: StoreDep, publisher: PublisherDep, clock: ClockDep
) -> WebhookDeliveryOut:
    """Sends the same message (same webhook-id and body) again, as a new delivery with its own
    attempts and retries."""
    try:
        again = await replay(store, publisher, org.id, delivery_id, clock)
    except LookupError as missing:
        raise HTTPException(404, str(missing)) from None
    return delivery_out(again)
