"""The dashboard's webhooks page: register an endpoint (its secret shown once), remove one, and
read the delivery log with each attempt's answer, replaying a delivery. Same scope as the API
(org:admin) and the same use cases."""

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from cairn.bootstrap import url_policy
from cairn.domain.records import ApiKeyInfo
from cairn.domain.webhooks import EVENTS, EndpointRefused
from cairn.usecases.webhooks import register_endpoint, replay
from schemas.webhooks import WebhookEndpointIn
from services.gateway.dependencies import PublisherDep, SettingsDep
from services.gateway.routers.dashboard import Desk, DeskDep

router = APIRouter(prefix="/dashboard/webhooks", include_in_schema=False)
SCOPE = "org:admin"


async def _page(desk: Desk, key: ApiKeyInfo, status_code: int = 200, **context: object) -> HTMLResponse:
    endpoints = await desk.store.webhook_endpoints(key.org.id)
    deliveries = await desk.store.webhook_deliveries(key.org.id, limit=50)
    urls = {e.id: e.url for e in endpoints}
    return desk.page(
        "dashboard_webhooks.html",
        key,
        status_code,
        page="webhooks",
        endpoints=endpoints,
        deliveries=deliveries,
        urls=urls,
        events=EVENTS,
        **context,
    )


@router.get("", response_class=HTMLResponse)
async def webhooks_page(desk: DeskDep) -> HTMLResponse:
    key = await desk.signed_in(SCOPE)
    return await _page(desk, key)


@router.post("", response_class=HTMLResponse)
async def add_endpoint(
    desk: DeskDep,
    settings: SettingsDep,
    token: Annotated[str, Form()],
    url: Annotated[str, Form()],
    events: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI reads the default, never mutates it)
    include_email: Annotated[bool, Form()] = False,
    description: Annotated[str, Form()] = "",
) -> HTMLResponse:
    key = await desk.checked_form(SCOPE, token)
    try:
        body = WebhookEndpointIn(url=url, events=events, include_email=include_email, description=description)  # type: ignore[arg-type]
        endpoint, secret = await register_endpoint(desk.store, url_policy(settings), key.org.id, body)
    except ValidationError as e:
        problem = "; ".join(str(err["msg"]) for err in e.errors())
        return await _page(desk, key, 422, error=problem, given_url=url)
    except EndpointRefused as refused:
        return await _page(desk, key, 422, error=str(refused), given_url=url)
    return await _page(desk, key, 201, created=endpoint, secret=secret)


@router.post("/{endpoint_id}/remove")
async def remove_endpoint(endpoint_id: str, desk: DeskDep, token: Annotated[str, Form()]) -> RedirectResponse:
    key = await desk.checked_form(SCOPE, token)
    if not await desk.store.disable_webhook_endpoint(key.org.id, endpoint_id):
        raise HTTPException(404, "no such webhook endpoint")
    return RedirectResponse("/dashboard/webhooks", 303)


@router.post("/deliveries/{delivery_id}/replay")
async def replay_delivery(
    delivery_id: str, desk: DeskDep, publisher: PublisherDep, token: Annotated[str, Form()]
) -> RedirectResponse:
    key = await desk.checked_form(SCOPE, token)
    try:
        await replay(desk.store, publisher, key.org.id, delivery_id, desk.clock)
    except LookupError as missing:
        raise HTTPException(404, str(missing)) from None
    return RedirectResponse("/dashboard/webhooks#deliveries", 303)
