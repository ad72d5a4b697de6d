"""Cairn's contracts: every event, message and API body as a pydantic model.

The JSON Schemas under schemas/json/ are generated from these models by
`python -m schemas.export`; tests/unit/test_schemas_in_sync.py fails when they drift.
"""
