"""Bringing a database to the schema this Cairn needs, with Alembic (migrations/), at every start.

Several services may start at once against one database, so the upgrade runs under a lock:
on PostgreSQL a transaction-scoped advisory lock (the whole upgrade is one transaction, since
PostgreSQL's DDL is transactional); on SQLite an exclusive lock on a file beside the database.
The one that waits finds the database at head and does nothing.
"""

import asyncio
import fcntl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"
# Any bigint, the same in every Cairn process: "cairn" in ASCII.
ADVISORY_LOCK_KEY = 0x636169726E


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration without an alembic.ini: the migrations ship inside the package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _upgrade(connection: Connection, revision: str) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
    command.upgrade(alembic_config(connection), revision)


def _lock_file(engine: AsyncEngine) -> Path | None:
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    return Path(database).with_name(Path(database).name + ".migrate-lock")


@asynccontextmanager
async def _sqlite_lock(engine: AsyncEngine) -> AsyncIterator[None]:
    path = _lock_file(engine)
    if path is None:
        yield
        return
    with path.open("a") as held:
        await asyncio.to_thread(fcntl.flock, held, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(held, fcntl.LOCK_UN)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Runs every migration the database lacks, up to `revision` (tests stop at older ones)."""
    async with _sqlite_lock(engine), engine.begin() as conn:
        await conn.run_sync(_upgrade, revision)
