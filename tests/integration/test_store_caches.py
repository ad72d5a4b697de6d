"""What the gateway keeps between POSTs (so a POST per event is not three queries per event):
organisation secrets for good, API keys for API_KEY_CACHE_SECONDS. A key revoked by another
process stops within those seconds; revoked or its organisation changed here, at once."""

import asyncio

import pytest

from cairn.adapters.store import open_store, organisations
from tests.integration.test_store import store  # noqa: F401  (SQLite and PostgreSQL)

pytestmark = pytest.mark.integration


async def test_a_key_revoked_elsewhere_stops_within_the_cache_time(store, monkeypatch):  # noqa: F811
    monkeypatch.setattr(organisations, "API_KEY_CACHE_SECONDS", 0.5)
    org, _ = await store.create_org("A", "a")
    key_id, key = await store.create_api_key(org.id, "rota", {"events:write"})
    assert (await store.api_key(key)).org.id == org.id
    elsewhere = open_store(store.engine.url.render_as_string(hide_password=False), store.keyring._master_key)
    try:
        assert await elsewhere.revoke_api_key(org.id, key_id)
    finally:
        await elsewhere.close()
    assert await store.api_key(key) is not None, "kept for the cache time"
    await asyncio.sleep(0.6)
    assert await store.api_key(key) is None


async def test_a_profile_change_or_revocation_here_is_seen_at_once(store):  # noqa: F811
    org, _ = await store.create_org("A", "a")
    key_id, key = await store.create_api_key(org.id, "rota", {"events:write"})
    assert (await store.api_key(key)).org.name == "A"
    await store.update_org_profile(org.id, {"name": "Renamed"})
    assert (await store.api_key(key)).org.name == "Renamed"
    assert await store.revoke_api_key(org.id, key_id)
    assert await store.api_key(key) is None


async def test_the_org_secret_is_the_same_from_the_cache(store):  # noqa: F811
    org, _ = await store.create_org("A", "a")
    first = await store.org_secret(org.id)
    assert await store.org_secret(org.id) == first
    other = open_store(store.engine.url.render_as_string(hide_password=False), store.keyring._master_key)
    try:
        assert await other.org_secret(org.id) == first
    finally:
        await other.close()
