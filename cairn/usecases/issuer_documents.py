"""The documents an organisation publishes for verifiers: its DID document and status lists.

The gateway serves them over HTTP, and answers its own URLs from here when it verifies (so it
never calls itself over the network).
"""

import re
from typing import Any

from cairn.credentials.did_web import did_document, org_did
from cairn.ports import SYSTEM_CLOCK, Clock, Store
from cairn.usecases.status_changes import status_list_document
from cairn.usecases.verifying import FetchError, FetchJson

_OWN_DOCUMENT = re.compile(
    r"^/orgs/(?P<slug>[a-z0-9-]+)/(?:(?P<did>did\.json)|status/(?P<purpose>revocation|suspension))$"
)


async def did_document_for(store: Store, slug: str, public_url: str) -> dict[str, Any] | None:
    org = await store.org_by_slug(slug)
    if org is None:
        return None
    return did_document(
        org_did(public_url, slug), await store.issuer_public_keys(org.id), await store.issuer_jwks(org.id)
    )


async def published_document(
    store: Store, path: str, public_url: str, clock: Clock = SYSTEM_CLOCK
) -> dict[str, Any] | None:
    """The document at `path` under the public URL, or None if there is none."""
    match = _OWN_DOCUMENT.match(path)
    if match is None:
        return None
    if match["did"]:
        return await did_document_for(store, match["slug"], public_url)
    org = await store.org_by_slug(match["slug"])
    if org is None:
        return None
    return await status_list_document(store, org, match["purpose"], public_url, clock)


def own_then(store: Store, public_url: str, elsewhere: FetchJson, clock: Clock = SYSTEM_CLOCK) -> FetchJson:
    """Answers URLs under `public_url` from the store, anything else with `elsewhere`."""

    async def fetch_json(url: str, max_bytes: int) -> dict[str, Any]:
        if url.startswith(public_url + "/"):
            document = await published_document(store, url.removeprefix(public_url), public_url, clock)
            if document is None:
                raise FetchError(f"{url}: not found")
            return document
        return await elsewhere(url, max_bytes)

    return fetch_json
