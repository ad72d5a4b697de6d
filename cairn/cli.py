"""The `cairn` command line."""

import argparse
import asyncio
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from cairn.settings import get_settings


def _use_checkout_devtools() -> None:
    """`cairn dev` and `cairn demo` run from a source checkout: devtools/ (the local broker, the
    SMTP sink, the supervisor) sits beside the cairn package there and is not part of the wheel.
    Child processes get the same path, so the supervisor can start the sink."""
    root = Path(__file__).resolve().parents[1]
    if not (root / "devtools").is_dir():
        raise SystemExit(
            "cairn dev and cairn demo run from a source checkout of Cairn (devtools/ is not installed)"
        )
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))


def _cmd_dev(args: argparse.Namespace) -> int:
    _use_checkout_devtools()
    from cairn.service_runner import run_until_stopped
    from devtools.demo import run_demo
    from devtools.dev import run_dev, wait_http

    settings = get_settings()

    async def main(stopping: asyncio.Event) -> None:
        dev = asyncio.create_task(run_dev(settings, stopping, external_kafka=args.external_kafka))
        if args.demo:
            gateway_up = asyncio.create_task(wait_http(f"{settings.public_url}/healthz", timeout=120))
            await asyncio.wait({dev, gateway_up}, return_when=asyncio.FIRST_COMPLETED)
            if dev.done():  # it stopped before the services came up: its error says why
                gateway_up.cancel()
                await dev
                return
            await gateway_up
            await run_demo(settings)
            print("Ctrl-C stops everything.", flush=True)
        await dev

    run_until_stopped(main)
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    _use_checkout_devtools()
    from devtools.demo import run_demo

    asyncio.run(run_demo(get_settings()))
    return 0


def _cmd_org_create(args: argparse.Namespace) -> int:
    from cairn.bootstrap import create_org
    from schemas.admin import OrgCreateIn

    new = OrgCreateIn.model_validate(  # the admin API's rules: free-text name, derived or valid slug
        {
            "name": args.name,
            "slug": args.slug,
            "url": args.url,
            "email": args.email,
            "image_url": args.image_url,
        }
    )
    org_id, api_key = asyncio.run(create_org(get_settings(), new))
    print(f"organisation {org_id}")
    print(f"slug {new.given_slug}")
    print(f"api key {api_key}")
    return 0


def _cmd_setup(args: argparse.Namespace) -> int:
    from cairn.bootstrap import setup

    settings = get_settings()
    asyncio.run(setup(settings))
    print(f"database schema and Kafka topics ready ({settings.kafka_bootstrap})")
    return 0


def _cmd_sign(args: argparse.Namespace) -> int:
    from cairn.credentials import proofs
    from cairn.credentials.builder import iso
    from cairn.credentials.multikey import did_key_verification_method, secret_key_from_multibase

    key_pair = json.loads(Path(args.key).read_text())
    secret = key_pair.get("secretKeyMultibase") or key_pair.get("privateKeyMultibase")
    if not secret:
        print("cairn sign: KEY.json needs secretKeyMultibase (or privateKeyMultibase)", file=sys.stderr)
        return 1
    key = secret_key_from_multibase(secret)
    options = proofs.ProofOptions(
        cryptosuite=args.suite,
        verification_method=args.verification_method or did_key_verification_method(key.public_key()),
        created=args.created or iso(datetime.now(UTC)),
    )
    document = json.loads(Path(args.input).read_text())
    print(json.dumps(proofs.sign(document, key, options), indent=2))
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    """Each file may be a credential (.json) or a baked badge image (.png, .svg). Exit status 0
    when every one is valid (a status that could not be checked is a warning on stderr, unless
    --require-status), 1 otherwise."""
    import httpx

    from cairn.credentials.baking import BakingError, unbake
    from cairn.usecases.verifying import http_fetcher, verify

    async def verify_all() -> bool:
        all_valid = True
        async with httpx.AsyncClient() as client:
            fetch_json = http_fetcher(client, set(args.allow_host))
            for name in args.files:
                try:
                    credential = unbake(Path(name).read_bytes())
                except (OSError, BakingError) as e:
                    print(f"{name}: not valid: cannot read a credential: {e}")
                    all_valid = False
                    continue
                report = await verify(credential, fetch_json, require_status=args.require_status)
                all_valid = all_valid and report.valid
                if not report.valid:
                    print(f"{name}: not valid: {'; '.join(report.reasons)}")
                elif report.status_checked:
                    print(f"{name}: valid")
                else:
                    print(f"{name}: valid, status not checked")
                    print(f"warning: {name}: {'; '.join(report.warnings)}", file=sys.stderr)
                if args.verbose:
                    for check in report.checks:
                        reason = f": {check.reason}" if check.reason else ""
                        mark = "ok " if check.ok else "BAD" if check.checked else "?  "
                        print(f"  {mark} {check.name}{reason}")
        return all_valid

    return 0 if asyncio.run(verify_all()) else 1


def _cmd_keys_rotate(args: argparse.Namespace) -> int:
    from cairn.adapters.store import store_for

    async def rotate() -> str | None:
        store = store_for(get_settings())
        try:
            org = await store.org_by_slug(args.org)
            return None if org is None else await store.rotate_issuer_key(org.id)
        finally:
            await store.close()

    public_key = asyncio.run(rotate())
    if public_key is None:
        print(f"cairn keys rotate: no organisation {args.org!r}", file=sys.stderr)
        return 1
    print(f"new signing key {public_key}; earlier keys stay in the DID document")
    return 0


def _cmd_credential_status(args: argparse.Namespace) -> int:
    from cairn.adapters.store import store_for
    from cairn.usecases.status_changes import StatusChangeError, change_status
    from schemas.admin import StatusChangeIn
    from schemas.awards import credential_id_from

    settings = get_settings()
    reason = StatusChangeIn(reason=args.reason).reason  # the API's rules: one line, no controls
    credential_id = credential_id_from(args.credential_id)

    async def change() -> str:
        store = store_for(settings)
        try:
            credential = await store.credential(credential_id)
            org = await store.org(credential.org_id) if credential else None
            if org is None:
                raise LookupError(f"no credential {args.credential_id}")
            changed = await change_status(store, org, credential_id, args.action, reason, settings.public_url)
            return changed.status
        finally:
            await store.close()

    try:
        print(f"{credential_id}: {asyncio.run(change())}")
    except (LookupError, StatusChangeError) as e:
        print(f"cairn credentials {args.action}: {e}", file=sys.stderr)
        return 1
    return 0


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cairn", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    dev = sub.add_parser("dev", help="run Kafka, the SMTP sink and every service until Ctrl-C")
    dev.add_argument("--demo", action="store_true", help="also seed the demo once everything is up")
    dev.add_argument("--external-kafka", action="store_true", help="use the broker at CAIRN_KAFKA_BOOTSTRAP")
    dev.set_defaults(func=_cmd_dev)

    demo = sub.add_parser("demo", help="seed a demo food bank, badge and shifts into a running Cairn")
    demo.set_defaults(func=_cmd_demo)

    org = sub.add_parser("org", help="organisations").add_subparsers(dest="org_command", required=True)
    create = org.add_parser("create", help="create an organisation; prints its id and a new API key")
    create.add_argument("name")
    create.add_argument("--slug")
    create.add_argument("--url", help="the organisation's website")
    create.add_argument("--email", help="contact address shown in credentials")
    create.add_argument("--image-url", help="logo, shown as the issuer's image")
    create.set_defaults(func=_cmd_org_create)

    setup = sub.add_parser("setup", help="create the database schema and Kafka topics where missing")
    setup.set_defaults(func=_cmd_setup)

    sign = sub.add_parser("sign", help="add a Data Integrity proof to a credential")
    sign.add_argument("--suite", choices=["eddsa-rdfc-2022", "eddsa-jcs-2022"], default="eddsa-rdfc-2022")
    sign.add_argument("--key", required=True, help="KEY.json with secretKeyMultibase")
    sign.add_argument("--created", help="proof created time, ISO 8601 (default: now)")
    sign.add_argument("--verification-method", help="default: the key's did:key")
    sign.add_argument("input", metavar="IN.json")
    sign.set_defaults(func=_cmd_sign)

    verify = sub.add_parser("verify", help="verify credentials; exit status 1 if any is not valid")
    verify.add_argument("files", nargs="+", metavar="FILE", help="credential .json, or baked .png / .svg")
    verify.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="HOST[:PORT]",
        help="fetch DID documents and status lists from this host (repeatable); nothing else is fetched",
    )
    verify.add_argument(
        "--require-status",
        action="store_true",
        help="a status list that may not or cannot be fetched makes the credential not valid "
        "(default: a warning, 'valid, status not checked')",
    )
    verify.add_argument("-v", "--verbose", action="store_true", help="print every check")
    verify.set_defaults(func=_cmd_verify)

    keys = sub.add_parser("keys", help="issuer signing keys").add_subparsers(
        dest="keys_command", required=True
    )
    rotate = keys.add_parser(
        "rotate", help="give an organisation a new signing key (old keys keep verifying)"
    )
    rotate.add_argument("--org", required=True, metavar="SLUG")
    rotate.set_defaults(func=_cmd_keys_rotate)

    credentials = sub.add_parser("credentials", help="issued credentials").add_subparsers(
        dest="credentials_command", required=True
    )
    for action, summary in [
        ("revoke", "withdraw a credential for good"),
        ("suspend", "put a credential on hold"),
        ("unsuspend", "lift a suspension"),
    ]:
        change = credentials.add_parser(action, help=summary)
        change.add_argument("credential_id", metavar="CREDENTIAL_ID", help="urn:uuid:… or the bare uuid")
        change.add_argument("--reason")
        change.set_defaults(func=_cmd_credential_status, action=action)
    badges = sub.add_parser("badges", help="badge classes").add_subparsers(
        dest="badges_command", required=True
    )
    imports = badges.add_parser(
        "import", help="publish badge classes from a YAML or JSON file (CAIRN_API_KEY)"
    )
    imports.add_argument("file", metavar="BADGES.yaml", help="one badge class, or a list of them")
    imports.add_argument("--url", help="the gateway (default: CAIRN_PUBLIC_URL)")
    imports.set_defaults(func=_cmd_badges_import)

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


if __name__ == "__main__":
    sys.exit(main())
