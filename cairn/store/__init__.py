"""The store: SQLAlchemy 2 (async) over SQLite by default, PostgreSQL in production."""

from cairn.store.store import Store, open_store, store_for

__all__ = ["Store", "open_store", "store_for"]
