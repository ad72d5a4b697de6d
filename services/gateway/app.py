"""The gateway: the organisation API, the volunteer's pages and the public credential documents
(FastAPI). This module only wires: routes live in org_api, org_admin, public_routes,
earner_pages, wallet and dashboard.

Requests are validated by the schemas/ models, identities come from the store, and records go
to Kafka. A 202 means Kafka acknowledged every record (acks=all).
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic.json_schema import models_json_schema

from cairn import bootstrap
from cairn.adapters.kafka import bus
from cairn.adapters.store import Store
from cairn.settings import Settings, get_settings
from schemas.activity import ActivityVoidedIn, EventBatchIn, VolunteerShiftIn, WorkshopAttendanceIn
from schemas.awards import AwardQuestioned, ProgressUpdated
from schemas.envelope import CloudEvent
from services.gateway import (
    dashboard,
    earner_pages,
    error_pages,
    home,
    org_admin,
    org_api,
    public_routes,
    wallet,
)
from services.gateway.body_limit import BodySizeLimit
from services.gateway.dependencies import Limits
from services.gateway.openapi_errors import declare_errors
from services.gateway.rate_limits import RateLimiter
from services.gateway.strict_json import StrictJsonBodies

EVENT_BODIES = [VolunteerShiftIn, WorkshopAttendanceIn, ActivityVoidedIn, EventBatchIn]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        parts = await bootstrap.gateway(settings)
        store = parts.store
        app.state.settings, app.state.store, app.state.producer = settings, store, parts.producer
        app.state.publisher, app.state.http, app.state.mailer = parts.publisher, parts.http, parts.mailer
        app.state.limits = Limits(
            api_keys=RateLimiter(per_minute=settings.api_requests_per_minute, burst=settings.api_burst),
            claim_lookups=RateLimiter(
                per_minute=settings.link_misses_per_minute, burst=settings.link_misses_burst
            ),
            earner_emails=RateLimiter(per_minute=0.2, burst=3),
        )
        stopping = asyncio.Event()
        followers = [
            asyncio.create_task(_keep_progress(settings, store, stopping)),
            asyncio.create_task(_keep_questions(settings, store, stopping)),
        ]
        try:
            yield
        finally:
            stopping.set()
            await asyncio.gather(*followers)
            await parts.close()

    app = FastAPI(
        title="Cairn gateway",
        version="0.1.0",
        description="Post community activity; Cairn turns it into Open Badges 3.0 credentials.",
        lifespan=lifespan,
        docs_url=None,  # home.py serves /docs with local assets
        redoc_url=None,
    )
    app.add_middleware(StrictJsonBodies)  # inside the size limit: what it buffers is bounded
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_bytes)
    error_pages.install(app)
    home.install(app)
    app.include_router(org_api.router)
    app.include_router(org_admin.router)
    app.include_router(public_routes.router)
    app.include_router(earner_pages.router)
    app.include_router(wallet.router)
    app.include_router(dashboard.router)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    def openapi() -> dict[str, Any]:
        """FastAPI's document plus the event bodies, which the handler parses itself, and the
        error answers of the machinery routes share."""
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            _, defs = models_json_schema(
                [(model, "validation") for model in EVENT_BODIES], ref_template="#/components/schemas/{model}"
            )
            document.setdefault("components", {}).setdefault("schemas", {}).update(defs["$defs"])
            declare_errors(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


async def _keep_questions(settings: Settings, store: Store, stopping: asyncio.Event) -> None:
    """Keeps award questions in the store for the organisation to decide (at-least-once; the
    first record of a question wins)."""

    async def save(event: CloudEvent[AwardQuestioned]) -> None:
        await store.save_question(event.data)

    await bus.consume_forever(
        settings.kafka_bootstrap,
        "cairn-gateway-questions",
        bus.AWARD_QUESTIONS,
        AwardQuestioned,
        save,
        stopping,
    )


async def _keep_progress(settings: Settings, store: Store, stopping: asyncio.Event) -> None:
    """Keeps the store's progress views up to date from cairn.progress.v1 (at-least-once;
    the newest update per recipient wins, so redelivery is harmless)."""

    async def save(event: CloudEvent[ProgressUpdated]) -> None:
        await store.save_progress(event.data)

    await bus.consume_forever(
        settings.kafka_bootstrap, "cairn-gateway-progress", bus.PROGRESS, ProgressUpdated, save, stopping
    )
