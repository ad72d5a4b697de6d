"""Running Cairn's deployment: the schema and topics, organisations, and their signing keys."""

import argparse
import asyncio
import sys

from cairn.adapters.kafka.connection import described
from cairn.settings import get_settings


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
    print(f"database schema and Kafka topics ready ({described(settings)})")
    return 0


def _cmd_keys_rotate(args: argparse.Namespace) -> int:
    from cairn import bootstrap

    async def rotate() -> str | None:
        parts = bootstrap.cli(get_settings())
        try:
            org = await parts.store.org_by_slug(args.org)
            return None if org is None else await parts.store.rotate_issuer_key(org.id)
        finally:
            await parts.close()

    public_key = asyncio.run(rotate())
    if public_key is None:
        print(f"cairn keys rotate: no organisation {args.org!r}", file=sys.stderr)
        return 1
    print(f"new signing key {public_key}; earlier keys stay in the DID document")
    return 0


def add_org_commands(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """cairn org create."""
    org = sub.add_parser("org", help="organisations").add_subparsers(dest="org_command", required=True)
    create = org.add_parser("create", help="create an organisation; prints its id and a new API key")
    create.add_argument("name")
    create.add_argument("--slug")
    create.add_argument("--url", help="the organisation's website")
    create.add_argument("--email", help="contact address shown in credentials")
    create.add_argument("--image-url", help="logo, shown as the issuer's image")
    create.set_defaults(func=_cmd_org_create)


def add_setup_command(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """cairn setup."""
    setup = sub.add_parser(
        "setup", help="migrate the database schema to this version; create missing Kafka topics"
    )
    setup.set_defaults(func=_cmd_setup)


def add_keys_commands(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """cairn keys rotate."""
    keys = sub.add_parser("keys", help="issuer signing keys").add_subparsers(
        dest="keys_command", required=True
    )
    rotate = keys.add_parser(
        "rotate", help="give an organisation a new signing key (old keys keep verifying)"
    )
    rotate.add_argument("--org", required=True, metavar="SLUG")
    rotate.set_defaults(func=_cmd_keys_rotate)
