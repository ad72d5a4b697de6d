"""Erasing a person on fakes: contact details and every link from their email go; the
credentials stay valid; later records about them send nothing."""

from cairn.domain.identity import recipient_key
from cairn.usecases.intake import accept_events
from cairn.usecases.notifying import notify_earner
from tests.service.flow import shift, verified


async def test_erasure_removes_the_person_but_not_the_credential(
    store, settings, mailer, clock, riverside, issued
):
    org = riverside.org
    await notify_earner(store, issued, settings, mailer)
    token = store.claim_token_for(issued.credential_id)
    assert await store.person_export(org.id, issued.recipient_key) is not None

    assert await store.erase_person(org.id, issued.recipient_key) is True

    assert await store.recipient(org.id, issued.recipient_key) is None
    assert await store.person_export(org.id, issued.recipient_key) is None
    assert (await store.claim(token)).credential is None, "the emailed link is dead"
    credential = await store.credential(issued.credential_id)
    assert credential.recipient_key != issued.recipient_key, "no longer derivable from the email"
    assert (await verified(store, credential.document, clock)).valid, "what was issued stays valid"
    assert await store.erase_person(org.id, issued.recipient_key) is False, "nothing left to erase"


async def test_a_record_about_an_erased_person_sends_nothing(store, settings, mailer, riverside, issued):
    await store.erase_person(riverside.org.id, issued.recipient_key)
    assert await notify_earner(store, issued, settings, mailer) is False
    assert mailer.sent == []
    notification = await store.notification(issued.credential_id)
    assert (notification.status, notification.last_error) == ("failed", "recipient erased")


async def test_new_activity_after_erasure_starts_afresh(store, publisher, riverside, issued):
    org = riverside.org
    await store.erase_person(org.id, issued.recipient_key)
    await accept_events(store, publisher, org, [shift("s9", "sam@example.org", 20, 1)])
    key = recipient_key(await store.org_secret(org.id), "sam@example.org")
    assert key == issued.recipient_key, "the same email keys the same (pseudonymous) recipient"
    assert (await store.recipient(org.id, key)).email == "sam@example.org"
