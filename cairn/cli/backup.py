"""`cairn backup --org SLUG FILE` and `cairn restore FILE`: one organisation's rows as one JSON
file, and back into a database that does not hold it yet. Its keys travel encrypted under a
passphrase (asked for, or read from --passphrase-file), so the restoring installation may have
another master key."""

import argparse
import asyncio
import getpass
import json
import os
from pathlib import Path
from typing import Any

from cairn.settings import get_settings


def _passphrase(args: argparse.Namespace, confirm: bool) -> str:
    """From --passphrase-file (its first line), else asked for on the terminal."""
    if args.passphrase_file:
        lines = Path(args.passphrase_file).read_text().splitlines()
        passphrase = lines[0] if lines else ""
    else:
        passphrase = getpass.getpass("Backup passphrase: ")
        if confirm and getpass.getpass("The same passphrase again: ") != passphrase:
            raise ValueError("the two passphrases differ")
    if not passphrase:
        raise ValueError("the passphrase is empty")
    return passphrase


def _cmd_backup(args: argparse.Namespace) -> int:
    from cairn import bootstrap

    passphrase = _passphrase(args, confirm=True)

    async def backup() -> dict[str, Any]:
        parts = bootstrap.cli(get_settings())
        try:
            await parts.store.create_schema()
            return await parts.store.backup_org(args.org, passphrase)
        finally:
            await parts.close()

    document = asyncio.run(backup())
    target = Path(args.file)
    # it holds contact details and sealed keys: readable by its owner only
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as out:
        json.dump(document, out, indent=1)
    counts = ", ".join(f"{len(rows)} {name}" for name, rows in document["tables"].items() if rows)
    print(f"organisation {args.org} backed up to {target}: {counts}")
    return 0


def _cmd_restore(args: argparse.Namespace) -> int:
    from cairn import bootstrap

    document = json.loads(Path(args.file).read_text())
    passphrase = _passphrase(args, confirm=False) if "secrets" in document else None

    async def restore() -> str:
        parts = bootstrap.cli(get_settings())
        try:
            await parts.store.create_schema()
            return await parts.store.restore_org(document, passphrase)
        finally:
            await parts.close()

    slug = asyncio.run(restore())
    print(f"organisation {slug} restored from {args.file}")
    return 0


def add_backup_commands(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """cairn backup, cairn restore."""
    backup = sub.add_parser("backup", help="write one organisation's data to a JSON file")
    backup.add_argument("--org", required=True, help="the organisation's slug")
    backup.add_argument("file")
    backup.add_argument("--passphrase-file", help="the passphrase for the keys (else asked for)")
    backup.set_defaults(func=_cmd_backup)
    restore = sub.add_parser("restore", help="load an organisation from a backup file (needs its passphrase)")
    restore.add_argument("file")
    restore.add_argument("--passphrase-file", help="the backup's passphrase (else asked for)")
    restore.set_defaults(func=_cmd_restore)
