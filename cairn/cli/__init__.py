"""The `cairn` command line."""

import argparse
import sys

from cairn.cli.backup import add_backup_commands
from cairn.cli.credentials import add_credentials_commands, add_sign_verify_commands
from cairn.cli.criteria import add_badges_commands, add_criteria_commands
from cairn.cli.dev import add_dev_commands
from cairn.cli.events import add_events_commands
from cairn.cli.orgs import add_keys_commands, add_org_commands, add_setup_command
from cairn.cli.trace import add_trace_command


def build_parser() -> argparse.ArgumentParser:
    """Each command group adds its own subcommands (cairn/cli/*.py), in the order --help lists them."""
    parser = argparse.ArgumentParser(prog="cairn", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    add_dev_commands(sub)
    add_org_commands(sub)
    add_setup_command(sub)
    add_sign_verify_commands(sub)
    add_keys_commands(sub)
    add_credentials_commands(sub)
    add_badges_commands(sub)
    add_events_commands(sub)
    add_criteria_commands(sub)
    add_backup_commands(sub)
    add_trace_command(sub)
    return parser


def _one_line(error: BaseException) -> str:
    """What went wrong, in one line a coordinator can act on."""
    from pydantic import ValidationError

    from cairn.adapters.store import StaleSchema

    if isinstance(error, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg'].removeprefix('Value error, ')}"
            for e in error.errors(include_url=False)
        )
    if isinstance(error, OSError) and error.filename is not None:
        return f"{error.strerror or error}: {error.filename}"
    if isinstance(error, ValueError | LookupError | StaleSchema | OSError):
        text = str(error)
    else:  # a fault of Cairn's, not of the input: say what it was, still in one line
        text = f"unexpected {type(error).__name__}: {error}"
    return " ".join(text.split())


def main(argv: list[str] | None = None) -> int:
    """Every failure is one line on stderr and exit status 1, never a traceback."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except Exception as error:
        words = [args.command, getattr(args, f"{args.command}_command", None)]
        print(f"cairn {' '.join(w for w in words if w)}: {_one_line(error)}", file=sys.stderr)
        return 1
