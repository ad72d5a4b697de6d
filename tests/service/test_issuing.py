"""Issuing on fakes: an award becomes a signed, stored, verifiable credential, announced once
per delivery of the award, and a redelivered award gets the same credential."""

from datetime import timedelta

import pytest

from cairn.domain.failures import PoisonRecord
from cairn.usecases.issuing import issue_and_announce
from schemas.awards import CredentialIssued, credential_id_for
from tests.service.flow import PUBLIC_URL, verified


async def test_an_award_becomes_a_verifiable_credential(store, publisher, clock, award):
    issued = await issue_and_announce(store, publisher, award, PUBLIC_URL, clock)

    assert issued.credential_id == credential_id_for(award.award_id)
    assert issued.issued_at == clock.now()
    assert publisher.of(CredentialIssued) == [issued]
    credential = await store.credential(issued.credential_id)
    document = credential.document
    assert document["issuer"]["id"] == "did:web:cairn.example:orgs:riverside"
    assert document["credentialSubject"]["achievement"]["name"] == "Pantry volunteer: 10 hours"
    assert document["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    report = await verified(store, document, clock)
    assert report.valid and report.status_checked, report


async def test_a_redelivered_award_gets_the_same_credential(store, publisher, clock, award):
    first = await issue_and_announce(store, publisher, award, PUBLIC_URL, clock)
    clock.advance(timedelta(hours=1))
    again = await issue_and_announce(store, publisher, award, PUBLIC_URL, clock)

    assert again == first, "same id, same issue time: stored once"
    assert publisher.of(CredentialIssued) == [first, first], (
        "announced again: harmless, the notifier sends once"
    )
    assert len(await store.credentials(award.org_id)) == 1


async def test_an_award_for_someone_erased_is_a_poison_record(store, publisher, clock, award):
    await store.erase_person(award.org_id, award.recipient_key)
    with pytest.raises(PoisonRecord, match="recipient missing"):
        await issue_and_announce(store, publisher, award, PUBLIC_URL, clock)
    assert publisher.of(CredentialIssued) == []
