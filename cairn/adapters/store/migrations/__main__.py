"""Writes the next revision after a change to tables.py, for a developer to read and commit:

    .venv/bin/python -m cairn.adapters.store.migrations "add organisations.motto"

Alembic compares the models with a scratch SQLite database brought to the current head (the
revision is then checked on PostgreSQL too by tests/integration/test_migrations.py).
"""

import asyncio
import sys
import tempfile
from pathlib import Path

from alembic import command
from sqlalchemy.ext.asyncio import create_async_engine

from cairn.adapters.store.schema import alembic_config, head_revision, upgrade


async def write_revision(message: str) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        engine = create_async_engine(f"sqlite+aiosqlite:///{Path(scratch) / 'head.db'}")
        try:
            await upgrade(engine)
            next_id = f"{int(head_revision()) + 1:04d}"
            async with engine.begin() as conn:
                await conn.run_sync(
                    lambda c: command.revision(
                        alembic_config(c), message=message, autogenerate=True, rev_id=next_id
                    )
                )
        finally:
            await engine.dispose()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    asyncio.run(write_revision(sys.argv[1]))
