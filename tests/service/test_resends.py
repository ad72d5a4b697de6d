"""Resending a claim email on fakes: a new generation with a new link, and the old link dead."""

import pytest

from cairn.usecases.notifying import notify_earner
from cairn.usecases.resends import NotResendable, request_resend
from cairn.usecases.status_changes import change_status
from schemas.awards import ClaimEmailResendRequested, CredentialIssued
from tests.service.flow import PUBLIC_URL


async def test_a_resend_sends_a_new_link_and_kills_the_old(store, publisher, settings, mailer, issued):
    await notify_earner(store, issued, settings, mailer)
    credential = await store.credential(issued.credential_id)

    assert await request_resend(store, publisher, credential) == 1
    [resend] = publisher.of(ClaimEmailResendRequested)
    assert (resend.credential_id, resend.org_id, resend.claim_generation) == (
        issued.credential_id,
        issued.org_id,
        1,
    )
    assert await notify_earner(store, resend, settings, mailer) is True
    assert await notify_earner(store, resend, settings, mailer) is False, "each generation once"
    assert await notify_earner(store, issued, settings, mailer) is False, "an old generation redelivered"

    old, new = store.claim_token_for(issued.credential_id, 0), store.claim_token_for(issued.credential_id, 1)
    first, second = mailer.sent
    assert old in first.get_body(("plain",)).get_content()
    assert new in second.get_body(("plain",)).get_content() and old != new
    assert (await store.claim(old)).credential is None, "the old link is dead"
    assert (await store.claim(new)).credential.id == issued.credential_id
    assert second["Message-ID"] != first["Message-ID"]


async def test_each_resend_asks_for_the_next_generation(store, publisher, settings, mailer, issued):
    await notify_earner(store, issued, settings, mailer)
    for generation in (1, 2):
        credential = await store.credential(issued.credential_id)
        assert await request_resend(store, publisher, credential) == generation
        await notify_earner(store, publisher.of(ClaimEmailResendRequested)[-1], settings, mailer)
    assert len(mailer.sent) == 3


async def test_a_revoked_credential_is_not_resent(store, publisher, clock, riverside, issued):
    await change_status(store, riverside.org, issued.credential_id, "revoke", None, PUBLIC_URL, clock)
    with pytest.raises(NotResendable, match="revoked"):
        await request_resend(store, publisher, await store.credential(issued.credential_id))
    assert publisher.of(CredentialIssued) == [issued] and publisher.of(ClaimEmailResendRequested) == [], (
        "nothing published"
    )
