"""Credentials by hand: sign one, verify any (files or baked images), and revoke, suspend or
unsuspend an issued one."""

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from cairn.settings import get_settings


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


def _cmd_credential_status(args: argparse.Namespace) -> int:
    from cairn import bootstrap
    from cairn.usecases.status_changes import StatusChangeError, change_status
    from schemas.admin import StatusChangeIn
    from schemas.awards import credential_id_from

    settings = get_settings()
    reason = StatusChangeIn(reason=args.reason).reason  # the API's rules: one line, no controls
    credential_id = credential_id_from(args.credential_id)

    async def change() -> str:
        parts = bootstrap.cli(settings)
        store = parts.store
        try:
            credential = await store.credential(credential_id)
            org = await store.org(credential.org_id) if credential else None
            if org is None:
                raise LookupError(f"no credential {args.credential_id}")
            changed = await change_status(store, org, credential_id, args.action, reason, settings.public_url)
            return changed.status
        finally:
            await parts.close()

    try:
        print(f"{credential_id}: {asyncio.run(change())}")
    except (LookupError, StatusChangeError) as e:
        print(f"cairn credentials {args.action}: {e}", file=sys.stderr)
        return 1
    return 0


def add_sign_verify_commands(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """cairn sign, cairn verify."""
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


def add_credentials_commands(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """cairn credentials revoke|suspend|unsuspend."""
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
