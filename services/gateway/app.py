"""The gateway: the organisation API, the volunteer's pages and the public credential documents
(FastAPI). This module only builds the app: middlewares, routers (services/gateway/routers/, one
per resource), error handlers, and the running objects the dependencies hand to routes.

Requests are validated by the schemas/ models, identities come from the store, and records go
to Kafka. A 202 means Kafka acknowledged every record (acks=all).
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic.json_schema import models_json_schema

from cairn import bootstrap
from cairn.settings import Settings, get_settings
from schemas.activity import ActivityVoidedIn, EventBatchIn, VolunteerShiftIn, WorkshopAttendanceIn
from services.gateway import error_pages
from services.gateway.body_limit import BodySizeLimit
from services.gateway.dependencies import Limits
from services.gateway.openapi_errors import declare_errors
from services.gateway.rate_limits import RateLimiter
from services.gateway.routers import (
    badge_classes,
    check_in,
    credentials,
    dashboard,
    dashboard_awards,
    dashboard_badges,
    dashboard_check_in,
    dashboard_settings,
    dashboard_volunteers,
    dashboard_webhooks,
    direct_awards,
    earner,
    events,
    health,
    home,
    keys,
    metrics,
    org,
    public,
    questions,
    recipients,
    wallet,
    webhooks,
)
from services.gateway.strict_json import StrictJsonBodies

EVENT_BODIES = [VolunteerShiftIn, WorkshopAttendanceIn, ActivityVoidedIn, EventBatchIn]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        parts = await bootstrap.gateway(settings)
        app.state.settings, app.state.store, app.state.publisher = settings, parts.store, parts.publisher
        app.state.http, app.state.mailer = parts.http, parts.mailer
        app.state.limits = Limits(
            api_keys=RateLimiter(per_minute=settings.api_requests_per_minute, burst=settings.api_burst),
            claim_lookups=RateLimiter(
                per_minute=settings.link_misses_per_minute, burst=settings.link_misses_burst
            ),
            earner_emails=RateLimiter(per_minute=0.2, burst=3),
            check_ins=RateLimiter(per_minute=settings.check_ins_per_minute, burst=settings.check_ins_burst),
        )
        try:
            yield
        finally:
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
    for resource in (
        events,
        badge_classes,
        recipients,
        credentials,
        questions,
        org,
        keys,
        webhooks,
        direct_awards,
    ):
        app.include_router(resource.router)
    for pages in (health, public, earner, wallet, dashboard, dashboard_webhooks, metrics):
        app.include_router(pages.router)
    app.include_router(dashboard_awards.router)  # issue 12
    app.include_router(dashboard_check_in.router)  # issue 12
    app.include_router(check_in.router)  # issue 12
    app.include_router(dashboard_volunteers.router)
    app.include_router(dashboard_settings.router)
    app.include_router(dashboard_badges.router)  # the badge builder

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
