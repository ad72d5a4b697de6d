"""W3C Data Integrity EdDSA proofs: eddsa-rdfc-2022 (the Open Badges suite), eddsa-jcs-2022,
and the older Ed25519Signature2020 (what wallets sign DIDAuth presentations with).

Pure functions: documents in, documents out. Every suite hashes the proof configuration and the
unsecured document separately and signs proofHash || documentHash with Ed25519;
Ed25519Signature2020 canonicalises like eddsa-rdfc-2022 but names itself by proof type.
"""

import hashlib
from dataclasses import dataclass
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pyld import jsonld

from cairn.credentials import jcs, rdfc
from cairn.credentials.multikey import b58encode, multibase_decode

Suite = Literal["eddsa-rdfc-2022", "eddsa-jcs-2022", "Ed25519Signature2020"]
SUITES: tuple[Suite, ...] = ("eddsa-rdfc-2022", "eddsa-jcs-2022")  # the Data Integrity cryptosuites
LEGACY_2020: Suite = "Ed25519Signature2020"
JsonDoc = dict[str, Any]


class ProofError(ValueError):
    """The proof does not verify; the message says why."""


@dataclass(frozen=True)
class ProofOptions:
    cryptosuite: Suite
    verification_method: str
    created: str
    proof_purpose: str = "assertionMethod"
    challenge: str | None = None  # authentication proofs (DIDAuth) bind to a challenge and domain
    domain: str | None = None

    def config(self, document_context: Any) -> JsonDoc:
        if self.cryptosuite == LEGACY_2020:
            config: JsonDoc = {"type": LEGACY_2020}
        else:
            config = {"type": "DataIntegrityProof", "cryptosuite": self.cryptosuite}
        config |= {
            "created": self.created,
            "verificationMethod": self.verification_method,
            "proofPurpose": self.proof_purpose,
        }
        if self.challenge is not None:
            config["challenge"] = self.challenge
        if self.domain is not None:
            config["domain"] = self.domain
        config["@context"] = document_context
        return config


def canonize_rdfc(document: JsonDoc) -> str:
    """RDF Dataset Canonicalization (RDFC-1.0) to N-Quads; refuses undefined terms."""
    return rdfc.canonize(document)


def canonize_jcs(document: JsonDoc) -> str:
    return jcs.canonical_json(document)


def _canonize(suite: Suite, document: JsonDoc) -> str:
    if suite in ("eddsa-rdfc-2022", LEGACY_2020):
        return canonize_rdfc(document)
    if suite == "eddsa-jcs-2022":
        return canonize_jcs(document)
    raise ProofError(f"unsupported cryptosuite {suite!r}")


def hash_data(suite: Suite, unsecured: JsonDoc, proof_config: JsonDoc) -> bytes:
    """sha256(canonical proof config) || sha256(canonical document): the bytes that get signed."""
    proof_hash = hashlib.sha256(_canonize(suite, proof_config).encode()).digest()
    doc_hash = hashlib.sha256(_canonize(suite, unsecured).encode()).digest()
    return proof_hash + doc_hash


def sign(document: JsonDoc, key: Ed25519PrivateKey, options: ProofOptions) -> JsonDoc:
    """Returns `document` with a DataIntegrityProof added: a new top-level object that shares
    its nested values with `document` (documents are values here, never changed in place)."""
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    config = options.config(unsecured.get("@context"))
    signature = key.sign(hash_data(options.cryptosuite, unsecured, config))
    proof = dict(config)
    if options.cryptosuite != "eddsa-jcs-2022":
        del proof["@context"]  # rdfc proofs inherit the document's context; jcs proofs keep it
    proof["proofValue"] = "z" + b58encode(signature)
    return {**unsecured, "proof": proof}


def verify(document: JsonDoc, public_key: Ed25519PublicKey) -> None:
    """Raises ProofError naming what is wrong; returns None when the proof holds."""
    proof = document.get("proof")
    if not isinstance(proof, dict):
        raise ProofError("no proof, or more than one (proof sets are not supported)")
    if proof.get("type") == LEGACY_2020:
        suite = LEGACY_2020
    elif proof.get("type") != "DataIntegrityProof":
        raise ProofError(f"proof type {proof.get('type')!r} is not DataIntegrityProof")
    else:
        suite = proof.get("cryptosuite")
        if suite not in SUITES:
            raise ProofError(f"unsupported cryptosuite {suite!r}")
    value = proof.get("proofValue")
    if not isinstance(value, str):
        raise ProofError("proof has no proofValue")
    try:
        signature = multibase_decode(value)
    except ValueError as e:
        raise ProofError(f"proofValue is not base58btc multibase: {e}") from e
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    config = {k: v for k, v in proof.items() if k != "proofValue"}
    if suite == "eddsa-jcs-2022" and "@context" in config:
        if config["@context"] != unsecured.get("@context"):
            raise ProofError("proof @context does not match the document's @context")
    else:
        config["@context"] = unsecured.get("@context")
    try:
        data = hash_data(suite, unsecured, config)
    except (jsonld.JsonLdError, rdfc.UndefinedTermError) as e:
        raise ProofError(f"cannot canonicalise the document: {e}") from e
    try:
        public_key.verify(signature, data)
    except InvalidSignature as e:
        raise ProofError("signature does not match the document") from e
