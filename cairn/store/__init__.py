"""The store: SQLAlchemy 2 (async) over SQLite by default, PostgreSQL in production."""

from cairn.store.store import Store, open_store

__all__ = ["Store", "open_store"]
