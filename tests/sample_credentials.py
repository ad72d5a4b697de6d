"""A full Cairn credential and the documents that verify it (DID document, status lists),
built in memory for the unit and interop tests."""

from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cairn.credentials import proofs, status_list
from cairn.credentials.builder import IssuerProfile, build_credential, iso
from cairn.credentials.did_web import did_document, document_url, org_did, verification_method
from cairn.credentials.multikey import public_key_multibase
from cairn.credentials.verification import Material
from schemas.awards import AwardGranted, Evidence
from schemas.badge_class import BadgeClass, TotalHours

PUBLIC_URL = "https://cairn.example"
NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
DID = org_did(PUBLIC_URL, "riverside")


def method_of(key: Ed25519PrivateKey, public_url: str = PUBLIC_URL) -> str:
    return verification_method(org_did(public_url, "riverside"), public_key_multibase(key.public_key()))


def issued(key: Ed25519PrivateKey, index: int = 4242, public_url: str = PUBLIC_URL) -> dict:
    """Riverside's credential, its issuer and status lists under `public_url`."""
    badge = BadgeClass(
        id="pantry-10",
        org_id="org-1",
        version=1,
        name="Pantry volunteer: 10 hours",
        description="Ten hours at the pantry.",
        criteria_narrative="Log 10 hours.",
        criteria=TotalHours(at_least=10),
        image="https://cairn.example/img/pantry.png",
        tags=["food bank", "pantry"],
    )
    award = AwardGranted(
        award_id="award-1",
        org_id="org-1",
        badge_class_id="pantry-10",
        badge_class_version=1,
        recipient_key="b" * 64,
        occurrence=1,
        earned_at=NOW,
        evidence=[Evidence(measure="hours", achieved=10, required=10)],
    )
    unsigned = build_credential(
        credential_id="urn:uuid:6f1c",
        award=award,
        badge=badge,
        issuer=IssuerProfile(
            id=org_did(public_url, "riverside"),
            name="Riverside Food Bank",
            url="https://riverside.example.org",
            email="hello@riverside.example.org",
            image="https://riverside.example.org/logo.png",
        ),
        org_slug="riverside",
        recipient_email="sam@example.org",
        recipient_salt="s4lt",
        public_url=public_url,
        issued_at=NOW,
        status=status_list.status_entries(public_url, "riverside", index),
        language="es",  # the achievement's inLanguage must survive JSON-LD canonicalisation
    )
    options = proofs.ProofOptions("eddsa-rdfc-2022", method_of(key, public_url), iso(NOW))
    return proofs.sign(unsigned, key, options)


def signed_list(
    key: Ed25519PrivateKey,
    purpose: status_list.Purpose,
    set_indexes: tuple[int, ...] = (),
    public_url: str = PUBLIC_URL,
) -> dict:
    bits = status_list.empty_bits()
    for index in set_indexes:
        status_list.set_bit(bits, index, True)
    url = status_list.list_url(public_url, "riverside", purpose)
    did = org_did(public_url, "riverside")
    unsigned = status_list.list_credential(url, did, purpose, bytes(bits), iso(NOW))
    options = proofs.ProofOptions("eddsa-rdfc-2022", method_of(key, public_url), iso(NOW))
    return proofs.sign(unsigned, key, options)


def material(
    keys: list[Ed25519PrivateKey], revoked: tuple[int, ...] = (), suspended: tuple[int, ...] = ()
) -> Material:
    signer = keys[-1]  # lists are signed with the newest key
    return Material(
        {
            document_url(DID): did_document(DID, [public_key_multibase(k.public_key()) for k in keys]),
            status_list.list_url(PUBLIC_URL, "riverside", "revocation"): signed_list(
                signer, "revocation", revoked
            ),
            status_list.list_url(PUBLIC_URL, "riverside", "suspension"): signed_list(
                signer, "suspension", suspended
            ),
        }
    )
