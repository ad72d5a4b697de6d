"""verify() with a fetcher that is slow for status lists: however many a credential names, all
its fetches share one deadline, and what was not fetched in time leaves the status unchecked."""

import asyncio
import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cairn.credentials.did_web import document_url
from cairn.usecases.verifying import DID_DOCUMENT_MAX_BYTES, STATUS_LIST_MAX_BYTES, FetchError, verify
from tests.sample_credentials import DID, NOW, issued, material


async def test_all_fetches_share_one_deadline():
    key = Ed25519PrivateKey.generate()
    credential = issued(key)
    entry = credential["credentialStatus"][0]
    credential["credentialStatus"] = [
        entry | {"statusListCredential": f"https://slow.example/list/{n}"} for n in range(50)
    ]
    did_document = material([key]).documents[document_url(DID)]
    asked: list[tuple[str, int]] = []

    async def fetch_json(url: str, max_bytes: int) -> dict:
        asked.append((url, max_bytes))
        if url == document_url(DID):
            return did_document
        await asyncio.sleep(0.2)  # each list takes a while; fifty would take ten seconds
        raise FetchError(f"{url}: HTTP 503")

    started = time.monotonic()
    report = await verify(credential, fetch_json, NOW, deadline_seconds=0.5)
    # fifty fetches one after another would take 10 s; slack for a loaded machine (CI saw 1.5 s)
    assert time.monotonic() - started < 5
    assert asked[0] == (document_url(DID), DID_DOCUMENT_MAX_BYTES)
    assert {size for url, size in asked[1:]} == {STATUS_LIST_MAX_BYTES}
    [status] = [c for c in report.checks if c.name == "status"]
    assert not status.checked and "the verification's 0.5 s were up" in status.reason
    assert status.reason.count("HTTP 503") == 2, "two lists answered before the deadline"
    assert status.reason.count("were up") == 1, "the same reason once"
