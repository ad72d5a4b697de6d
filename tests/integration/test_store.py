"""The store adapter against real databases: an SQLite file and a PostgreSQL server."""

import secrets
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from cairn.adapters.store import open_store
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
    assert (await store.api_key(key_a)).org.id == org_a.id
    assert (await store.api_key(key_b)).org.id == org_b.id
    assert await store.api_key(key_a + "x") is None


async def test_api_keys_are_named_scoped_hashed_and_revocable(store):
    org, _ = await store.create_org("A", "a")
    key_id, key = await store.create_api_key(org.id, "rota sync", {"events:write"})
    found = await store.api_key(key)
    assert (found.name, found.scopes) == ("rota sync", frozenset({"events:write"}))
    async with store.engine.connect() as conn:
        hashes = (await conn.execute(text("SELECT key_hash FROM api_keys"))).scalars().all()
    assert key not in hashes and len(hashes) == 2
    with pytest.raises(ValueError, match="unknown scopes: root"):
        await store.create_api_key(org.id, "bad", {"root"})
    other, _ = await store.create_org("B", "b")
    assert not await store.revoke_api_key(other.id, key_id), "another organisation cannot revoke it"
    assert await store.revoke_api_key(org.id, key_id)
    assert await store.api_key(key) is None
    assert [k.revoked_at is not None for k in await store.api_keys(org.id)] == [False, True]


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
    assert (await store.claim(token)).credential.id == "urn:uuid:1"
    wrong = token[:-1] + ("0" if token[-1] != "0" else "1")
    assert (await store.claim(wrong)).credential is None
    async with store.engine.connect() as conn:
        stored = (await conn.execute(text("SELECT token_hash FROM claim_tokens"))).scalar_one()
    assert stored != token
    expired = store.claim_token_for("urn:uuid:1", generation=2)
    await store.ensure_claim_token("urn:uuid:1", expired, timedelta(seconds=-1), generation=2)
    claim = await store.claim(expired)
    assert claim.expired and claim.credential.id == "urn:uuid:1", "expired, yet it can ask for a fresh link"
    assert (await store.claim(token)).credential is None, "a later generation retires earlier links"


async def _credential(store, org_id: str, n: int) -> str:
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


async def test_status_indexes_are_stable_and_unique(store):
    from cairn.credentials.status_list import LIST_SIZE

    org, _ = await store.create_org("A", "a")
    indexes = [await store.status_index(org.id, f"urn:uuid:c{n}") for n in range(200)]
    assert len(set(indexes)) == 200 and all(0 <= i < LIST_SIZE for i in indexes)
    assert indexes != sorted(indexes), "allocated at random, not in issue order"
    assert await store.status_index(org.id, "urn:uuid:c7") == indexes[7], (
        "the same credential, the same index"
    )


async def test_status_change_flips_the_bit_and_resigns_in_one_go(store):
    from cairn.credentials.status_list import get_bit

    org, _ = await store.create_org("A", "a")
    credential_id = await _credential(store, org.id, 1)
    index = await store.status_index(org.id, credential_id)
    signed = []

    def sign(purpose: str, bits: bytes) -> dict:
        signed.append(purpose)
        return {"purpose": purpose, "set": get_bit(bits, index)}

    changed = await store.change_status(
        org.id, credential_id, "revoked", "mistake", {"revocation": True}, sign
    )
    assert (changed.status, changed.status_reason) == ("revoked", "mistake")
    row = await store.status_list(org.id, "revocation")
    assert get_bit(row.bits, index) and row.document == {"purpose": "revocation", "set": True}
    assert sum(get_bit(row.bits, i) for i in range(len(row.bits) * 8)) == 1

    other, _ = await store.create_org("B", "b")
    with pytest.raises(LookupError):
        await store.change_status(other.id, credential_id, "active", None, {"revocation": False}, sign)
    assert (await store.credential(credential_id)).status == "revoked", "another tenant changed nothing"

    def failing_sign(purpose: str, bits: bytes) -> dict:
        raise RuntimeError("signer down")

    with pytest.raises(RuntimeError):
        await store.change_status(org.id, credential_id, "active", None, {"revocation": False}, failing_sign)
    assert get_bit((await store.status_list(org.id, "revocation")).bits, index), "rolled back"
    assert (await store.credential(credential_id)).status == "revoked"


async def test_rotation_keeps_old_public_keys(store):
    from cairn.credentials.multikey import public_key_multibase

    org, _ = await store.create_org("A", "a")
    first = public_key_multibase((await store.issuer_key(org.id)).public_key())
    second = await store.rotate_issuer_key(org.id)
    assert public_key_multibase((await store.issuer_key(org.id)).public_key()) == second != first
    assert await store.issuer_public_keys(org.id) == [first, second]


async def test_jwt_keys_are_made_once_sealed_and_kept_after_rotation(store):
    from cairn.credentials import vc_jwt

    org, _ = await store.create_org("A", "a")
    rsa_key, rsa_id = await store.jwt_key(org.id, "RS256")
    again, again_id = await store.jwt_key(org.id, "RS256")
    assert again_id == rsa_id and again.public_key().public_numbers() == rsa_key.public_key().public_numbers()
    _, ec_id = await store.jwt_key(org.id, "ES256")
    assert [vc_jwt.jwk_thumbprint(j) for j in await store.issuer_jwks(org.id)] == [rsa_id, ec_id]
    assert len(await store.issuer_public_keys(org.id)) == 1, "JWT keys are not Multikeys"
    await store.rotate_issuer_key(org.id)
    _, new_rsa_id = await store.jwt_key(org.id, "RS256")
    assert new_rsa_id != rsa_id and len(await store.issuer_jwks(org.id)) == 3


async def test_notifications_and_award_counts_in_one_query_each(store):
    org, _ = await store.create_org("A", "a")
    first, second = await _credential(store, org.id, 1), await _credential(store, org.id, 2)
    await store.record_notification(first, "<m1>", "sent")
    assert {k: n.status for k, n in (await store.notifications([first, second])).items()} == {first: "sent"}
    assert await store.award_counts(org.id) == {"ten": 2}
    other, _ = await store.create_org("B", "b")
    assert await store.award_counts(other.id) == {}


async def test_pipeline_totals_count_credentials_and_emails_by_status(store):
    assert await store.pipeline_totals() == (0, {})
    org, _ = await store.create_org("A", "a")
    now = datetime.now(UTC).replace(microsecond=0)
    for n, status in enumerate(["sent", "sent", "bounced", None]):
        await store.insert_credential(
            credential_id=f"urn:uuid:{n}",
            award_id=f"award-{n}",
            org_id=org.id,
            badge_class_id="ten",
            recipient_key="r" * 64,
            issued_at=now,
            document={"n": n},
        )
        if status:
            await store.record_notification(f"urn:uuid:{n}", f"<m{n}>", status)
    assert await store.pipeline_totals() == (4, {"sent": 2, "bounced": 1})
