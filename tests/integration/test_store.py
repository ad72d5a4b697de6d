"""The store adapter against real databases: an SQLite file and a PostgreSQL server."""

import secrets
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from cairn.store import open_store
from schemas.badge_class import BadgeClassIn

pytestmark = pytest.mark.integration


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'cairn.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    store = open_store(url, secrets.token_bytes(32))
    await store.create_schema()
    yield store
    if request.param == "postgresql":
        async with store.engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    await store.close()


BADGE = BadgeClassIn(
    id="ten",
    name="Ten",
    description="d",
    criteria_narrative="n",
    criteria={"kind": "total_hours", "at_least": 10},
)


async def test_api_keys_find_their_org_only(store):
    org_a, key_a = await store.create_org("A", "a")
    org_b, key_b = await store.create_org("B", "b")
    assert (await store.org_for_api_key(key_a)).id == org_a.id
    assert (await store.org_for_api_key(key_b)).id == org_b.id
    assert await store.org_for_api_key(key_a + "x") is None


async def test_secrets_are_encrypted_at_rest(store):
    org, _ = await store.create_org("A", "a")
    key = await store.issuer_key(org.id)
    async with store.engine.connect() as conn:
        sealed = (await conn.execute(text("SELECT secret_sealed FROM issuer_keys"))).scalar_one()
    from cairn.credentials.multikey import secret_key_multibase

    assert secret_key_multibase(key).encode() not in sealed
    assert len(await store.org_secret(org.id)) == 32


async def test_badge_class_versions_increase(store):
    org, _ = await store.create_org("A", "a")
    assert (await store.save_badge_class(org.id, BADGE)).version == 1
    assert (await store.save_badge_class(org.id, BADGE.model_copy(update={"name": "Ten!"}))).version == 2
    assert (await store.badge_class(org.id, "ten")).name == "Ten!"
    assert (await store.badge_class(org.id, "ten", version=1)).name == "Ten"
    assert [b.version for b in await store.badge_classes(org.id)] == [2]


async def test_one_credential_per_award(store):
    org, _ = await store.create_org("A", "a")
    now = datetime.now(UTC).replace(microsecond=0)
    fields = dict(
        award_id="award-1", org_id=org.id, badge_class_id="ten", recipient_key="r" * 64, issued_at=now
    )
    first, created = await store.insert_credential(credential_id="urn:uuid:1", document={"n": 1}, **fields)
    again, created_again = await store.insert_credential(
        credential_id="urn:uuid:1", document={"n": 2}, **fields
    )
    assert created and not created_again and again.document == {"n": 1}
    assert first.id == again.id == "urn:uuid:1" and first.issued_at == now
    assert len(await store.credentials(org.id)) == 1
    assert (await store.credential("urn:uuid:1")).issued_at == now


async def test_claim_tokens_hashed_and_expiring(store):
    org, _ = await store.create_org("A", "a")
    now = datetime.now(UTC)
    await store.insert_credential(
        credential_id="urn:uuid:1",
        award_id="a1",
        org_id=org.id,
        badge_class_id="ten",
        recipient_key="r" * 64,
        document={},
        issued_at=now,
    )
    token = store.claim_token_for("urn:uuid:1")
    assert token == store.claim_token_for("urn:uuid:1") != store.claim_token_for("urn:uuid:1", generation=1)
    await store.ensure_claim_token("urn:uuid:1", token, timedelta(days=30))
    assert (await store.claim(token)).id == "urn:uuid:1"
    wrong = token[:-1] + ("0" if token[-1] != "0" else "1")
    assert await store.claim(wrong) is None
    async with store.engine.connect() as conn:
        stored = (await conn.execute(text("SELECT token_hash FROM claim_tokens"))).scalar_one()
    assert stored != token
    expired = store.claim_token_for("urn:uuid:1", generation=2)
    await store.ensure_claim_token("urn:uuid:1", expired, timedelta(seconds=-1))
    assert await store.claim(expired) is None
