"""did:web identities of organisations and their DID documents (pure).

did:web:<host>:orgs:<slug> resolves to https://<host>/orgs/<slug>/did.json. A rotated-out key
stays in the document, so credentials signed with it still verify.
"""

from typing import Any
from urllib.parse import quote, unquote, urlsplit

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from cairn.credentials.multikey import public_key_from_multibase
from cairn.credentials.vc_jwt import jwk_thumbprint

DID_V1 = "https://www.w3.org/ns/did/v1"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"
JWK_V1 = "https://w3id.org/security/jwk/v1"
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


class DidError(ValueError):
    pass


def org_did(public_url: str, slug: str) -> str:
    host = urlsplit(public_url).netloc
    return f"did:web:{quote(host, safe='')}:orgs:{slug}"


def verification_method(did: str, public_multibase: str) -> str:
    return f"{did}#{public_multibase}"


def document_url(did: str) -> str:
    """Where the DID document lives; plain http only for a loopback host (local development)."""
    if not did.startswith("did:web:"):
        raise DidError(f"{did!r} is not a did:web")
    host, *path = did.removeprefix("did:web:").split(":")
    host = unquote(host)
    scheme = "http" if urlsplit(f"//{host}").hostname in LOOPBACK_HOSTS else "https"
    suffix = "/".join(unquote(p) for p in path) + "/did.json" if path else ".well-known/did.json"
    return f"{scheme}://{host}/{suffix}"


def did_document(
    did: str, public_multibases: list[str], jwks: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Ed25519 keys as Multikey (Data Integrity), RSA and P-256 keys as JsonWebKey (VC-JWT)."""
    methods: list[dict[str, Any]] = [
        {
            "id": verification_method(did, key),
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": key,
        }
        for key in public_multibases
    ]
    methods += [
        {"id": f"{did}#{jwk_thumbprint(jwk)}", "type": "JsonWebKey", "controller": did, "publicKeyJwk": jwk}
        for jwk in jwks or []
    ]
    ids = [m["id"] for m in methods]
    return {
        "@context": [DID_V1, MULTIKEY_V1, JWK_V1] if jwks else [DID_V1, MULTIKEY_V1],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": ids,
        "authentication": ids,
    }


def assertion_method(document: dict[str, Any], method: str) -> dict[str, Any]:
    """The verification method `method` names, if the document lets it sign credentials."""
    did = method.partition("#")[0]
    if document.get("id") != did:
        raise DidError(f"DID document is for {document.get('id')!r}, not {did!r}")
    allowed = {m if isinstance(m, str) else m.get("id") for m in document.get("assertionMethod", [])}
    if method not in allowed:
        raise DidError(f"{method} is not an assertionMethod of {did}")
    for entry in document.get("verificationMethod", []):
        if isinstance(entry, dict) and entry.get("id") == method:
            return entry
    raise DidError(f"{method} is not in the DID document")


def assertion_key(document: dict[str, Any], method: str) -> Ed25519PublicKey:
    try:
        return public_key_from_multibase(assertion_method(document, method).get("publicKeyMultibase", ""))
    except ValueError as e:
        raise DidError(f"{method}: {e}") from e


def assertion_jwk(document: dict[str, Any], method: str) -> dict[str, Any]:
    jwk = assertion_method(document, method).get("publicKeyJwk")
    if not isinstance(jwk, dict):
        raise DidError(f"{method} has no publicKeyJwk")
    return jwk
