"""DIDAuth: a wallet proves its DID before the credential is issued to it."""

import copy

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cairn.credentials.did_auth import DidAuthError, authenticated_holder, bound_to
from cairn.credentials.multikey import did_key
from cairn.credentials.verification import verify_credential
from tests.sample_credentials import NOW, issued, material
from tests.wallet_simulator import did_auth_presentation

CHALLENGE, DOMAIN = "c-123", "badges.example.org"


@pytest.mark.parametrize("suite", ["Ed25519Signature2020", "eddsa-rdfc-2022"])
def test_a_signed_answer_names_the_holder(suite):
    key = Ed25519PrivateKey.generate()
    presentation = did_auth_presentation(key, CHALLENGE, DOMAIN, suite)
    assert authenticated_holder(presentation, CHALLENGE, DOMAIN) == did_key(key.public_key())


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda p: p["proof"].update(challenge="c-999"), "another challenge"),
        (lambda p: p["proof"].update(domain="evil.example"), "domain 'evil.example'"),
        (lambda p: p["proof"].update(proofPurpose="assertionMethod"), "must be authentication"),
        (lambda p: p.update(holder=did_key(Ed25519PrivateKey.generate().public_key())), "holder's keys"),
        (lambda p: p["proof"].update(proofValue="z" + "1" * 80), "does not verify"),
        (lambda p: p.update(type=["VerifiableCredential"]), "not a VerifiablePresentation"),
    ],
)
def test_wrong_answers_are_refused_with_a_reason(change, reason):
    presentation = copy.deepcopy(did_auth_presentation(Ed25519PrivateKey.generate(), CHALLENGE, DOMAIN))
    change(presentation)
    with pytest.raises(DidAuthError, match=reason):
        authenticated_holder(presentation, CHALLENGE, DOMAIN)


def test_replayed_answer_with_signed_challenge_changed_fails_the_signature():
    presentation = did_auth_presentation(Ed25519PrivateKey.generate(), "old-challenge", DOMAIN)
    presentation["proof"]["challenge"] = CHALLENGE  # a replay, edited to fit the new exchange
    with pytest.raises(DidAuthError, match="does not verify"):
        authenticated_holder(presentation, CHALLENGE, DOMAIN)


def test_bound_credential_names_the_holder_and_verifies_once_signed():
    from cairn.credentials import proofs
    from tests.sample_credentials import method_of

    issuer = Ed25519PrivateKey.generate()
    holder = did_key(Ed25519PrivateKey.generate().public_key())
    unsigned = bound_to(issued(issuer), holder)
    assert unsigned["credentialSubject"]["id"] == holder and "proof" not in unsigned
    signed = proofs.sign(
        unsigned, issuer, proofs.ProofOptions("eddsa-rdfc-2022", method_of(issuer), "2026-11-28T12:00:00Z")
    )
    assert verify_credential(signed, material([issuer]), NOW).valid
