"""First inserts that several processes race to make, against real databases: every racer
succeeds (or, for a taken slug, gets the domain's answer) and one row is left."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from cairn.usecases.provisioning import OrgExists, create_organisation
from schemas.admin import OrgCreateIn
from tests.integration.racing_stores import racing_stores

pytestmark = pytest.mark.integration

PROCESSES = 4  # separate engines, as the gateway's workers, the signer and the notifier are
AT_ONCE = 6  # concurrent calls in each


@pytest.fixture(params=["sqlite", "postgresql"])
async def stores(request, tmp_path):
    async for made in racing_stores(request, tmp_path, PROCESSES):
        yield made


async def _all_at_once(stores, call):
    """`call(store, n)` AT_ONCE times on each store, all started together; their outcomes."""
    return await asyncio.gather(
        *(call(store, n) for store in stores for n in range(AT_ONCE)), return_exceptions=True
    )


async def _count(store, table: str) -> int:
    async with store.engine.connect() as conn:
        return (await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()


async def _credential(store, org_id: str, n: int) -> str:
    """Credential n of the organisation, in the store; its id."""
    credential_id = f"urn:uuid:00000000-0000-0000-0000-{n:012d}"
    await store.insert_credential(
        credential_id=credential_id,
        award_id=f"award-{n}",
        org_id=org_id,
        badge_class_id="ten",
        recipient_key="a" * 64,
        document={"id": credential_id},
        issued_at=datetime.now(UTC),
    )
    return credential_id


async def test_the_same_new_people_upserted_at_once_all_succeed_one_row_each(stores):
    org, _ = await stores[0].create_org("A", "a")
    people = {f"{i:064d}": (f"p{i}@example.org", None) for i in range(10)}
    named = {key: (email, f"Person {i}") for i, (key, (email, _)) in enumerate(people.items())}

    outcomes = await _all_at_once(
        stores, lambda store, n: store.upsert_recipients(org.id, named if n == AT_ONCE - 1 else people)
    )

    assert [o for o in outcomes if isinstance(o, BaseException)] == []
    assert await _count(stores[0], "recipients") == 10
    rows = {r.recipient_key: r for r in await stores[1].recipients(org.id)}
    assert {key: rows[key].name for key in people} == {key: name for key, (_, name) in named.items()}
    salts = {key: (await stores[2].recipient(org.id, key)).salt for key in people}
    await stores[3].upsert_recipients(org.id, {key: (e, None) for key, (e, _) in people.items()})
    after = {key: await stores[0].recipient(org.id, key) for key in people}
    assert {key: c.salt for key, c in after.items()} == salts, "the first salt is kept"
    assert all(c.name for c in after.values()), "no name given keeps the name"


async def test_one_organisation_per_slug_when_made_at_once(stores):
    outcomes = await _all_at_once(
        stores, lambda store, n: create_organisation(store, OrgCreateIn(name="Riverside Food Bank"))
    )

    made = [o for o in outcomes if not isinstance(o, BaseException)]
    refused = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(made) == 1 and made[0][0].slug == "riverside-food-bank"
    assert refused and all(isinstance(o, OrgExists) for o in refused), refused
    assert await _count(stores[0], "organisations") == 1
    assert await _count(stores[0], "api_keys") == 1


async def test_claim_tokens_and_notifications_made_at_once_leave_one_row(stores):
    org, _ = await stores[0].create_org("A", "a")
    credential_id = await _credential(stores[0], org.id, 1)
    token = stores[0].claim_token_for(credential_id)

    claims = await _all_at_once(
        stores, lambda store, n: store.ensure_claim_token(credential_id, token, timedelta(days=30))
    )
    sends = await _all_at_once(
        stores, lambda store, n: store.record_notification(credential_id, "<m1>", "sending")
    )

    assert [o for o in claims + sends if isinstance(o, BaseException)] == []
    assert await _count(stores[0], "claim_tokens") == 1
    assert (await stores[1].claim(token)).credential.id == credential_id
    notification = await stores[2].notification(credential_id)
    assert (notification.status, notification.attempts) == ("sending", PROCESSES * AT_ONCE)


async def test_only_the_current_sender_can_mark_an_email_handed_over(stores):
    """Notifiers racing for one email: each wrote "sending" in turn (its attempt number); only
    the one whose attempt is the row's can mark it handed over, and then take the mark back."""
    org, _ = await stores[0].create_org("A", "a")
    credential_id = await _credential(stores[0], org.id, 2)
    for _ in range(3):
        await stores[0].record_notification(credential_id, "<m2>", "sending")

    marks = await _all_at_once(
        stores, lambda store, n: store.mark_handed_over(credential_id, 0, n % 3 + 1, True)
    )

    assert [o for o in marks if isinstance(o, BaseException)] == []
    attempts = [n % 3 + 1 for _ in stores for n in range(AT_ONCE)]  # as _all_at_once calls
    assert marks == [attempt == 3 for attempt in attempts], "only attempt 3, the row's, marks it"
    handed = await stores[1].notification(credential_id)
    assert (handed.status, handed.attempts) == ("handed_over", 3) and handed.sent_at is not None
    assert await stores[2].mark_handed_over(credential_id, 0, 2, False) is False
    assert await stores[3].mark_handed_over(credential_id, 0, 3, False) is True
    back = await stores[0].notification(credential_id)
    assert (back.status, back.sent_at) == ("sending", None)


async def test_first_status_changes_of_an_organisation_at_once_all_land(stores):
    """The organisation's status list row is made by whichever change comes first."""
    from cairn.credentials.status_list import get_bit

    org, _ = await stores[0].create_org("A", "a")
    credential_ids = []
    for n in range(PROCESSES * AT_ONCE):
        credential_id = f"urn:uuid:00000000-0000-0000-0000-{n:012d}"
        await stores[0].insert_credential(
            credential_id=credential_id,
            award_id=f"award-{n}",
            org_id=org.id,
            badge_class_id="ten",
            recipient_key="a" * 64,
            document={"id": credential_id},
            issued_at=datetime.now(UTC),
        )
        credential_ids.append(credential_id)
    indexes = [await stores[0].status_index(org.id, c) for c in credential_ids]

    outcomes = await asyncio.gather(
        *(
            store.change_status(org.id, c, "revoked", None, {"revocation": True}, lambda p, bits: {"p": p})
            for n, c in enumerate(credential_ids)
            for store in [stores[n % PROCESSES]]
        ),
        return_exceptions=True,
    )

    assert [o for o in outcomes if isinstance(o, BaseException)] == []
    bits = (await stores[0].status_list(org.id, "revocation")).bits
    assert all(get_bit(bits, i) for i in indexes), "every change's bit is set"
