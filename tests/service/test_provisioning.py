"""Making organisations on fakes: one way in, slugs unique."""

import pytest

from cairn.usecases.provisioning import OrgExists, create_organisation
from schemas.admin import OrgCreateIn


async def test_an_organisation_gets_a_key_and_a_taken_slug_is_refused(store):
    org, api_key = await create_organisation(store, OrgCreateIn(name="Riverside Food Bank"))
    assert org.slug == "riverside-food-bank" and (await store.api_key(api_key)).org == org
    with pytest.raises(OrgExists, match="riverside-food-bank"):
        await create_organisation(store, OrgCreateIn(name="Riverside  Food Bank!"))
