"""The W3C eddsa vectors and the 1EdTech Open Badges vector, reproduced byte for byte."""

import hashlib
import json
from pathlib import Path

import pytest

from cairn.credentials import proofs, rdfc
from cairn.credentials.multikey import (
    public_key_from_multibase,
    public_key_multibase,
    secret_key_from_multibase,
)

STANDARDS = Path(__file__).parent.parent / "data" / "standards"
EDDSA = STANDARDS / "eddsa-vectors"
OB3 = STANDARDS / "ob3-vector"


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def w3c_key():
    return secret_key_from_multibase(load(EDDSA / "keyPair.json")["privateKeyMultibase"])


SUITES = [
    ("eddsa-rdfc-2022", "DataInt", proofs.canonize_rdfc),
    ("eddsa-jcs-2022", "JCS", proofs.canonize_jcs),
    ("Ed25519Signature2020", "EdSig", proofs.canonize_rdfc),  # the legacy suite wallets use for DIDAuth
]


def unsigned_for(suite: str, suffix: str) -> dict:
    """The input document; the 2020 vector adds its suite's context to the shared one."""
    signed = load(EDDSA / suite / f"signed{suffix}.json")
    return {k: v for k, v in signed.items() if k != "proof"}


def test_key_pair_round_trips():
    pair = load(EDDSA / "keyPair.json")
    assert public_key_multibase(w3c_key().public_key()) == pair["publicKeyMultibase"]


@pytest.mark.parametrize(("suite", "suffix", "canonize"), SUITES)
def test_canonical_forms_and_hashes(suite, suffix, canonize):
    folder = EDDSA / suite
    unsigned = unsigned_for(suite, suffix)
    config = load(folder / f"proofConfig{suffix}.json")
    assert canonize(unsigned) == (folder / f"canonDoc{suffix}.txt").read_text()
    assert canonize(config) == (folder / f"proofCanon{suffix}.txt").read_text()
    assert (
        hashlib.sha256(canonize(unsigned).encode()).hexdigest()
        == (folder / f"docHash{suffix}.txt").read_text().strip()
    )
    assert (
        hashlib.sha256(canonize(config).encode()).hexdigest()
        == (folder / f"proofHash{suffix}.txt").read_text().strip()
    )
    assert (
        proofs.hash_data(suite, unsigned, config).hex()
        == (folder / f"combinedHash{suffix}.txt").read_text().strip()
    )


@pytest.mark.parametrize(("suite", "suffix", "canonize"), SUITES)
def test_signed_vector_reproduced(suite, suffix, canonize):
    folder = EDDSA / suite
    expected = load(folder / f"signed{suffix}.json")
    options = proofs.ProofOptions(
        suite, expected["proof"]["verificationMethod"], expected["proof"]["created"]
    )
    signed = proofs.sign(unsigned_for(suite, suffix), w3c_key(), options)
    assert signed == expected
    sig_hex = (folder / f"sigHex{suffix}.txt").read_text().strip()
    assert proofs.multibase_decode(signed["proof"]["proofValue"]).hex() == sig_hex
    proofs.verify(expected, w3c_key().public_key())


def test_open_badges_vector_reproduced():
    pair = load(OB3 / "keyPair.json")
    key = secret_key_from_multibase(pair["secretKeyMultibase"])
    expected = load(OB3 / "signed.json")
    proof = expected["proof"]
    options = proofs.ProofOptions("eddsa-rdfc-2022", proof["verificationMethod"], proof["created"])
    unsigned = load(OB3 / "unsigned.json")
    assert proofs.canonize_rdfc(unsigned) == (OB3 / "document-canon.txt").read_text()
    assert proofs.sign(unsigned, key, options)["proof"]["proofValue"] == proof["proofValue"]
    proofs.verify(expected, public_key_from_multibase(pair["publicKeyMultibase"]))


@pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
def test_tampered_document_fails(suite):
    folder = EDDSA / suite
    signed = load(next(folder.glob("signed*.json")))
    signed["credentialSubject"]["alumniOf"] = "Another School"
    with pytest.raises(proofs.ProofError, match="signature does not match"):
        proofs.verify(signed, w3c_key().public_key())


@pytest.mark.parametrize("field", ["created", "verificationMethod", "proofPurpose"])
def test_tampered_proof_option_fails(field):
    signed = load(EDDSA / "eddsa-rdfc-2022" / "signedDataInt.json")
    signed["proof"][field] = signed["proof"][field] + "x"
    with pytest.raises(proofs.ProofError):
        proofs.verify(signed, w3c_key().public_key())


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda d: d.update(madeUpTerm="x"), "term 'madeUpTerm'"),
        (lambda d: d["credentialSubject"]["achievement"].update(secretLevel=3), "term 'secretLevel'"),
        (
            lambda d: d.update(
                credentialStatus={"id": "https://x.example/1", "type": "1EdTechRevocationList"}
            ),
            "type '1EdTechRevocationList'",
        ),
    ],
)
def test_undefined_terms_are_refused_by_name(change, named):
    """A dropped term would be outside the signature, and other verifiers would disagree."""
    unsigned = load(OB3 / "unsigned.json")
    change(unsigned)
    with pytest.raises(rdfc.UndefinedTermError, match=named):
        proofs.canonize_rdfc(unsigned)
    key = secret_key_from_multibase(load(OB3 / "keyPair.json")["secretKeyMultibase"])
    options = proofs.ProofOptions("eddsa-rdfc-2022", "did:key:z6Mk#z6Mk", "2024-01-01T00:00:00Z")
    with pytest.raises(rdfc.UndefinedTermError):
        proofs.sign(unsigned, key, options)


def test_context_caches_do_not_leak_between_documents():
    """The cached processing must give each document its own canonical form, in any order."""
    ob3, w3c = load(OB3 / "unsigned.json"), load(EDDSA / "unsigned.json")
    expected_ob3 = (OB3 / "document-canon.txt").read_text()
    expected_w3c = (EDDSA / "eddsa-rdfc-2022" / "canonDocDataInt.txt").read_text()
    for _ in range(3):
        assert proofs.canonize_rdfc(w3c) == expected_w3c
        assert proofs.canonize_rdfc(ob3) == expected_ob3
