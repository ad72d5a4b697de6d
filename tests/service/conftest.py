"""The service-layer tier: every use case run on fakes of its ports, no Kafka, SMTP or server.

The store is the dict-backed fake (tests/service/fakes_store.py), held to the real store's answers
by test_store_fakes_agree.py.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cairn.domain.records import Org
from cairn.ports import Store
from cairn.settings import Settings
from cairn.usecases.intake import accept_events
from cairn.usecases.issuing import issue_and_announce
from cairn.usecases.provisioning import create_organisation
from schemas.admin import OrgCreateIn
from schemas.awards import AwardGranted, CredentialIssued
from schemas.badge_class import BadgeClassIn
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
from tests.service.fakes import FakeClock, FakeMailer, FakePublisher
from tests.service.fakes_store import FakeStore
from tests.service.flow import PUBLIC_URL, awards_from, shift

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


@pytest.fixture
def store() -> Store:
    return FakeStore()


@pytest.fixture
def publisher() -> FakePublisher:
    return FakePublisher()


@pytest.fixture
def mailer() -> FakeMailer:
    return FakeMailer()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(var_dir=tmp_path, public_url=PUBLIC_URL)


@dataclass
class Riverside:
    """An organisation with one badge class: ten hours of volunteering."""

    org: Org
    api_key: str
    badge_id: str = "ten-hours"


@pytest.fixture
async def riverside(store: Store) -> Riverside:
    org, api_key = await create_organisation(
        store, OrgCreateIn(name="Riverside Food Bank", slug="riverside", email="hello@riverside.example")
    )
    await store.save_badge_class(
        org.id,
        BadgeClassIn(
            id="ten-hours",
            name="Pantry volunteer: 10 hours",
            description="Gave ten hours at the pantry.",
            criteria_narrative="Log at least 10 hours of volunteer shifts.",
            criteria={"kind": "total_hours", "at_least": 10},
        ),
    )
    return Riverside(org, api_key)


@pytest.fixture
async def award(store: Store, publisher: FakePublisher, riverside: Riverside) -> AwardGranted:
    """Sam's ten-hours award, from one ten-hour shift through intake and the criteria engine."""
    await accept_events(store, publisher, riverside.org, [shift("s1", "sam@example.org", 0, 10)])
    [award] = await awards_from(publisher, store, riverside.org.id)
    return award


@pytest.fixture
async def issued(
    store: Store, publisher: FakePublisher, clock: FakeClock, award: AwardGranted
) -> CredentialIssued:
    """Sam's credential, signed and announced (what the notifier receives)."""
    return await issue_and_announce(store, publisher, award, PUBLIC_URL, clock)


@pytest.fixture
def gateway(store, publisher, clock, settings) -> TestClient:
    """The gateway's routes on these fakes (check-ins limited to 3 per address)."""
    app = create_app(settings)
    limits = Limits(
        api_keys=RateLimiter(per_minute=600, burst=100),
        claim_lookups=RateLimiter(per_minute=600, burst=100),
        earner_emails=RateLimiter(per_minute=600, burst=100),
        check_ins=RateLimiter(per_minute=0.001, burst=3),
    )
    app.dependency_overrides.update(
        {
            get_store: lambda: store,
            get_publisher: lambda: publisher,
            get_settings: lambda: settings,
            get_limits: lambda: limits,
            get_clock: lambda: clock,
        }
    )
    return TestClient(app, base_url="https://testserver", follow_redirects=False)  # no lifespan, no Kafka
