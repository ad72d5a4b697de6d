"""Turns an AwardGranted into a signed, stored credential, at most once per award, and announces
it on cairn.credentials.v1."""

import logging
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cairn.crash_points import crash_point
from cairn.credentials import proofs
from cairn.credentials.builder import IssuerProfile, build_credential, iso
from cairn.credentials.did_auth import bound_to
from cairn.credentials.did_web import org_did, verification_method
from cairn.credentials.multikey import public_key_multibase
from cairn.credentials.status_list import status_entries
from cairn.domain.failures import PoisonRecord
from cairn.domain.records import CredentialRecord, Org
from cairn.ports import SYSTEM_CLOCK, Clock, Publisher, Store
from schemas.awards import AwardGranted, CredentialIssued, credential_id_for

log = logging.getLogger(__name__)


class MissingRecord(PoisonRecord):
    """The store lacks something the award refers to; retrying will not help."""


@dataclass(frozen=True)
class OrgSigner:
    """An organisation's active Ed25519 key with its did:web and verification method."""

    did: str
    key: Ed25519PrivateKey
    method: str

    def sign(self, document: dict[str, Any], created: str) -> dict[str, Any]:
        """An eddsa-rdfc-2022 proof, the suite Open Badges certifies."""
        return proofs.sign(document, self.key, proofs.ProofOptions("eddsa-rdfc-2022", self.method, created))


async def org_signer(store: Store, org: Org, public_url: str) -> OrgSigner:
    key = await store.issuer_key(org.id)
    did = org_did(public_url, org.slug)
    return OrgSigner(did, key, verification_method(did, public_key_multibase(key.public_key())))


async def issue_credential(
    store: Store, award: AwardGranted, public_url: str, clock: Clock = SYSTEM_CLOCK
) -> CredentialIssued:
    """Builds, signs (eddsa-rdfc-2022) and stores the credential; a redelivered award gets the
    credential stored the first time (award_id is unique in the store)."""
    existing = await store.credential_by_award(award.award_id)
    if existing is None:
        org = await store.org(award.org_id)
        badge = await store.badge_class(award.org_id, award.badge_class_id, award.badge_class_version)
        contact = await store.recipient(award.org_id, award.recipient_key)
        if org is None or badge is None or contact is None:
            raise MissingRecord(f"award {award.award_id}: organisation, badge class or recipient missing")
        signer = await org_signer(store, org, public_url)
        issued_at = clock.now().replace(microsecond=0)
        credential_id = credential_id_for(award.award_id)
        if badge.image is None:  # the uploaded image, or one drawn in the organisation's colour
            badge = badge.model_copy(
                update={"image": f"{public_url}/orgs/{org.slug}/badges/{badge.id}/image"}
            )
        unsigned = build_credential(
            credential_id=credential_id,
            award=award,
            badge=badge,
            issuer=IssuerProfile(
                id=signer.did, name=org.name, url=org.url, email=org.email, image=org.image_url
            ),
            status=status_entries(public_url, org.slug, await store.status_index(org.id, credential_id)),
            org_slug=org.slug,
            recipient_email=contact.email,
            recipient_salt=contact.salt,
            public_url=public_url,
            issued_at=issued_at,
            language=org.language,  # the badge's texts are in the organisation's words
        )
        existing, created = await store.insert_credential(
            credential_id=credential_id,
            award_id=award.award_id,
            org_id=org.id,
            badge_class_id=badge.id,
            recipient_key=award.recipient_key,
            document=signer.sign(unsigned, iso(issued_at)),
            issued_at=issued_at,
            badge_class_version=badge.version,
        )
        log.info(
            "credential %s %s for award %s", credential_id, "issued" if created else "exists", award.award_id
        )
        crash_point("signer.credential_stored")
    else:
        log.info("award %s redelivered: credential %s already issued", award.award_id, existing.id)
    return issued_record(existing)


async def issue_and_announce(
    store: Store, publisher: Publisher, award: AwardGranted, public_url: str, clock: Clock = SYSTEM_CLOCK
) -> CredentialIssued:
    """The signer's work per award: the credential issued (or found, for a redelivered award)
    and its CredentialIssued published, which is what the notifier acts on. Publishing again
    for a redelivered award is what makes a crash between the two steps harmless."""
    issued = await issue_credential(store, award, public_url, clock)
    await publisher.publish(issued)
    return issued


async def sign_for_holder(
    store: Store, credential: CredentialRecord, holder: str, public_url: str, clock: Clock = SYSTEM_CLOCK
) -> dict:
    """The stored credential issued to the wallet's DID, signed now with the active key."""
    org = await store.org(credential.org_id)
    if org is None:
        raise LookupError(f"organisation of {credential.id} is gone")
    signer = await org_signer(store, org, public_url)
    return signer.sign(bound_to(credential.document, holder), iso(clock.now()))


def issued_record(credential: CredentialRecord) -> CredentialIssued:
    """The CredentialIssued record of a stored credential."""
    return CredentialIssued(
        credential_id=credential.id,
        award_id=credential.award_id,
        org_id=credential.org_id,
        badge_class_id=credential.badge_class_id,
        recipient_key=credential.recipient_key,
        issued_at=credential.issued_at,
    )
