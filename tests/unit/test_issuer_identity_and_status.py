"""did:web issuers, key rotation, Bitstring Status Lists, baked images and VC-JWT: pure, no I/O."""

import base64
import copy
import json
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cairn.credentials import proofs, status_list, vc_jwt
from cairn.credentials.baking import BakingError, bake_png, bake_svg, unbake
from cairn.credentials.did_web import did_document, document_url, org_did
from cairn.credentials.multikey import public_key_multibase
from cairn.credentials.verification import Material, verify_credential
from cairn.domain.badge_images import badge_png, badge_svg
from tests.sample_credentials import DID, NOW, PUBLIC_URL, issued, material, signed_list

STANDARDS = Path(__file__).parent.parent / "data" / "standards"
SPEC_EXAMPLE_EMPTY_LIST = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"


def test_did_web_names_and_where_the_document_lives():
    assert DID == "did:web:cairn.example:orgs:riverside"
    assert document_url(DID) == "https://cairn.example/orgs/riverside/did.json"
    local = org_did("http://127.0.0.1:8000", "riverside")
    assert local == "did:web:127.0.0.1%3A8000:orgs:riverside"
    assert document_url(local) == "http://127.0.0.1:8000/orgs/riverside/did.json"


def test_credential_content_is_open_badges_complete():
    credential = issued(Ed25519PrivateKey.generate())
    assert credential["issuer"]["email"] == "hello@riverside.example.org"
    assert credential["issuer"]["image"]["id"] == "https://riverside.example.org/logo.png"
    achievement = credential["credentialSubject"]["achievement"]
    assert achievement["tag"] == ["food bank", "pantry"]
    assert achievement["image"]["type"] == "Image"
    assert [e["statusPurpose"] for e in credential["credentialStatus"]] == ["revocation", "suspension"]
    canonical = proofs.canonize_rdfc({k: v for k, v in credential.items() if k != "proof"})
    for signed_value in ["hello@riverside.example.org", "food bank", "BitstringStatusListEntry", '"4242"']:
        assert signed_value in canonical, f"{signed_value} is not covered by the signature"


def test_valid_with_did_web_and_clear_status_lists():
    key = Ed25519PrivateKey.generate()
    report = verify_credential(issued(key), material([key]), NOW)
    assert report.valid, report.reasons
    assert [c.name for c in report.checks] == ["shape", "issuer key", "proof", "status", "validity"]


def test_revoked_and_suspended_and_unsuspended():
    key = Ed25519PrivateKey.generate()
    credential = issued(key, index=4242)
    assert verify_credential(credential, material([key], revoked=(4242,)), NOW).reasons == ["status: revoked"]
    assert verify_credential(credential, material([key], suspended=(4242,)), NOW).reasons == [
        "status: suspended"
    ]
    assert verify_credential(credential, material([key], suspended=(4243,)), NOW).valid, "a neighbour's bit"
    assert verify_credential(credential, material([key]), NOW).valid, "unsuspended: the bit is clear again"


def test_tampered_status_list_is_refused():
    key = Ed25519PrivateKey.generate()
    credential = issued(key, index=7)
    evidence = material([key], revoked=(7,))
    revocation = status_list.list_url(PUBLIC_URL, "riverside", "revocation")
    forged = copy.deepcopy(evidence.documents[revocation])
    forged["credentialSubject"]["encodedList"] = status_list.encode(status_list.empty_bits())  # "un-revoke"
    evidence.documents[revocation] = forged
    [reason] = verify_credential(credential, evidence, NOW).reasons
    assert reason.startswith("status: status list") and "signature does not match" in reason


def test_status_list_signed_by_someone_else_is_refused():
    key, stranger = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    evidence = material([key])
    revocation = status_list.list_url(PUBLIC_URL, "riverside", "revocation")
    evidence.documents[revocation] = signed_list(stranger, "revocation")
    [reason] = verify_credential(issued(key), evidence, NOW).reasons
    assert reason.startswith("status:") and "not an assertionMethod" in reason


def test_unreachable_status_list_leaves_the_status_unchecked_not_the_credential_invalid():
    key = Ed25519PrivateKey.generate()
    evidence = material([key])
    evidence.documents[status_list.list_url(PUBLIC_URL, "riverside", "revocation")] = "HTTP 503"
    report = verify_credential(issued(key), evidence, NOW)
    assert report.valid and not report.status_checked and report.outcome == "valid_status_not_checked"
    assert report.reasons == [] and report.warnings == ["status: not checked: HTTP 503"]
    assert {c.name for c in report.checks if c.ok} == {"shape", "issuer key", "proof", "validity"}
    required = verify_credential(issued(key), evidence, NOW, require_status=True)
    assert not required.valid and required.outcome == "not_valid"
    assert required.reasons == ["status: not checked: HTTP 503 (the status is required)"]


def test_an_unchecked_list_does_not_hide_a_set_bit_in_another():
    key = Ed25519PrivateKey.generate()
    evidence = material([key], suspended=(4242,))
    evidence.documents[status_list.list_url(PUBLIC_URL, "riverside", "revocation")] = "HTTP 503"
    report = verify_credential(issued(key, index=4242), evidence, NOW)
    assert report.outcome == "not_valid" and report.reasons == ["status: suspended"]


def test_unchecked_status_does_not_rescue_a_bad_proof():
    key = Ed25519PrivateKey.generate()
    evidence = material([key])
    evidence.documents[status_list.list_url(PUBLIC_URL, "riverside", "revocation")] = "HTTP 503"
    credential = issued(key)
    credential["name"] = "Forged"
    report = verify_credential(credential, evidence, NOW)
    assert report.outcome == "not_valid" and report.reasons[0].startswith("proof:")


def test_after_rotation_old_and_new_credentials_verify():
    old, new = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    rotated = material([old, new])
    assert verify_credential(issued(old), rotated, NOW).valid
    assert verify_credential(issued(new), rotated, NOW).valid
    without_old = material([new])
    reasons = verify_credential(issued(old), without_old, NOW).reasons
    assert reasons[0].startswith("issuer key:") and "not an assertionMethod" in reasons[0]
    assert reasons[1] == "proof: not checked: no issuer key"


@pytest.mark.parametrize(
    ("proof_field", "value", "reason"),
    [
        ("created", "2026-11-28T12:00:01Z", "proof: signature does not match the document"),
        ("proofPurpose", "authentication", "proof: signature does not match the document"),
        ("cryptosuite", "eddsa-jcs-2022", "proof: signature does not match the document"),
        ("cryptosuite", "ecdsa-rdfc-2019", "proof: unsupported cryptosuite 'ecdsa-rdfc-2019'"),
        (
            "type",
            "JsonWebSignature2020",
            "proof: proof type 'JsonWebSignature2020' is not DataIntegrityProof",
        ),
        (
            "type",
            "Ed25519Signature2020",
            "proof: cannot canonicalise the document: term 'created' is not defined",
        ),
        ("proofValue", "z3FXQ", "proof: signature does not match the document"),
        (
            "verificationMethod",
            "did:web:cairn.example:orgs:other#z6Mk",
            "issuer key: verificationMethod is not the issuer's",
        ),
    ],
)
def test_changing_any_proof_property_fails_with_its_reason(proof_field, value, reason):
    key = Ed25519PrivateKey.generate()
    credential = issued(key)
    credential["proof"][proof_field] = value
    assert any(r.startswith(reason) for r in verify_credential(credential, material([key]), NOW).reasons)


def test_changing_the_status_entry_fails_the_proof():
    key = Ed25519PrivateKey.generate()
    credential = issued(key, index=11)
    credential["credentialStatus"][0]["statusListIndex"] = "12"  # dodge a revocation
    assert (
        "proof: signature does not match the document"
        in verify_credential(credential, material([key], revoked=(11,)), NOW).reasons
    )


def test_status_list_encoding_matches_the_spec_and_fixture():
    assert status_list.encode(status_list.empty_bits()) == SPEC_EXAMPLE_EMPTY_LIST
    fixture = json.loads(
        (STANDARDS / "bitstring-status" / "dcc-fixture-100000-bits-set-2-6-8.json").read_text()
    )
    bits = status_list.decode(fixture["credentialSubject"]["encodedList"])
    assert [i for i in range(len(bits) * 8) if status_list.get_bit(bits, i)] == [2, 6, 8]
    entry = {"statusListCredential": fixture["id"], "statusPurpose": "revocation", "statusListIndex": "6"}
    with pytest.raises(status_list.StatusListError, match="fewer than the 131072 required"):
        status_list.status_of(entry, fixture)


def test_baked_png_and_svg_carry_a_verifiable_credential():
    key = Ed25519PrivateKey.generate()
    credential = issued(key)
    png = bake_png(badge_png(), credential)
    svg = bake_svg(badge_svg("Pantry volunteer: 10 hours"), credential)
    for baked in [png, svg.encode()]:
        assert unbake(baked) == credential
        assert verify_credential(unbake(baked), material([key]), NOW).valid
    assert unbake(bake_png(png, credential)) == credential, "re-baking replaces, never duplicates"
    assert png.count(b"openbadgecredential") == 1
    with pytest.raises(BakingError, match="no openbadgecredential"):
        unbake(badge_png())
    with pytest.raises(BakingError, match="no openbadges:credential"):
        unbake(badge_svg("x").encode())


def test_status_lists_without_valid_until_never_expire():
    key = Ed25519PrivateKey.generate()
    evidence = material([key])
    reasons = verify_credential(issued(key), evidence, NOW + timedelta(days=1)).reasons
    assert reasons == [], "lists without validUntil do not expire"


@pytest.mark.parametrize("alg", vc_jwt.ALGORITHMS)
def test_vc_jwt_verifies_and_refuses_tampering(alg):
    ed25519, jwt_key = Ed25519PrivateKey.generate(), vc_jwt.generate_key(alg)
    jwk = vc_jwt.public_jwk(jwt_key.public_key())
    evidence = material([ed25519])
    evidence.documents[document_url(DID)] = did_document(
        DID, [public_key_multibase(ed25519.public_key())], [jwk]
    )
    kid = f"{DID}#{vc_jwt.jwk_thumbprint(jwk)}"
    token = vc_jwt.encode(issued(ed25519), jwt_key, kid)
    header, claims = vc_jwt.parse(token)
    assert header == {"alg": alg, "typ": "JWT", "kid": kid}
    assert claims["iss"] == DID and claims["jti"] == claims["vc"]["id"] and "proof" not in claims["vc"]
    report = verify_credential(token, evidence, NOW)
    assert report.valid, report.reasons

    head, _, signature = token.split(".")
    forged = dict(claims, vc={**claims["vc"], "name": "Pantry volunteer: 100 hours"})
    forged_payload = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()
    assert (
        "proof: signature does not match the token"
        in verify_credential(f"{head}.{forged_payload}.{signature}", evidence, NOW).reasons
    )
    other = vc_jwt.encode(issued(ed25519), vc_jwt.generate_key(alg), kid)
    assert "proof: signature does not match the token" in verify_credential(other, evidence, NOW).reasons
    revoked = material([ed25519], revoked=(4242,))
    revoked.documents[document_url(DID)] = evidence.documents[document_url(DID)]
    assert verify_credential(token, revoked, NOW).reasons == ["status: revoked"]
    assert unbake(bake_png(badge_png(), token)) == token


def test_garbage_is_not_a_vc_jwt():
    assert verify_credential("eyJhbGciOi.not.a-token", Material(), NOW).reasons == [
        "shape: not a VC-JWT: expected header.payload.signature with a vc claim"
    ]
