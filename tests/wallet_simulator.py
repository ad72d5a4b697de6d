"""A wallet's side of DIDAuth, as the Learner Credential Wallet does it: a did:key, and a
presentation signed for `authentication` against the exchange's challenge and domain."""

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cairn.credentials import proofs
from cairn.credentials.contexts import ED25519_2020, VC_V1, VC_V2
from cairn.credentials.multikey import did_key, did_key_verification_method


def did_auth_presentation(
    key: Ed25519PrivateKey, challenge: str, domain: str, suite: proofs.Suite = "Ed25519Signature2020"
) -> dict:
    holder = did_key(key.public_key())
    context = [VC_V1, ED25519_2020] if suite == "Ed25519Signature2020" else [VC_V2]
    presentation = {"@context": context, "type": ["VerifiablePresentation"], "holder": holder}
    options = proofs.ProofOptions(
        suite,
        did_key_verification_method(key.public_key()),
        "2026-11-28T12:00:00Z",
        proof_purpose="authentication",
        challenge=challenge,
        domain=domain,
    )
    return proofs.sign(presentation, key, options)
