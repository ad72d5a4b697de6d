"""The store: SQLAlchemy 2 (async) over SQLite by default, PostgreSQL in production."""

from cairn.adapters.store.store import StaleSchema, Store, open_store, store_for

__all__ = ["StaleSchema", "Store", "open_store", "store_for"]
