"""Activity from a file: posting a rota or sign-in sheet CSV through the gateway."""

import argparse
import os
import sys
from pathlib import Path

from cairn.settings import get_settings


def _cmd_events_import(args: argparse.Namespace) -> int:
    """Reads the whole file first (every bad row is reported, nothing is posted), then posts it
    in batches with a progress bar. Ids are stable, so re-running after a failure is safe."""
    import httpx

    from cairn.domain.csv_import import decode_csv, parse_csv
    from cairn.terminal_progress import progress_bar

    api_key = os.environ.get("CAIRN_API_KEY")
    if not api_key and not args.dry_run:
        print("cairn events import: set CAIRN_API_KEY to the organisation's API key", file=sys.stderr)
        return 1
    try:
        mapping = dict(item.split("=", 1) for item in args.map)
        parsed = parse_csv(decode_csv(Path(args.file).read_bytes()), mapping, args.timezone, args.date_order)
    except (OSError, ValueError) as e:
        print(f"cairn events import: {e}", file=sys.stderr)
        return 1
    columns = ", ".join(f"{column} -> {field}" for field, column in parsed.columns.items())
    print(f"{len(parsed.events)} rows read as {parsed.kind} events ({columns})")
    for error in parsed.errors:
        print(
            f"row {error.row}{f', column {error.column}' if error.column else ''}: {error.message}",
            file=sys.stderr,
        )
    if parsed.errors:
        print(f"{len(parsed.errors)} rows have errors; nothing was posted", file=sys.stderr)
        return 1
    if args.dry_run:
        return 0
    events = [event.model_dump(mode="json", exclude_none=True) for _, event in parsed.events]
    url = args.url or get_settings().public_url
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {api_key}"}, timeout=60) as client:
        for start in range(0, len(events), 500):
            response = client.post("/v1/events", json={"events": events[start : start + 500]})
            if response.status_code != 202:
                print(
                    f"\nrefused at row batch {start}: {response.status_code} {response.text}", file=sys.stderr
                )
                return 1
            progress_bar("posting", min(start + 500, len(events)), len(events))
    print(f"posted {len(events)} events")
    return 0


def add_events_commands(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """cairn events import."""
    events = sub.add_parser("events", help="activity events").add_subparsers(
        dest="events_command", required=True
    )
    events_import = events.add_parser("import", help="post a rota or sign-in sheet CSV (CAIRN_API_KEY)")
    events_import.add_argument("file", metavar="ROTA.csv")
    events_import.add_argument("--dry-run", action="store_true", help="read and check the file; post nothing")
    events_import.add_argument("--timezone", default="UTC", help="of the times in the file (default UTC)")
    events_import.add_argument("--date-order", choices=["dmy", "mdy"], default="dmy")
    events_import.add_argument("--map", action="append", default=[], metavar="FIELD=Column")
    events_import.add_argument("--url", help="the gateway (default: CAIRN_PUBLIC_URL)")
    events_import.set_defaults(func=_cmd_events_import)
