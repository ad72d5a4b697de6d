"""The store against a real PostgreSQL that restarts under it (its own cluster, as the session's
is shared): every error seen meanwhile is classified transient (so consumers retry it and never
dead-letter it), a pool holding connections from before the restart fails once and recovers, a service
starting while the database is down waits for it, and the gateway answers 503, not 500."""

import asyncio
import collections
import secrets
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from cairn.adapters.store import open_store
from cairn.bootstrap import current_store
from cairn.domain.failures import Failure, RetryPolicy, classify, until_done
from cairn.settings import Settings
from devtools.postgres import Cluster, server_bin, start_cluster
from services.gateway import error_pages

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    if server_bin() is None:
        pytest.skip("PostgreSQL server not installed (apt-get install postgresql)")
    cluster = start_cluster(Path(tempfile.mkdtemp(prefix="cairn-pg-restart-")))
    try:
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture
async def store(cluster: Cluster):
    store = open_store(cluster.url, secrets.token_bytes(32))
    await store.create_schema()
    yield store
    await store.close()


def restart_in_background(cluster: Cluster, down_seconds: float, mode: str = "fast") -> threading.Thread:
    thread = threading.Thread(target=cluster.restart, args=(down_seconds, mode))
    thread.start()
    return thread


async def select_one(store) -> int:
    async with store.engine.connect() as conn:
        return (await conn.execute(text("SELECT 1"))).scalar_one()


async def test_every_error_while_the_database_restarts_is_transient(cluster, store):
    """Queries on pooled connections and on new ones, as fast as they go, through a fast stop,
    a crash (immediate) and the starts after them: asyncpg's "the database system is starting
    up" and "shutting down" were unknown failures, dead-lettered after three tries."""
    seen: collections.Counter[tuple[str, Failure]] = collections.Counter()
    stop = asyncio.Event()

    async def hammer(fresh: bool) -> None:
        while not stop.is_set():
            target = open_store(cluster.url, b"k" * 32) if fresh else store
            try:
                await select_one(target)
            except Exception as error:
                seen[(str(error).split("\n")[0][:80], classify(error))] += 1
                await asyncio.sleep(0.002)
            finally:
                if fresh:
                    await target.close()

    workers = [asyncio.create_task(hammer(fresh)) for fresh in (True, False, True, False)]
    for mode in ("fast", "immediate"):
        await asyncio.to_thread(cluster.restart, 0.5, mode)
        await asyncio.sleep(0.3)
    stop.set()
    await asyncio.gather(*workers)
    print("\n" + "\n".join(f"{n:5} {failure.value:9} {what}" for (what, failure), n in seen.items()))
    assert seen, "the restarts were not seen at all"
    assert {failure for _, failure in seen} == {Failure.TRANSIENT}


async def test_the_pool_recovers_after_a_restart_with_one_transient_failure(cluster, store):
    """The first query on a connection from before the restart fails, transient; SQLAlchemy
    then drops every pooled connection as old, and the next queries run on new ones."""
    await asyncio.gather(*(select_one(store) for _ in range(5)))  # several connections in the pool
    pooled = store.engine.pool.checkedin()
    assert pooled >= 2
    await asyncio.to_thread(cluster.restart, 0.2)
    failures = []
    for _ in range(pooled + 2):
        try:
            await select_one(store)
        except Exception as error:
            failures.append(classify(error))
    assert failures == [Failure.TRANSIENT]


async def test_a_write_while_the_database_is_down_is_retried_until_it_is_back(cluster, store):
    """What the consume loop does with a record (until_done): with room for no unknown failure
    at all, the write is retried through a 2 s outage and done once the database is back."""
    org, _ = await store.create_org("Pantry", f"pantry-{secrets.token_hex(4)}")
    attempts = 0

    async def attempt() -> None:
        nonlocal attempts
        attempts += 1
        await store.upsert_recipients(org.id, {"k" * 64: ("sam@example.org", "Sam")})

    async def pause(seconds: float) -> bool:
        await asyncio.sleep(seconds)
        return True

    outage = restart_in_background(cluster, 2)
    await asyncio.sleep(0.3)  # the stop is under way
    policy = RetryPolicy(max_attempts=1, base_delay=0.1, max_delay=0.5)
    refused = await until_done(attempt, policy, "a record", pause)
    outage.join()
    assert refused is None, f"dead-lettered: {refused}"
    assert attempts > 1, "the write never saw the database down"
    assert (await store.recipient(org.id, "k" * 64)).email == "sam@example.org"


async def test_a_service_starting_while_the_database_is_down_waits_for_it(cluster, tmp_path):
    await asyncio.to_thread(cluster.stop)
    started = time.monotonic()
    threading.Timer(1, cluster.start).start()
    store = await current_store(Settings(var_dir=tmp_path, database_url=cluster.url), wait=30)
    try:
        assert time.monotonic() - started >= 1
        assert await select_one(store) == 1
    finally:
        await store.close()


async def test_the_gateway_answers_503_while_the_database_is_down(cluster, store):
    """The gateway's handler (services/gateway/error_pages.py) on a route that reads the store:
    503 with Retry-After and a JSON detail for the API, an error page for a browser, a 500 still
    for a statement that is wrong, and answers again once the database is back."""
    app = FastAPI()
    error_pages.install(app)

    @app.get("/v1/org-name")
    async def org_name() -> dict[str, str | None]:
        org = await store.org("nobody")
        return {"name": org.name if org else None}

    @app.get("/page")
    async def page() -> dict[str, str | None]:
        return await org_name()

    @app.get("/v1/broken")
    async def broken() -> None:
        async with store.engine.connect() as conn:
            await conn.execute(text("SELECT * FROM no_such_table"))

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        assert (await client.get("/v1/org-name")).json() == {"name": None}
        assert (await client.get("/v1/broken")).status_code == 500
        await asyncio.to_thread(cluster.stop)
        try:
            api = await client.get("/v1/org-name")
            assert api.status_code == 503 and api.headers["retry-after"] == "5"
            assert "database is unavailable" in api.json()["detail"]
            browser = await client.get("/page", headers={"Accept": "text/html"})
            assert browser.status_code == 503 and "<h1" in browser.text
        finally:
            await asyncio.to_thread(cluster.start)
        assert (await client.get("/v1/org-name")).json() == {"name": None}
