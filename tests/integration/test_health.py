"""The gateway's /healthz and /readyz against a real broker and a real PostgreSQL: ready only
when the database answers at the current schema and Kafka has every topic `cairn setup` makes;
otherwise a 503 that names what is missing."""

import asyncio
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from cairn.adapters.kafka import topics
from cairn.bootstrap import setup
from cairn.settings import Settings
from devtools.dev import free_port
from services.gateway.app import create_app
from tests.integration.test_migrations import fresh_postgres

pytestmark = pytest.mark.integration


async def allow_connections(admin_url: str, database: str, allowed: bool) -> None:
    """Stops (or lets again) anyone connecting to the database, and cuts those connected: the
    database, as the gateway sees it, is down."""
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f"ALTER DATABASE {database} ALLOW_CONNECTIONS {str(allowed).lower()}"))
        if not allowed:
            await conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"),
                {"name": database},
            )
    await admin.dispose()


def test_ready_only_with_the_database_and_every_topic(kafka, postgres_url, tmp_path):
    database_url = asyncio.run(fresh_postgres(postgres_url))
    database = database_url.rsplit("/", 1)[1]
    settings = Settings(
        var_dir=tmp_path, kafka_bootstrap=kafka, database_url=database_url, topic_partitions=1
    )
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").json() == {"status": "ok"}

        before_setup = client.get("/readyz")
        assert before_setup.status_code == 503
        body = before_setup.json()
        assert body["status"] == "not ready" and body["failing"] == ["kafka"]
        assert body["checks"]["database"] == "ok"
        assert topics.ACTIVITY in body["checks"]["kafka"] and "cairn setup" in body["checks"]["kafka"]

        asyncio.run(setup(settings))
        ready = client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {
            "status": "ready",
            "failing": [],
            "checks": {"database": "ok", "kafka": "ok"},
        }

        nothing_listening = f"127.0.0.1:{free_port()}"
        client.app.state.settings = settings.model_copy(update={"kafka_bootstrap": nothing_listening})
        started = time.monotonic()
        no_broker = client.get("/readyz")
        assert time.monotonic() - started < 10, "a readiness probe answers within its own timeout"
        assert no_broker.status_code == 503 and no_broker.json()["failing"] == ["kafka"]
        assert no_broker.json()["checks"]["kafka"].startswith(f"unreachable at {nothing_listening}")
        client.app.state.settings = settings

        asyncio.run(allow_connections(postgres_url, database, False))
        try:
            no_database = client.get("/readyz")
            assert no_database.status_code == 503 and no_database.json()["failing"] == ["database"]
            assert no_database.json()["checks"]["database"].startswith("unavailable (")
            assert client.get("/healthz").status_code == 200, "alive, though not ready"
        finally:
            asyncio.run(allow_connections(postgres_url, database, True))
        assert client.get("/readyz").status_code == 200, "ready again once the database is back"
