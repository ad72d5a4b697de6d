"""Badge criteria: trying them on a history of events, and publishing badge classes from a file."""

import argparse
import json
import os
import sys
from pathlib import Path

from cairn.settings import get_settings


def _cmd_criteria_check(args: argparse.Namespace) -> int:
    from cairn.usecases.criteria_check import InputError, awards_from_lines, load_badge_classes

    try:
        classes = load_badge_classes(Path(args.badge).read_text(), args.timezone)
        with Path(args.events).open() as events:
            awards = awards_from_lines(events, classes)
    except (InputError, OSError) as e:
        print(f"cairn criteria check: {e}", file=sys.stderr)
        return 1
    for award in awards:
        print(json.dumps(award, sort_keys=True))
    return 0


def _cmd_badges_import(args: argparse.Namespace) -> int:
    """Validates every class in the file first, so a bad file publishes nothing."""
    import httpx

    from cairn.usecases.criteria_check import InputError, load_badge_classes

    api_key = os.environ.get("CAIRN_API_KEY")
    if not api_key:
        print("cairn badges import: set CAIRN_API_KEY to the organisation's API key", file=sys.stderr)
        return 1
    try:
        classes = load_badge_classes(Path(args.file).read_text())
    except (InputError, OSError) as e:
        print(f"cairn badges import: {e}", file=sys.stderr)
        return 1
    url = args.url or get_settings().public_url
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {api_key}"}, timeout=30) as client:
        for badge in classes:
            body = badge.model_dump(mode="json", exclude={"org_id", "version", "timezone"}, exclude_none=True)
            response = client.post("/v1/badge-classes", json=body)
            if response.status_code != 201:
                print(f"{badge.id}: refused ({response.status_code}): {response.text}", file=sys.stderr)
                return 1
            print(f"{badge.id}: version {response.json()['version']}")
    return 0


def add_badges_commands(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """cairn badges import."""
    badges = sub.add_parser("badges", help="badge classes").add_subparsers(
        dest="badges_command", required=True
    )
    imports = badges.add_parser(
        "import", help="publish badge classes from a YAML or JSON file (CAIRN_API_KEY)"
    )
    imports.add_argument("file", metavar="BADGES.yaml", help="one badge class, or a list of them")
    imports.add_argument("--url", help="the gateway (default: CAIRN_PUBLIC_URL)")
    imports.set_defaults(func=_cmd_badges_import)


def add_criteria_commands(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """cairn criteria check."""
    criteria = sub.add_parser("criteria", help="badge criteria").add_subparsers(
        dest="criteria_command", required=True
    )
    check = criteria.add_parser(
        "check", help="print the awards a history of events earns, one JSON line each"
    )
    check.add_argument(
        "badge", metavar="BADGE.yaml", help="one badge class, or a list of them (YAML or JSON)"
    )
    check.add_argument("events", metavar="EVENTS.jsonl", help="one POST /v1/events body per line")
    check.add_argument(
        "--timezone", default="UTC", help="the organisation's IANA time zone, for calendar criteria (UTC)"
    )
    check.set_defaults(func=_cmd_criteria_check)
