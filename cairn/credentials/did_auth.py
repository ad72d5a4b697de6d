"""DIDAuth over a VC-API exchange: a wallet proves it controls a DID, and the credential is
then issued to that DID (credentialSubject.id). Pure: no I/O.

The wallet (e.g. the Learner Credential Wallet) POSTs {} and gets a presentation request with a
challenge; it answers with a presentation signed for `authentication`, bound to that challenge
and our domain. Wallets sign with Ed25519Signature2020 or eddsa-rdfc-2022, with a did:key.
"""

from typing import Any

from cairn.credentials import proofs
from cairn.credentials.verification import ResolutionError, resolve_did_key

JsonDoc = dict[str, Any]


class DidAuthError(ValueError):
    """The presentation does not prove control of a DID for this exchange; says why."""


def presentation_request(challenge: str, domain: str, exchange_url: str) -> JsonDoc:
    return {
        "verifiablePresentationRequest": {
            "query": [{"type": "DIDAuthentication", "acceptedMethods": [{"method": "key"}]}],
            "challenge": challenge,
            "domain": domain,
            "interact": {
                "service": [{"type": "UnmediatedPresentationService2021", "serviceEndpoint": exchange_url}]
            },
        }
    }


def authenticated_holder(presentation: Any, challenge: str, domain: str) -> str:
    """The holder's DID, if `presentation` is a valid DIDAuth response to this challenge."""
    if not isinstance(presentation, dict) or "VerifiablePresentation" not in (presentation.get("type") or []):
        raise DidAuthError("not a VerifiablePresentation")
    holder = presentation.get("holder")
    proof = presentation.get("proof")
    if not isinstance(holder, str) or not isinstance(proof, dict):
        raise DidAuthError("the presentation needs a holder and a proof")
    if proof.get("proofPurpose") != "authentication":
        raise DidAuthError("the proof's purpose must be authentication")
    if proof.get("challenge") != challenge:
        raise DidAuthError("the proof answers another challenge")
    if proof.get("domain") != domain:
        raise DidAuthError(f"the proof is for the domain {proof.get('domain')!r}, not {domain!r}")
    method = proof.get("verificationMethod")
    if not isinstance(method, str) or method.partition("#")[0] != holder:
        raise DidAuthError("the proof is not made with one of the holder's keys")
    if not holder.startswith("did:key:"):
        raise DidAuthError("only did:key holders are accepted")
    try:
        proofs.verify(presentation, resolve_did_key(method))
    except (ResolutionError, proofs.ProofError) as e:
        raise DidAuthError(f"the proof does not verify: {e}") from e
    return holder


def bound_to(credential: JsonDoc, holder: str) -> JsonDoc:
    """The unsigned credential issued to `holder`: same content, the subject now identified."""
    unsigned = {k: v for k, v in credential.items() if k != "proof"}
    return {**unsigned, "credentialSubject": {"id": holder, **unsigned["credentialSubject"]}}
