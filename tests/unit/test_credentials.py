"""Building, signing and verifying an Open Badges credential, offline."""

import copy
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cairn.credentials import proofs
from cairn.credentials.builder import IssuerProfile, build_credential, iso
from cairn.credentials.multikey import (
    b58decode,
    b58encode,
    did_key,
    did_key_verification_method,
    public_key_from_multibase,
    public_key_multibase,
)
from cairn.credentials.verification import resolve_did_key, verify_credential
from cairn.domain.identity import identity_hash, recipient_key
from schemas.awards import AwardGranted, Evidence
from schemas.badge_class import BadgeClass, TotalHours

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)


def signed_credential(key: Ed25519PrivateKey, expires_after_days: int | None = None) -> dict:
    badge = BadgeClass(
        expires_after_days=expires_after_days,
        id="pantry-10",
        org_id="org-1",
        version=2,
        name="Pantry: 10 hours",
        description="Ten hours.",
        criteria_narrative="Log 10 hours.",
        criteria=TotalHours(at_least=10),
    )
    award = AwardGranted(
        award_id="award-1",
        org_id="org-1",
        badge_class_id="pantry-10",
        badge_class_version=2,
        recipient_key="b" * 64,
        occurrence=1,
        earned_at=NOW - timedelta(days=1),
        evidence=[Evidence(measure="hours", achieved=10.5, required=10)],
    )
    unsigned = build_credential(
        credential_id="urn:uuid:0b1c",
        award=award,
        badge=badge,
        issuer=IssuerProfile(
            id=did_key(key.public_key()),
            name="Riverside Food Bank",
            url="https://riverside.example.org",
            email="hello@riverside.example.org",
        ),
        org_slug="riverside",
        recipient_email="Sam@Example.org",
        recipient_salt="s4lt",
        public_url="https://cairn.example",
        issued_at=NOW,
    )
    options = proofs.ProofOptions("eddsa-rdfc-2022", did_key_verification_method(key.public_key()), iso(NOW))
    return proofs.sign(unsigned, key, options)


def test_built_credential_is_open_badges_shaped():
    credential = signed_credential(Ed25519PrivateKey.generate())
    assert credential["@context"][1] == "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
    subject = credential["credentialSubject"]
    assert subject["identifier"][0]["identityHash"] == identity_hash("sam@example.org", "s4lt")
    assert subject["achievement"]["id"] == "https://cairn.example/orgs/riverside/badges/pantry-10"
    assert credential["evidence"] == [
        {
            "type": ["Evidence"],
            "name": "10.5 hours",
            "description": "10.5 hours (10 needed), earned on 27 November 2026.",
        }
    ]
    assert "proof" in credential and "@context" not in credential["proof"]


def test_every_term_is_defined_in_the_contexts():
    """An undefined term would be dropped by canonicalisation and so not be signed at all."""
    credential = signed_credential(Ed25519PrivateKey.generate())
    unsecured = {k: v for k, v in credential.items() if k != "proof"}
    canonical = proofs.canonize_rdfc(unsecured)
    for value in ["Riverside Food Bank", "sha256$", "s4lt", "Log 10 hours.", "10.5 hours"]:
        assert value in canonical


def test_signed_credential_verifies():
    report = verify_credential(signed_credential(Ed25519PrivateKey.generate()), now=NOW)
    assert report.valid, report.reasons


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("name",), "Something else"),
        (("validFrom",), "2020-01-01T00:00:00Z"),
        (("credentialSubject", "achievement", "name"), "Pantry: 100 hours"),
        (("credentialSubject", "identifier", 0, "identityHash"), "sha256$00"),
        (("evidence", 0, "description"), "1000 hours"),
        (("issuer", "name"), "Someone else"),
        (("proof", "created"), "2026-11-28T12:00:01Z"),
    ],
)
def test_changing_any_signed_field_fails_the_proof(path, value):
    credential = copy.deepcopy(signed_credential(Ed25519PrivateKey.generate()))
    target = credential
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    report = verify_credential(credential, now=NOW)
    assert not report.valid
    assert "proof: signature does not match the document" in report.reasons


def test_other_issuer_key_is_refused():
    credential = signed_credential(Ed25519PrivateKey.generate())
    other = Ed25519PrivateKey.generate()
    credential["proof"]["verificationMethod"] = did_key_verification_method(other.public_key())
    assert (
        "issuer key: verificationMethod is not the issuer's" in verify_credential(credential, now=NOW).reasons
    )


def test_not_yet_valid_and_expired():
    credential = signed_credential(Ed25519PrivateKey.generate())
    assert (
        "validity: not valid before 2026-11-28T12:00:00Z"
        in verify_credential(credential, now=NOW - timedelta(seconds=1)).reasons
    )


def test_did_key_round_trip_and_base58():
    key = Ed25519PrivateKey.generate().public_key()
    assert resolve_did_key(did_key_verification_method(key)).public_bytes_raw() == key.public_bytes_raw()
    assert public_key_from_multibase(public_key_multibase(key)).public_bytes_raw() == key.public_bytes_raw()
    for data in [b"", b"\0\0\x01", bytes(range(40))]:
        assert b58decode(b58encode(data)) == data


def test_recipient_key_normalises_and_depends_on_secret():
    assert recipient_key(b"s1", " Sam@Example.ORG ") == recipient_key(b"s1", "sam@example.org")
    assert recipient_key(b"s1", "sam@example.org") != recipient_key(b"s2", "sam@example.org")


def test_expiring_badge_gets_valid_until_and_expires():
    credential = signed_credential(Ed25519PrivateKey.generate(), expires_after_days=365)
    assert credential["validUntil"] == "2027-11-28T12:00:00Z"
    assert verify_credential(credential, now=NOW + timedelta(days=364)).valid
    late = verify_credential(credential, now=NOW + timedelta(days=366))
    assert late.reasons == ["validity: expired at 2027-11-28T12:00:00Z"]
    assert "validUntil" not in signed_credential(Ed25519PrivateKey.generate())


def test_the_achievements_language_tag_is_signed_as_schema_org_in_language():
    """Issue 13: OB 3.0.3's context defines Achievement.inLanguage (https://schema.org/inLanguage),
    so the tag is part of what the proof covers, not dropped by JSON-LD expansion."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from cairn.credentials.rdfc import canonize
    from tests.sample_credentials import issued

    document = issued(Ed25519PrivateKey.generate())
    assert document["credentialSubject"]["achievement"]["inLanguage"] == "es"
    document.pop("proof")
    assert '<https://schema.org/inLanguage> "es" .' in canonize(document)
