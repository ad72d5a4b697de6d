"""Schema migrations against real databases: a database Cairn made before it had migrations
(tests/data/store/, see make_fixture.py there) is upgraded and everything in it still works, on
SQLite and PostgreSQL; the migrations agree with the models; two starts upgrade once."""

import asyncio
import base64
import json
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, insert, inspect, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from cairn.adapters.store import StaleSchema, open_store
from cairn.adapters.store import tables as t
from cairn.adapters.store.schema import current_revision, head_revision
from cairn.credentials.status_list import get_bit
from cairn.usecases.issuer_documents import own_then
from cairn.usecases.status_changes import change_status
from cairn.usecases.verifying import FetchError, verify
from schemas.awards import ProgressUpdated

pytestmark = pytest.mark.integration

FIXTURE = Path(__file__).parents[1] / "data" / "store"
FACTS = json.loads((FIXTURE / "before-migrations.json").read_text())
MASTER_KEY = base64.b64decode(FACTS["master_key"])
PUBLIC_URL = FACTS["public_url"]


async def fresh_postgres(postgres_url: str) -> str:
    """A new, empty database on the test cluster, so each test starts from nothing."""
    name = f"cairn_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(postgres_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f"CREATE DATABASE {name}"))
    await admin.dispose()
    return postgres_url.rsplit("/", 1)[0] + f"/{name}"


async def drop_late_columns(url: str) -> None:
    """Makes the database as it was before organisations.timezone and progress_views.pending_voids."""
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("ALTER TABLE organisations DROP COLUMN timezone"))
        await conn.execute(text("ALTER TABLE progress_views DROP COLUMN pending_voids"))
        await conn.execute(
            text("INSERT INTO progress_views VALUES (:org, :key, :as_of, :badges)"),
            {"org": FACTS["org_id"], "key": "a" * 64, "as_of": datetime.now(UTC), "badges": "[]"},
        )
    await engine.dispose()


async def old_database(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """The committed SQLite file as it is; on PostgreSQL, the schema the old code made (its
    create_all, no migrations table) holding the same rows, copied from that file."""
    copy = tmp_path / "cairn.db"
    shutil.copy(FIXTURE / "before-migrations.db", copy)
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{copy}"
    url = await fresh_postgres(request.getfixturevalue("postgres_url"))
    source = create_engine(f"sqlite:///{copy}")
    rows = {}
    with source.connect() as conn:
        present = set(inspect(conn).get_table_names())
        for table in t.Base.metadata.sorted_tables:  # what was added since the file was made starts empty
            there = (
                {c["name"] for c in inspect(conn).get_columns(table.name)} if table.name in present else set()
            )
            columns = [c for c in table.columns if c.name in there]
            rows[table.name] = [dict(r._mapping) for r in conn.execute(select(*columns))] if columns else []
    source.dispose()
    target = create_async_engine(url)
    async with target.begin() as conn:
        made = [table for table in t.Base.metadata.sorted_tables if table.name in present]
        await conn.run_sync(lambda sync: t.Base.metadata.create_all(sync, tables=made))
        for table in made:
            if rows[table.name]:
                await conn.execute(insert(table), rows[table.name])
    await target.dispose()
    return url


async def _nowhere(url: str, max_bytes: int) -> dict[str, Any]:
    raise FetchError(f"{url}: only the store's own documents here")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
@pytest.mark.parametrize("made_by", ["last-release", "before-timezone"])
async def test_an_old_database_is_upgraded_and_everything_in_it_still_works(
    backend, made_by, tmp_path, request
):
    url = await old_database(backend, tmp_path, request)
    if made_by == "before-timezone":
        await drop_late_columns(url)
    store = open_store(url, MASTER_KEY)
    try:
        await store.create_schema()
        async with store.engine.connect() as conn:
            assert await conn.run_sync(current_revision) == head_revision()
        org = await store.org_by_slug(FACTS["org_slug"])
        assert org is not None and org.id == FACTS["org_id"] and org.timezone == "UTC"
        assert org.language == "en", "organisations from before languages read English"
        assert (await store.api_key(FACTS["api_key"])).org.id == org.id

        credential = await store.credential(FACTS["credential_id"])
        fetch = own_then(store, PUBLIC_URL, _nowhere)
        report = await verify(credential.document, fetch, require_status=True)
        assert report.valid and report.status_checked, report.checks

        claim = await store.claim(FACTS["claim_token"])
        assert claim.credential is not None and claim.credential.id == credential.id and not claim.expired

        index = await store.status_index(org.id, credential.id)
        before = await store.status_list(org.id, "revocation")
        assert before is not None and not get_bit(before.bits, index)
        await change_status(store, org, credential.id, "revoke", "a test", PUBLIC_URL)
        assert get_bit((await store.status_list(org.id, "revocation")).bits, index)
        report = await verify(credential.document, fetch, require_status=True)
        assert not report.valid, "the revoked credential's bit is what verifiers see"

        if made_by == "before-timezone":
            assert (await store.progress(org.id, "a" * 64)).pending_voids == []
        later = ProgressUpdated(org_id=org.id, recipient_key="a" * 64, as_of=datetime.now(UTC), badges=[])
        await store.save_progress(later.model_copy(update={"pending_voids": ["rota-1"]}))
        assert (await store.progress(org.id, "a" * 64)).pending_voids == ["rota-1"]
    finally:
        await store.close()


def _diff(connection) -> list[Any]:
    return compare_metadata(MigrationContext.configure(connection), t.Base.metadata)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_the_migrations_make_exactly_the_models_tables(backend, tmp_path, request):
    """What `alembic revision --autogenerate` would write after the migrations ran: nothing. A
    change to tables.py without a migration fails here."""
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    else:
        url = await fresh_postgres(request.getfixturevalue("postgres_url"))
    store = open_store(url, MASTER_KEY)
    try:
        await store.create_schema()
        async with store.engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
    finally:
        await store.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_services_starting_together_upgrade_the_database_once(backend, tmp_path, request):
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    else:
        url = await fresh_postgres(request.getfixturevalue("postgres_url"))
    stores = [open_store(url, MASTER_KEY) for _ in range(4)]
    try:
        await asyncio.gather(*(s.create_schema() for s in stores))
        async with stores[0].engine.connect() as conn:
            versions = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
        assert versions == [head_revision()]
        org, _ = await stores[1].create_org("A", "a")
        assert (await stores[2].org_by_slug("a")).id == org.id
    finally:
        for s in stores:
            await s.close()


async def test_a_database_changed_by_hand_is_refused_by_name(tmp_path):
    store = open_store(f"sqlite+aiosqlite:///{tmp_path / 'cairn.db'}", MASTER_KEY)
    try:
        await store.create_schema()
        async with store.engine.begin() as conn:
            await conn.execute(text("ALTER TABLE organisations DROP COLUMN image_url"))
        with pytest.raises(StaleSchema, match=r"lacks organisations\.image_url although its migrations"):
            await store.create_schema()
    finally:
        await store.close()
