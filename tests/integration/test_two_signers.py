"""Two signers (or more) handed the same award at once, as a rebalance or a redelivery can do,
against real databases: one credential, one status list index, and every signer announces
that one credential (the notifier keys its one email by the credential id)."""

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from cairn.usecases.intake import accept_events
from cairn.usecases.issuing import issue_and_announce
from cairn.usecases.provisioning import create_organisation
from schemas.admin import OrgCreateIn
from schemas.awards import CredentialIssued
from schemas.badge_class import BadgeClassIn
from tests.integration.racing_stores import racing_stores
from tests.service.fakes import FakeClock, FakePublisher
from tests.service.flow import PUBLIC_URL, awards_from, shift

pytestmark = pytest.mark.integration

SIGNERS = 4
AT_ONCE = 3


@pytest.fixture(params=["sqlite", "postgresql"])
async def stores(request, tmp_path):
    async for made in racing_stores(request, tmp_path, SIGNERS):
        yield made


async def test_signers_racing_on_one_award_issue_one_credential(stores):
    org, _ = await create_organisation(stores[0], OrgCreateIn(name="Riverside", slug="riverside"))
    await stores[0].save_badge_class(
        org.id,
        BadgeClassIn(
            id="ten-hours",
            name="Ten hours",
            description="Ten hours.",
            criteria_narrative="Log ten hours.",
            criteria={"kind": "total_hours", "at_least": 10},
        ),
    )
    intake = FakePublisher()
    await accept_events(stores[0], intake, org, [shift("s1", "sam@example.org", 0, 10)])
    [award] = await awards_from(intake, stores[0], org.id)
    publishers = [FakePublisher() for _ in stores]
    clock = FakeClock(datetime(2026, 11, 30, 12, tzinfo=UTC))

    issued = await asyncio.gather(
        *(
            issue_and_announce(store, publisher, award, PUBLIC_URL, clock)
            for store, publisher in zip(stores, publishers, strict=True)
            for _ in range(AT_ONCE)
        )
    )

    assert {i.credential_id for i in issued} == {issued[0].credential_id}
    announced = [r for p in publishers for r in p.of(CredentialIssued)]
    assert len(announced) == SIGNERS * AT_ONCE and {r.credential_id for r in announced} == {
        issued[0].credential_id
    }
    async with stores[0].engine.connect() as conn:
        credentials = (await conn.execute(text("SELECT count(*) FROM credentials"))).scalar_one()
        entries = (await conn.execute(text("SELECT count(*) FROM status_entries"))).scalar_one()
    assert (credentials, entries) == (1, 1)
