"""Status changes on fakes: revoking or suspending flips the credential's bit in the signed
status list that verifiers read, and the notifier no longer presents it as valid."""

import pytest

from cairn.credentials.status_list import status_of
from cairn.usecases.notifying import notify_earner
from cairn.usecases.provisioning import create_organisation
from cairn.usecases.status_changes import StatusChangeError, change_status, status_list_document
from schemas.admin import OrgCreateIn
from tests.service.flow import PUBLIC_URL, verified


async def bit(store, org, document: dict, purpose: str, clock) -> bool:
    [entry] = [e for e in document["credentialStatus"] if e["statusPurpose"] == purpose]
    return status_of(entry, await status_list_document(store, org, purpose, PUBLIC_URL, clock))


async def test_revoking_flips_the_revocation_bit(store, clock, riverside, issued):
    org = riverside.org
    document = (await store.credential(issued.credential_id)).document
    assert await bit(store, org, document, "revocation", clock) is False

    changed = await change_status(
        store, org, issued.credential_id, "revoke", "issued in error", PUBLIC_URL, clock
    )

    assert changed.status == "revoked"
    assert await bit(store, org, document, "revocation", clock) is True
    report = await verified(store, document, clock)
    assert not report.valid and "revoked" in " ".join(report.reasons)


async def test_suspending_and_back(store, clock, riverside, issued):
    org = riverside.org
    document = (await store.credential(issued.credential_id)).document
    await change_status(store, org, issued.credential_id, "suspend", None, PUBLIC_URL, clock)
    assert await bit(store, org, document, "suspension", clock) is True
    await change_status(store, org, issued.credential_id, "unsuspend", None, PUBLIC_URL, clock)
    assert await bit(store, org, document, "suspension", clock) is False
    assert (await verified(store, document, clock)).valid


async def test_a_change_that_does_not_apply_is_refused(store, clock, riverside, issued):
    with pytest.raises(StatusChangeError, match="cannot unsuspend a credential that is active"):
        await change_status(store, riverside.org, issued.credential_id, "unsuspend", None, PUBLIC_URL, clock)
    await change_status(store, riverside.org, issued.credential_id, "revoke", None, PUBLIC_URL, clock)
    with pytest.raises(StatusChangeError, match="revoked"):
        await change_status(store, riverside.org, issued.credential_id, "suspend", None, PUBLIC_URL, clock)


async def test_another_organisation_cannot_touch_it(store, clock, issued):
    other, _ = await create_organisation(store, OrgCreateIn(name="Elsewhere", slug="elsewhere"))
    with pytest.raises(LookupError):
        await change_status(store, other, issued.credential_id, "revoke", None, PUBLIC_URL, clock)


async def test_a_revoked_credential_gets_no_claim_email(store, settings, mailer, clock, riverside, issued):
    await change_status(store, riverside.org, issued.credential_id, "revoke", None, PUBLIC_URL, clock)
    assert await notify_earner(store, issued, settings, mailer) is False
    assert mailer.sent == [] and (await store.notification(issued.credential_id)).status == "suppressed"
