"""The gateway's routes take the store, settings, limits and clock as FastAPI dependencies, so a
test builds the real app with fakes in their place: no Kafka, no database, no lifespan."""

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cairn.domain.records import ApiKeyInfo, Org
from cairn.settings import Settings
from services.gateway.app import create_app
from services.gateway.dependencies import (
    Limits,
    get_clock,
    get_limits,
    get_publisher,
    get_settings,
    get_store,
)
from services.gateway.rate_limits import RateLimiter

ORG = Org("org-1", "riverside", "Riverside", None, None, None, "#336699")
CREATED = datetime(2026, 11, 1, tzinfo=UTC)
KEYS = {
    "cairn_reader": ApiKeyInfo("key-r", ORG, "reader", frozenset({"read"}), CREATED, None),
    "cairn_writer": ApiKeyInfo("key-w", ORG, "writer", frozenset({"events:write"}), CREATED, None),
}


class FakeStore:
    """Only what the routes under test ask of the store."""

    async def api_key(self, key: str) -> ApiKeyInfo | None:
        return KEYS.get(key)

    async def api_key_by_id(self, key_id: str) -> ApiKeyInfo | None:
        return next((k for k in KEYS.values() if k.id == key_id), None)

    async def badge_classes(self, org_id: str) -> list:
        return []

    async def badge_stats(self, org_id: str) -> dict:
        return {}

    def session_mac(self, text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()


class Publisher:
    """Fails the test if a read-only route publishes."""

    def __getattr__(self, name: str):
        raise AssertionError(f"nothing should be published ({name})")


class MovableClock:
    def __init__(self) -> None:
        self.at = CREATED

    def now(self) -> datetime:
        return self.at


@pytest.fixture
def app() -> FastAPI:
    app = create_app(Settings(public_url="http://cairn.test"))
    limits = Limits(
        api_keys=RateLimiter(per_minute=0.001, burst=2),
        claim_lookups=RateLimiter(per_minute=0.001, burst=5),
        earner_emails=RateLimiter(per_minute=0.001, burst=5),
    )
    app.dependency_overrides.update(
        {
            get_store: FakeStore,
            get_publisher: Publisher,
            get_settings: lambda: Settings(public_url="http://cairn.test"),
            get_limits: lambda: limits,
        }
    )
    return app


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_a_route_runs_on_the_overridden_store_and_limits(app):
    client = TestClient(app)  # not entered: the lifespan (Kafka, the store) never starts
    assert client.get("/v1/badge-classes").status_code == 401
    assert client.get("/v1/badge-classes", headers=bearer("cairn_unknown")).status_code == 401
    assert client.get("/v1/badge-classes", headers=bearer("cairn_writer")).status_code == 403
    assert client.get("/v1/badge-classes", headers=bearer("cairn_reader")).json() == []
    assert client.get("/v1/badge-classes", headers=bearer("cairn_reader")).status_code == 200
    refused = client.get("/v1/badge-classes", headers=bearer("cairn_reader"))
    assert refused.status_code == 429 and refused.headers["Retry-After"]


def test_the_dashboard_session_ages_by_the_overridden_clock(app):
    clock = MovableClock()
    app.dependency_overrides[get_clock] = lambda: clock
    client = TestClient(app, follow_redirects=False)
    signed_in = client.post("/dashboard/sign-in", data={"api_key": "cairn_reader"})
    assert signed_in.status_code == 303
    assert signed_in.cookies["cairn_session"].startswith(f"key-r.{int(CREATED.timestamp())}.")
    assert client.get("/dashboard").status_code == 200

    clock.at = CREATED + timedelta(hours=13)  # sessions last 12 hours
    expired = client.get("/dashboard")
    assert (expired.status_code, expired.headers["location"]) == (303, "/dashboard/sign-in")
