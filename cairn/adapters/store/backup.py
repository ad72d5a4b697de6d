"""One organisation's rows as one JSON document, and back: `cairn backup` and `cairn restore`.

Secrets stay sealed as stored (under the master key), so a restore needs the same master key
file; nothing is ever written in the clear. Rows of other organisations are never read or touched.
"""

import base64
from datetime import datetime
from typing import Any

from sqlalchemy import Column, LargeBinary, Table, insert, select

from cairn.adapters.store import schema
from cairn.adapters.store import tables as t
from cairn.adapters.store.engine import StoreBase

FORMAT = "cairn-org-backup/1"
# The organisation's tables, parents first (the order a restore inserts them in).
BY_ORG: list[Table] = [
    t.Organisation.__table__,  # type: ignore[list-item]
    t.ApiKey.__table__,  # type: ignore[list-item]
    t.IssuerKey.__table__,  # type: ignore[list-item]
    t.BadgeClassRow.__table__,  # type: ignore[list-item]
    t.BadgeImage.__table__,  # type: ignore[list-item]
    t.Recipient.__table__,  # type: ignore[list-item]
    t.Credential.__table__,  # type: ignore[list-item]
    t.StatusEntry.__table__,  # type: ignore[list-item]
    t.StatusList.__table__,  # type: ignore[list-item]
    t.ProgressView.__table__,  # type: ignore[list-item]
    t.AwardQuestionRow.__table__,  # type: ignore[list-item]
]
BY_CREDENTIAL: list[Table] = [
    t.ClaimToken.__table__,  # type: ignore[list-item]
    t.Notification.__table__,  # type: ignore[list-item]
    t.WalletExchange.__table__,  # type: ignore[list-item]
]


class OrgExistsError(ValueError):
    """The database already holds the organisation (its id or its slug)."""


def _encode(column: Column[Any], value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column.type, LargeBinary):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _decode(column: Column[Any], value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column.type, LargeBinary):
        return base64.b64decode(value)
    if isinstance(column.type, t.UtcDateTime):
        return datetime.fromisoformat(value)
    return value


def _key_column(table: Table) -> Column[Any]:
    return table.c.id if table.name == "organisations" else table.c.org_id


class BackupTables(StoreBase):
    async def backup_org(self, slug: str) -> dict[str, Any]:
        """Every row of the organisation (and of its credentials), JSON-ready."""
        async with self.engine.connect() as conn:
            org_id = (
                await conn.execute(select(t.Organisation.id).where(t.Organisation.slug == slug))
            ).scalar()
            if org_id is None:
                raise LookupError(f"no organisation {slug!r}")
            rows: dict[str, list[dict[str, Any]]] = {}
            for table in BY_ORG:
                query = select(table).where(_key_column(table) == org_id)
                rows[table.name] = [dict(r._mapping) for r in await conn.execute(query)]
            credential_ids = [c["id"] for c in rows["credentials"]]
            for table in BY_CREDENTIAL:
                query = select(table).where(table.c.credential_id.in_(credential_ids))
                rows[table.name] = (
                    [dict(r._mapping) for r in await conn.execute(query)] if credential_ids else []
                )
            revision = await conn.run_sync(schema.current_revision)
        encoded = {
            name: [{c.name: _encode(c, row[c.name]) for c in _table(name).columns} for row in table_rows]
            for name, table_rows in rows.items()
        }
        return {"format": FORMAT, "schema_revision": revision, "org_slug": slug, "tables": encoded}

    async def restore_org(self, backup: dict[str, Any]) -> str:
        """Loads a backup_org document; refuses one whose organisation is already here. Returns
        the organisation's slug."""
        if backup.get("format") != FORMAT:
            raise ValueError(f"not a Cairn organisation backup (format {backup.get('format')!r})")
        if backup.get("schema_revision") != schema.head_revision():
            raise ValueError(
                f"the backup is of schema {backup.get('schema_revision')}, this Cairn's is "
                f"{schema.head_revision()}: restore it with the Cairn that made it, then upgrade"
            )
        tables = backup["tables"]
        [org] = tables["organisations"]
        async with self.engine.begin() as conn:
            clash = await conn.execute(
                select(t.Organisation.slug).where(
                    (t.Organisation.id == org["id"]) | (t.Organisation.slug == org["slug"])
                )
            )
            if clash.first() is not None:
                raise OrgExistsError(f"organisation {org['slug']!r} is already in this database")
            for table in BY_ORG + BY_CREDENTIAL:
                rows = [
                    {c.name: _decode(c, row.get(c.name)) for c in table.columns} for row in tables[table.name]
                ]
                if table.name == "issuer_keys":  # new ids from this database's sequence, in the same order
                    rows = [{k: v for k, v in row.items() if k != "id"} for row in sorted(rows, key=_by_id)]
                if rows:
                    await conn.execute(insert(table), rows)
        return str(org["slug"])


def _by_id(row: dict[str, Any]) -> int:
    return int(row["id"])


def _table(name: str) -> Table:
    return t.Base.metadata.tables[name]
