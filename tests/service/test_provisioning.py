"""Making organisations on fakes: one way in, slugs unique."""

import pytest

from cairn.usecases.provisioning import OrgExists, create_organisation
from schemas.admin import OrgCreateIn


async def test_an_organisation_gets_a_key_and_a_taken_slug_is_refused(store):
    org, api_key = await create_organisation(store, OrgCreateIn(name="Riverside Food Bank"))
    assert org.slug == "riverside-food-bank" and (await store.api_key(api_key)).org == org
    with pytest.raises(OrgExists, match="riverside-food-bank"):
        await create_organisation(store, OrgCreateIn(name="Riverside  Food Bank!"))


async def test_a_slug_taken_between_look_up_and_insert_is_org_exists(store, monkeypatch):
    """Two requests for the same slug at once both pass the look-up; the store's SlugTaken for
    the loser must reach the caller as OrgExists (HTTP 409), not as a server error."""
    await create_organisation(store, OrgCreateIn(name="Riverside Food Bank"))

    async def nobody_has_it(slug: str) -> None:
        return None

    monkeypatch.setattr(store, "org_by_slug", nobody_has_it)
    with pytest.raises(OrgExists, match="riverside-food-bank"):
        await create_organisation(store, OrgCreateIn(name="Riverside Food Bank"))
