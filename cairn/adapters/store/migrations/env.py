"""Alembic's entry point. Cairn runs it itself (cairn.adapters.store.schema) on a connection it
already holds, inside the lock that keeps two starting services from upgrading at once."""

from alembic import context

from cairn.adapters.store import tables as t

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=t.Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters a table by copying it
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
