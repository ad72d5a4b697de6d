"""One organisation's rows as one JSON document, and back: `cairn backup` and `cairn restore`.

The organisation's secrets (its HMAC secret and issuer keys) are unsealed and re-encrypted under a
key derived from a passphrase (scrypt, AES-256-GCM with the purpose as associated data), so the
file restores into an installation with another master key; nothing is written in the clear.
Files of format 1 (secrets sealed under the master key) still restore with the same master key.
Rows of other organisations are never read or touched.
"""

import base64
import os
from datetime import datetime
from typing import Any

from sqlalchemy import Column, LargeBinary, Table, insert, select

from cairn.adapters.secrets import (
    SCRYPT_DEFAULTS,
    passphrase_key,
    seal,
    unseal_with_passphrase_key,
)
from cairn.adapters.store import schema
from cairn.adapters.store import tables as t
from cairn.adapters.store.engine import StoreBase

FORMAT = "cairn-org-backup/2"
SAME_MASTER_KEY_FORMAT = "cairn-org-backup/1"
# the columns holding secrets sealed under the master key, and the purpose each is bound to
SEALED = {"organisations": "org-secret:{}", "issuer_keys": "issuer:{}"}
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
    t.DirectAwardRow.__table__,  # type: ignore[list-item]
    t.CheckInSessionRow.__table__,  # type: ignore[list-item]
    t.CheckInRow.__table__,  # type: ignore[list-item]
    t.ActivityRow.__table__,  # type: ignore[list-item]
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
    async def backup_org(self, slug: str, passphrase: str) -> dict[str, Any]:
        """Every row of the organisation (and of its credentials), JSON-ready, its secrets
        encrypted under the passphrase."""
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
        salt = os.urandom(16)
        key = passphrase_key(passphrase, salt, **SCRYPT_DEFAULTS)
        for name, purpose in SEALED.items():
            for row in rows[name]:
                secret = self.keyring.unseal_for_backup(row["secret_sealed"], purpose.format(org_id))
                row["secret_sealed"] = seal(key, secret, purpose.format(org_id))
        encoded = {
            name: [{c.name: _encode(c, row[c.name]) for c in _table(name).columns} for row in table_rows]
            for name, table_rows in rows.items()
        }
        secrets = {"kdf": "scrypt", "salt": base64.b64encode(salt).decode(), **SCRYPT_DEFAULTS}
        return {
            "format": FORMAT,
            "schema_revision": revision,
            "org_slug": slug,
            "secrets": {**secrets, "cipher": "AES-256-GCM", "associated_data": "purpose"},
            "tables": encoded,
        }

    async def restore_org(self, backup: dict[str, Any], passphrase: str | None = None) -> str:
        """Loads a backup_org document; refuses one whose organisation is already here, or a wrong
        passphrase (WrongPassphraseError), before writing anything. Returns the organisation's slug."""
        if backup.get("format") not in (FORMAT, SAME_MASTER_KEY_FORMAT):
            raise ValueError(f"not a Cairn organisation backup (format {backup.get('format')!r})")
        if backup.get("schema_revision") != schema.head_revision():
            raise ValueError(
                f"the backup is of schema {backup.get('schema_revision')}, this Cairn's is "
                f"{schema.head_revision()}: restore it with the Cairn that made it, then upgrade"
            )
        tables = backup["tables"]
        [org] = tables["organisations"]
        if backup["format"] == FORMAT:
            tables = self._resealed(backup, passphrase, org["id"])
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
                    {c.name: _decode(c, row.get(c.name)) for c in table.columns}
                    for row in tables.get(table.name, [])  # older backups lack later tables
                ]
                if table.name == "issuer_keys":  # new ids from this database's sequence, in the same order
                    rows = [{k: v for k, v in row.items() if k != "id"} for row in sorted(rows, key=_by_id)]
                if rows:
                    await conn.execute(insert(table), rows)
        return str(org["slug"])

    def _resealed(self, backup: dict[str, Any], passphrase: str | None, org_id: str) -> dict[str, Any]:
        """The tables with the secrets decrypted with the passphrase and sealed under this
        installation's master key."""
        if not passphrase:
            raise ValueError("this backup's keys are encrypted under a passphrase: give it")
        params = backup["secrets"]
        if params.get("kdf") != "scrypt" or params.get("cipher") != "AES-256-GCM":
            raise ValueError(f"unknown encryption of the backup's keys: {params!r}")
        salt = base64.b64decode(params["salt"])
        key = passphrase_key(passphrase, salt, int(params["n"]), int(params["r"]), int(params["p"]))
        tables = dict(backup["tables"])
        for name, purpose in SEALED.items():
            resealed = []
            for row in tables[name]:
                secret = unseal_with_passphrase_key(
                    key, base64.b64decode(row["secret_sealed"]), purpose.format(org_id)
                )
                sealed = self.keyring.seal_restored(secret, purpose.format(org_id))
                resealed.append({**row, "secret_sealed": base64.b64encode(sealed).decode()})
            tables[name] = resealed
        return tables


def _by_id(row: dict[str, Any]) -> int:
    return int(row["id"])


def _table(name: str) -> Table:
    return t.Base.metadata.tables[name]
