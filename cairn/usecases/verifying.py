"""Verifying a credential: fetch what it points to (DID documents, status lists), then check.

The checks themselves are pure (cairn/credentials/verification.py). Fetching goes through a
`FetchJson` the caller chooses: the gateway answers its own URLs from the store, and nothing
fetches another host unless a user allowed it (`cairn verify --allow-host`). A fetch from
another host is bounded in size and in total time, so a hostile or broken server can neither
exhaust memory with an endless body nor hold a verification open by trickling bytes.
"""

import asyncio
import json
from collections.abc import Awaitable, Collection
from datetime import datetime
from typing import Any, Protocol
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
DID_DOCUMENT_MAX_BYTES = 1024 * 1024
STATUS_LIST_MAX_BYTES = 16 * 1024 * 1024
FETCH_DEADLINE_SECONDS = 10.0  # for the whole of one fetch: connect, headers and body
VERIFY_DEADLINE_SECONDS = 25.0  # for all of a credential's fetches, however many it names


class FetchJson(Protocol):
    """Fetches the JSON object at a URL, refusing a body larger than `max_bytes`."""

    def __call__(self, url: str, max_bytes: int) -> Awaitable[JsonDoc]: ...


class FetchError(Exception):
    """The document could not be fetched; the message says why (it ends up in the report)."""


async def verify(
    credential: Presented,
    fetch_json: FetchJson,
    now: datetime | None = None,
    require_status: bool = False,
    deadline_seconds: float = VERIFY_DEADLINE_SECONDS,
) -> Report:
    """Fetches what the credential needs, then checks it; an unfetched status list leaves the
    status unchecked (a warning) unless `require_status`. All the fetches share one deadline,
    so a credential naming many slow status lists cannot hold a verification open."""
    material = Material()
    deadline = asyncio.get_running_loop().time() + deadline_seconds

    async def fetch(url: str, max_bytes: int) -> None:
        if url not in material.documents:
            try:
                async with asyncio.timeout_at(deadline):
                    material.documents[url] = await fetch_json(url, max_bytes)
            except FetchError as e:
                material.documents[url] = str(e)
            except TimeoutError:
                material.documents[url] = f"not fetched: the verification's {deadline_seconds:g} s were up"

    for url in did_documents_needed(credential):
        await fetch(url, DID_DOCUMENT_MAX_BYTES)
    for url in status_lists_needed(credential):
        await fetch(url, STATUS_LIST_MAX_BYTES)
        status_list = material.documents.get(url)
        if isinstance(status_list, dict):
            for did_url in did_documents_needed(status_list):
                await fetch(did_url, DID_DOCUMENT_MAX_BYTES)
    return verify_credential(credential, material, now, require_status=require_status)


def http_fetcher(
    client: httpx.AsyncClient,
    allowed_hosts: Collection[str],
    deadline_seconds: float = FETCH_DEADLINE_SECONDS,
) -> FetchJson:
    """GETs JSON from the allowed hosts ("host" or "host:port") only, within `deadline_seconds`
    in all and at most `max_bytes` of (decoded) body."""

    async def fetch_json(url: str, max_bytes: int) -> JsonDoc:
        host = urlsplit(url).netloc
        if host not in allowed_hosts:
            raise FetchError(
                f"not fetched: {host} is not an allowed host (allow it with --allow-host {host})"
            )
        try:
            async with asyncio.timeout(deadline_seconds):
                body = await _read_capped(client, url, max_bytes)
        except TimeoutError as e:
            raise FetchError(f"cannot fetch {url}: no complete answer within {deadline_seconds:g} s") from e
        except httpx.HTTPError as e:
            raise FetchError(f"cannot fetch {url}: {e}") from e
        try:
            document = json.loads(body)
        except (ValueError, RecursionError) as e:
            raise FetchError(f"{url} is not JSON") from e
        if not isinstance(document, dict):
            raise FetchError(f"{url} is not a JSON object")
        return document

    return fetch_json


async def _read_capped(client: httpx.AsyncClient, url: str, max_bytes: int) -> bytes:
    async with client.stream("GET", url, follow_redirects=False, timeout=None) as response:
        if response.status_code != 200:
            raise FetchError(f"cannot fetch {url}: HTTP {response.status_code}")
        too_large = FetchError(f"cannot fetch {url}: larger than {max_bytes:,} bytes")
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise too_large
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > max_bytes:
                raise too_large
        return bytes(body)
