"""Verifying a credential: fetch what it points to (DID documents, status lists), then check.

The checks themselves are pure (cairn/credentials/verification.py). Fetching goes through a
`FetchJson` the caller chooses: the gateway answers its own URLs from the store, and nothing
fetches another host unless a user allowed it (`cairn verify --allow-host`).
"""

from collections.abc import Awaitable, Callable, Collection
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from cairn.credentials.verification import (
    Material,
    Presented,
    Report,
    did_documents_needed,
    status_lists_needed,
    verify_credential,
)

JsonDoc = dict[str, Any]
FetchJson = Callable[[str], Awaitable[JsonDoc]]


class FetchError(Exception):
    """The document could not be fetched; the message says why (it ends up in the report)."""


async def verify(credential: Presented, fetch_json: FetchJson, now: datetime | None = None) -> Report:
    material = Material()

    async def fetch(url: str) -> None:
        if url not in material.documents:
            try:
                material.documents[url] = await fetch_json(url)
            except FetchError as e:
                material.documents[url] = str(e)

    for url in did_documents_needed(credential) + status_lists_needed(credential):
        await fetch(url)
    for url in status_lists_needed(credential):
        status_list = material.documents.get(url)
        if isinstance(status_list, dict):
            for did_url in did_documents_needed(status_list):
                await fetch(did_url)
    return verify_credential(credential, material, now)


def http_fetcher(client: httpx.AsyncClient, allowed_hosts: Collection[str]) -> FetchJson:
    """GETs JSON from the allowed hosts ("host" or "host:port") only."""

    async def fetch_json(url: str) -> JsonDoc:
        host = urlsplit(url).netloc
        if host not in allowed_hosts:
            raise FetchError(
                f"not fetched: {host} is not an allowed host (allow it with --allow-host {host})"
            )
        try:
            response = await client.get(url, follow_redirects=False, timeout=10)
        except httpx.HTTPError as e:
            raise FetchError(f"cannot fetch {url}: {e}") from e
        if response.status_code != 200:
            raise FetchError(f"cannot fetch {url}: HTTP {response.status_code}")
        try:
            document = response.json()
        except ValueError as e:
            raise FetchError(f"{url} is not JSON") from e
        if not isinstance(document, dict):
            raise FetchError(f"{url} is not a JSON object")
        return document

    return fetch_json
