"""Offline JSON-LD document loader: every context Cairn understands ships as package data."""

import json
from functools import cache
from importlib.resources import files
from typing import Any

from pyld.jsonld import JsonLdError

VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_V3P0 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
VC_V1 = "https://www.w3.org/2018/credentials/v1"
ED25519_2020 = "https://w3id.org/security/suites/ed25519-2020/v1"

CONTEXT_FILES = {
    VC_V2: "credentials_v2.jsonld",
    VC_V1: "credentials_v1.jsonld",
    "https://www.w3.org/ns/credentials/examples/v2": "credentials_examples_v2.jsonld",
    OB_V3P0: "ob_v3p0_context-3.0.3.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json": "ob_v3p0_context-3.0.2.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json": "ob_v3p0_context-3.0.1.json",
    "https://purl.imsglobal.org/spec/ob/v3p0/context.json": "ob_v3p0_context.json",
    "https://w3id.org/security/data-integrity/v2": "data-integrity-v2.jsonld",
    "https://www.w3.org/ns/credentials/status/v1": "vc-bitstring-status-list-v1.jsonld",
    ED25519_2020: "ed25519-signature-2020-v1.jsonld",
}


@cache
def _context(url: str) -> dict[str, Any]:
    text = files("cairn.credentials").joinpath("contexts", CONTEXT_FILES[url]).read_text()
    return json.loads(text)


def load_document(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """pyld documentLoader that answers only from the shipped files, never the network."""
    if url not in CONTEXT_FILES:
        raise JsonLdError(
            f"JSON-LD context {url} is not shipped with Cairn; refusing to fetch it",
            "jsonld.LoadDocumentError",
            {"url": url},
            code="loading document failed",
        )
    return {"contextUrl": None, "documentUrl": url, "document": _context(url)}
