"""ORM rows to the frozen records of cairn.domain.records: no row leaves the store adapter."""

from dataclasses import fields
from typing import Any, TypeVar

from cairn.adapters.store import tables as t
from cairn.domain.records import ApiKeyInfo, Org

Record = TypeVar("Record")


def record(cls: type[Record], row: t.Base) -> Record:
    """The record of `cls` from the row's columns of the same names."""
    values: dict[str, Any] = {field.name: getattr(row, field.name) for field in fields(cls)}  # type: ignore[arg-type]
    return cls(**values)


def record_or_none(cls: type[Record], row: t.Base | None) -> Record | None:
    return None if row is None else record(cls, row)


def key_info(key: t.ApiKey, org: t.Organisation) -> ApiKeyInfo:
    return ApiKeyInfo(
        id=key.id,
        org=record(Org, org),
        name=key.name,
        scopes=frozenset(key.scopes.split()),
        created_at=key.created_at,
        revoked_at=key.revoked_at,
    )
