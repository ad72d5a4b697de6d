"""Alembic's migrations of the store's tables (env.py, versions/); run by cairn.adapters.store.schema."""
