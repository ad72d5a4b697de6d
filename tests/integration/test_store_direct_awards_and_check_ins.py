"""Direct awards and check-ins against real databases (SQLite and PostgreSQL), by several
processes at once: one key's award is kept once and every racer gets it back; one person's
check-in at a session is kept once; a status moves once however many click."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from cairn.domain.records import CheckInRecord, CheckInSessionRecord, DirectAwardRecord
from tests.integration.racing_stores import racing_stores

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
PROCESSES, AT_ONCE = 3, 4


@pytest.fixture(params=["sqlite", "postgresql"])
async def stores(request, tmp_path):
    async for made in racing_stores(request, tmp_path, PROCESSES):
        yield made


async def _all_at_once(stores, call):
    return await asyncio.gather(*(call(store, n) for store in stores for n in range(AT_ONCE)))


async def test_one_key_is_one_direct_award_whoever_posts_it(stores):
    org, _ = await stores[0].create_org("A", "a")

    def award(n: int) -> DirectAwardRecord:
        return DirectAwardRecord(org.id, "voty", "b", 1, f"{n:064d}", 3, NOW + timedelta(seconds=n))

    outcomes = await _all_at_once(stores, lambda store, n: store.claim_direct_award(award(n)))
    assert sum(created for _, created in outcomes) == 1
    assert len({kept for kept, _ in outcomes}) == 1, "every racer is answered with the kept one"
    assert [a.idempotency_key for a in await stores[1].direct_awards(org.id)] == ["voty"]


async def test_one_check_in_per_person_and_a_status_moves_once(stores):
    org, _ = await stores[0].create_org("A", "a")
    session = CheckInSessionRecord("s1", org.id, "bike", "3", NOW, NOW + timedelta(hours=2), True, NOW)
    await stores[0].create_check_in_session(session)
    assert await stores[1].check_in_session("s1") == session
    assert stores[0].check_in_code_matches("s1", stores[2].check_in_code("s1")), "one keyring"

    def arrival(n: int) -> CheckInRecord:
        return CheckInRecord(f"c{n}", "s1", org.id, "k" * 64, "pending", NOW + timedelta(seconds=n))

    outcomes = await _all_at_once(stores, lambda store, n: store.add_check_in(arrival(n)))
    assert sum(created for _, created in outcomes) == 1
    [kept] = await stores[2].check_ins("s1")
    moved = await _all_at_once(
        stores, lambda store, n: store.set_check_in_status(kept.id, "pending", "posted")
    )
    assert len([m for m in moved if m is not None]) == 1, "two clicks on Confirm post once"
    assert [c.status for c in await stores[0].check_ins("s1")] == ["posted"]
