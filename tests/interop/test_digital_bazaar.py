"""Cairn against Digital Bazaar's JavaScript stack (vc, data-integrity, eddsa-rdfc-2022): the
same proofValue for the same key, time and verification method, and each verifies the other's.

Runs `node tests/interop/js/interop.mjs` (dependencies pinned in its package-lock.json;
`make test` and .ci/run install them with npm ci).
"""

import copy
import json
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cairn.credentials import proofs
from cairn.credentials.contexts import CONTEXT_FILES
from cairn.credentials.multikey import public_key_multibase, secret_key_multibase
from cairn.credentials.verification import verify_credential
from tests.sample_credentials import DID, NOW, issued, material, method_of

pytestmark = pytest.mark.interop

JS = Path(__file__).parent / "js"
CONTEXTS = Path(proofs.__file__).parent / "contexts"
CREATED = "2026-11-28T12:00:00Z"


def run_js(command: str, request: dict, tmp_path: Path) -> dict:
    request_file = tmp_path / f"{command}-request.json"
    request_file.write_text(json.dumps(request))
    done = subprocess.run(
        ["node", str(JS / "interop.mjs"), command, str(request_file)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def request_for(credential: dict, key: Ed25519PrivateKey) -> dict:
    """What the JS side needs: our shipped contexts, the issuer's DID document and its key."""
    public = public_key_multibase(key.public_key())
    method = {
        "@context": "https://w3id.org/security/multikey/v1",
        "id": method_of(key),
        "type": "Multikey",
        "controller": DID,
        "publicKeyMultibase": public,
    }
    controller = {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": DID,
        "verificationMethod": [{k: v for k, v in method.items() if k != "@context"}],
        "assertionMethod": [method_of(key)],
    }
    return {
        "credential": credential,
        "contexts": {url: str(CONTEXTS / name) for url, name in CONTEXT_FILES.items()},
        "documents": {method_of(key): method, DID: controller},
        "key": {**method, "secretKeyMultibase": secret_key_multibase(key)},
        "created": CREATED,
    }


def cairn_signed(key: Ed25519PrivateKey) -> dict:
    return issued(key)  # a full Cairn credential: did:web issuer, status entries, evidence, tags


def test_same_proof_value_for_the_same_key_time_and_method(tmp_path):
    key = Ed25519PrivateKey.generate()
    ours = cairn_signed(key)
    unsigned = {k: v for k, v in ours.items() if k != "proof"}
    theirs = run_js("sign", request_for(unsigned, key), tmp_path)
    assert theirs["proof"]["created"] == ours["proof"]["created"] == CREATED
    assert theirs["proof"] == ours["proof"]
    assert {k: v for k, v in theirs.items() if k != "proof"} == unsigned


def test_javascript_verifies_cairn_credentials_and_refuses_tampered_ones(tmp_path):
    key = Ed25519PrivateKey.generate()
    credential = cairn_signed(key)
    assert run_js("verify", request_for(credential, key), tmp_path) == {"verified": True, "error": ""}
    tampered = copy.deepcopy(credential)
    tampered["credentialSubject"]["achievement"]["name"] = "Pantry volunteer: 100 hours"
    result = run_js("verify", request_for(tampered, key), tmp_path)
    assert result["verified"] is False and "Invalid signature" in result["error"]


def test_cairn_verifies_javascript_credentials(tmp_path):
    key = Ed25519PrivateKey.generate()
    unsigned = {k: v for k, v in cairn_signed(key).items() if k != "proof"}
    unsigned["id"] = "urn:uuid:signed-in-javascript"
    theirs = run_js("sign", request_for(unsigned, key), tmp_path)
    assert verify_credential(theirs, material([key]), NOW).valid
    theirs["validFrom"] = "2020-01-01T00:00:00Z"
    assert (
        "proof: signature does not match the document"
        in verify_credential(theirs, material([key]), NOW).reasons
    )
