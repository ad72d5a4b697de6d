"""Several stores on one database, as separate processes hold them, for the race tests: one
schema, made once, and dropped again on PostgreSQL."""

import secrets
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from cairn.adapters.store import open_store
from cairn.adapters.store.store import Store


async def racing_stores(
    request: pytest.FixtureRequest, tmp_path, processes: int
) -> AsyncIterator[list[Store]]:
    """`processes` stores on SQLite or PostgreSQL (the fixture's param), each its own engine."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'cairn.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    master_key = secrets.token_bytes(32)
    stores = [open_store(url, master_key) for _ in range(processes)]
    await stores[0].create_schema()
    yield stores
    if request.param == "postgresql":
        async with stores[0].engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    for store in stores:
        await store.close()
