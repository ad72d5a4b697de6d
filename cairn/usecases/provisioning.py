"""Making organisations: the one way one is made, whichever door (admin API, CLI, demo) the
request came in by. Schema and topics are made by `cairn setup` (cairn.bootstrap.setup)."""

from cairn.domain.records import Org
from cairn.ports import SlugTaken, Store
from schemas.admin import OrgCreateIn


class OrgExists(ValueError):
    """The slug (given, or derived from the name) belongs to another organisation."""


async def create_organisation(store: Store, new: OrgCreateIn) -> tuple[Org, str]:
    """From a validated OrgCreateIn, so names, slugs and URLs follow the same rules whichever
    door they came in by. Raises OrgExists for a taken slug."""
    taken = OrgExists(f"the slug {new.given_slug!r} is taken by another organisation; give another")
    if await store.org_by_slug(new.given_slug) is not None:
        raise taken
    try:
        return await store.create_org(
            new.name,
            new.given_slug,
            str(new.url) if new.url else None,
            str(new.email) if new.email else None,
            str(new.image_url) if new.image_url else None,
        )
    except SlugTaken:
        raise taken from None  # another request made it since the look-up
