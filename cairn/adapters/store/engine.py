"""The database engine the store's parts share: connection settings, schema creation, sessions."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table, event, inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine.interfaces import DBAPIConnection, Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from cairn.adapters.keyring import Keyring
from cairn.adapters.store import schema
from cairn.adapters.store import tables as t


def now() -> datetime:
    return datetime.now(UTC)


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _: ConnectionPoolEntry) -> None:
    """WAL and a busy timeout let the gateway, signer and notifier share one SQLite file."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # synchronous stays FULL (SQLite's default): with NORMAL a power cut could take back the
    # volunteer's address after their event was accepted (a 202), and their badge would never
    # be emailed. The fsync it costs per commit is measured in bench/README.md.
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _connect_or_operational_error(
    dialect: Dialect, _: ConnectionPoolEntry, cargs: tuple[Any, ...], cparams: dict[str, Any]
) -> DBAPIConnection:
    """asyncpg lets a refused or reset connection out as a bare OSError, which SQLAlchemy passes
    on unwrapped; as the driver's OperationalError it reaches callers as every other sign of a
    database that is down (the gateway answers 503, consumers retry)."""
    try:
        return dialect.loaded_dbapi.connect(*cargs, **cparams)
    except OSError as error:
        message = f"cannot connect to the database: {error}"
        raise dialect.loaded_dbapi.OperationalError(message, error) from error


def connect(database_url: str) -> AsyncEngine:
    """An engine for the URL; SQLite files get the pragmas several processes need. A PostgreSQL
    server may restart under a running service: the first query on a connection from before
    fails (transient: a consumer retries it, the gateway answers 503) and SQLAlchemy then drops
    every pooled connection older than that failure. Pinging each connection as it leaves the
    pool (pool_pre_ping) would spare that one failure but costs a round trip (~0.8 ms measured)
    on every checkout, for ever."""
    engine = create_async_engine(database_url)
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    else:
        event.listen(engine.sync_engine, "do_connect", _connect_or_operational_error)
    return engine


class StaleSchema(RuntimeError):
    """The database's tables lack columns this version of Cairn needs, after its migrations ran."""


def _missing_columns(conn: Connection) -> list[str]:
    inspector = inspect(conn)
    missing = []
    for table in t.Base.metadata.sorted_tables:
        present = {column["name"] for column in inspector.get_columns(table.name)}
        missing += [f"{table.name}.{column.name}" for column in table.columns if column.name not in present]
    return missing


class StoreBase:
    """What every part of the store shares: one engine, its sessions, and the keyring."""

    def __init__(self, engine: AsyncEngine, keyring: Keyring) -> None:
        self.engine = engine
        self.keyring = keyring
        self._session = async_sessionmaker(engine, expire_on_commit=False)
        # per process: organisation secrets never change; API keys are looked up again after
        # API_KEY_CACHE_SECONDS (see organisations.py)
        self._org_secrets: dict[str, bytes] = {}
        self._api_keys: dict[str, tuple[float, Any]] = {}

    def _insert(self, model: type[t.Base] | Table) -> postgresql.Insert | sqlite.Insert:
        """The dialect's INSERT, which has ON CONFLICT: a first insert that two processes may race
        to make (the same new volunteer in two POSTs) must not fail on the unique key."""
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        return dialect.insert(model)

    async def create_schema(self) -> None:
        """Brings the database to the schema this Cairn needs (Alembic, under a lock: see
        schema.py), from empty or from any earlier version; `cairn setup` and every service
        call it at start. A database still lacking a column after that was altered by hand."""
        await schema.upgrade(self.engine)
        async with self.engine.connect() as conn:
            missing = await conn.run_sync(_missing_columns)
        if missing:
            raise StaleSchema(
                f"the database (CAIRN_DATABASE_URL, or var/cairn.db) lacks {', '.join(missing)} although "
                "its migrations say it is up to date: it was changed by hand; restore it from a backup."
            )

    async def check_ready(self) -> None:
        """Raises unless the database answers and is at this Cairn's schema (for /readyz)."""
        async with self.engine.connect() as conn:
            revision = await conn.run_sync(schema.current_revision)
        if revision != schema.head_revision():
            raise StaleSchema(f"schema at revision {revision}, this Cairn needs {schema.head_revision()}")

    async def close(self) -> None:
        await self.engine.dispose()
