"""`cairn backup --org SLUG FILE` and `cairn restore FILE`: one organisation's rows as one JSON
file, and back into a database that does not hold it yet (the same master key file: the keys in
the file stay sealed under it)."""

import argparse
import asyncio
import json
import os
from pathlib import Path
from typing import Any

from cairn.settings import get_settings


def _cmd_backup(args: argparse.Namespace) -> int:
    from cairn import bootstrap

    async def backup() -> dict[str, Any]:
        parts = bootstrap.cli(get_settings())
        try:
            await parts.store.create_schema()
            return await parts.store.backup_org(args.org)
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

    async def restore() -> str:
        parts = bootstrap.cli(get_settings())
        try:
            await parts.store.create_schema()
            return await parts.store.restore_org(document)
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
    backup.set_defaults(func=_cmd_backup)
    restore = sub.add_parser(
        "restore", help="load an organisation from a backup file (needs the same master key file)"
    )
    restore.add_argument("file")
    restore.set_defaults(func=_cmd_restore)
