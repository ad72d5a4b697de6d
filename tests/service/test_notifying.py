"""Notifying on fakes: one claim email per credential and generation; a 4xx is retried, a 5xx
bounces for good, a relay in trouble leaves the record to be retried by the consumer."""

import pytest

from cairn.domain.failures import Failure, Transient, classify
from cairn.ports import HandOverFailed, MailNotSent
from cairn.usecases.notifying import UNCONFIRMED, HandOverUnsettled, notify_earner
from schemas.awards import CredentialIssued
from tests.service.fakes import SenderKilled


async def test_one_email_with_a_working_claim_link(store, settings, mailer, issued):
    assert await notify_earner(store, issued, settings, mailer) is True
    assert await notify_earner(store, issued, settings, mailer) is False, "a redelivery sends none"

    [message] = mailer.sent
    assert message["To"] == "Sam <sam@example.org>"
    assert message["Subject"] == "You earned a badge: Pantry volunteer: 10 hours"
    token = store.claim_token_for(issued.credential_id)
    assert f"https://cairn.example/claim/{token}" in message.get_body(("plain",)).get_content()
    assert (await store.claim(token)).credential.id == issued.credential_id
    assert (await store.notification(issued.credential_id)).status == "sent"


async def test_a_4xx_is_retried_and_the_email_goes(store, settings, mailer, issued):
    mailer.refuse(451)
    assert await notify_earner(store, issued, settings, mailer) is True
    assert len(mailer.sent) == 1 and mailer.attempts == 2


async def test_a_4xx_that_outlasts_the_retries_is_recorded_failed(store, settings, mailer, issued):
    mailer.refuse(451, times=mailer.max_attempts)
    assert await notify_earner(store, issued, settings, mailer) is False
    notification = await store.notification(issued.credential_id)
    assert (notification.status, notification.last_error) == ("failed", "451 refused by the fake")
    assert await notify_earner(store, issued, settings, mailer) is False, "the organisation sees it; no loop"


async def test_a_5xx_bounces_once_and_for_good(store, settings, mailer, issued):
    mailer.refuse(550)
    assert await notify_earner(store, issued, settings, mailer) is False
    assert await notify_earner(store, issued, settings, mailer) is False
    assert mailer.attempts == 1 and mailer.sent == []
    assert (await store.notification(issued.credential_id)).status == "bounced"


async def test_no_server_leaves_the_record_to_be_retried(store, settings, mailer, issued):
    mailer.unreachable()
    with pytest.raises(Exception) as failure:
        await notify_earner(store, issued, settings, mailer)
    assert classify(failure.value) is Failure.TRANSIENT, "the consumer retries it, never dead-letters it"
    assert await notify_earner(store, issued, settings, mailer) is True
    assert len(mailer.sent) == 1


async def test_relay_trouble_is_retried_by_the_consumer_for_rounds_then_failed(
    store, settings, mailer, issued
):
    """A relay refusing, dropping or stalling is retried round after round (the count kept in the
    store, so a restarted notifier goes on counting), never failed within a realistic outage;
    only an email that has had every round is failed, so it cannot hold the notifier for ever."""
    settings = settings.model_copy(update={"smtp_give_up_after_rounds": 3})
    mailer.unreachable(times=3)
    for _ in range(2):
        with pytest.raises(Exception) as failure:
            await notify_earner(store, issued, settings, mailer)
        assert classify(failure.value) is Failure.TRANSIENT
        assert (await store.notification(issued.credential_id)).status == "sending"
    assert await notify_earner(store, issued, settings, mailer) is False, "the third round gives up"
    notification = await store.notification(issued.credential_id)
    assert notification.status == "failed" and "ConnectionRefusedError" in notification.last_error
    assert mailer.sent == []


async def test_relay_trouble_then_recovery_sends_once(store, settings, mailer, issued):
    mailer.unreachable(times=5)
    for _ in range(5):
        with pytest.raises(MailNotSent):
            await notify_earner(store, issued, settings, mailer)
    assert await notify_earner(store, issued, settings, mailer) is True
    assert await notify_earner(store, issued, settings, mailer) is False
    assert len(mailer.sent) == 1 and (await store.notification(issued.credential_id)).status == "sent"


async def test_a_database_away_after_the_server_took_the_email_sends_it_once(
    store, settings, mailer, issued, monkeypatch
):
    """The server accepted the message and then the database was restarting: recording "sent"
    is retried in place; a retry of the whole record would have sent the email twice."""
    record = store.record_notification
    failures = iter([Transient("database restarting"), Transient("database restarting")])

    async def flaky(credential_id, message_id, status, error=None, generation=0):
        if status == "sent" and (failure := next(failures, None)):
            raise failure
        await record(credential_id, message_id, status, error, generation)

    monkeypatch.setattr(store, "record_notification", flaky)
    assert await notify_earner(store, issued, settings, mailer) is True
    assert next(failures, None) is None, "both failures were met"
    assert await notify_earner(store, issued, settings, mailer) is False
    assert len(mailer.sent) == 1 and (await store.notification(issued.credential_id)).status == "sent"


async def test_a_notifier_stops_retrying_an_email_another_has_taken_over(store, settings, mailer, issued):
    """A rebalance hands the record to another notifier while this one waits between retries:
    the other writes "sending" and sends; this one sees that and sends nothing more."""
    mailer.refuse(451)

    async def the_other_notifier_takes_over() -> None:
        await store.record_notification(issued.credential_id, "<c@claim.cairn>", "sending", None, 0)
        await store.record_notification(issued.credential_id, "<c@claim.cairn>", "sent", None, 0)

    mailer.between_attempts = the_other_notifier_takes_over
    assert await notify_earner(store, issued, settings, mailer) is False
    assert mailer.sent == [] and mailer.attempts == 1, "no second attempt"
    assert (await store.notification(issued.credential_id)).status == "sent", "the other's outcome stands"


async def test_an_email_whose_sender_died_after_data_is_never_sent_again(store, settings, mailer, issued):
    """The server took the message, then the notifier was killed before recording it: the row
    says handed over; the next notifier waits out the sender's answer, then records the email
    sent, unconfirmed, without a second copy."""
    mailer.die_after_data = True
    with pytest.raises(SenderKilled):
        await notify_earner(store, issued, settings, mailer)
    assert (await store.notification(issued.credential_id)).status == "handed_over"
    mailer.die_after_data = False

    with pytest.raises(HandOverUnsettled) as unsettled:  # its sender could still be waiting
        await notify_earner(store, issued, settings, mailer)
    assert classify(unsettled.value) is Failure.TRANSIENT, "tried again, never dead-lettered"
    later = settings.model_copy(update={"smtp_timeout_seconds": 0})
    assert await notify_earner(store, issued, later, mailer) is False
    notification = await store.notification(issued.credential_id)
    assert (notification.status, notification.last_error) == ("sent", UNCONFIRMED)
    assert len(mailer.sent) == 1, "one copy: the one the server took"


async def test_a_refused_data_takes_the_hand_over_back_and_the_retry_sends(store, settings, mailer, issued):
    seen: list[str] = []
    mailer.refuse(451)
    record = store.mark_handed_over

    async def watched(credential_id, generation, attempts, handed):
        done = await record(credential_id, generation, attempts, handed)
        seen.append((await store.notification(credential_id)).status)
        return done

    store.mark_handed_over = watched
    assert await notify_earner(store, issued, settings, mailer) is True
    assert seen == ["handed_over", "sending", "handed_over"]
    assert len(mailer.sent) == 1 and (await store.notification(issued.credential_id)).status == "sent"


async def test_a_hand_over_whose_commit_was_lost_to_its_sender_still_sends_once(
    store, settings, mailer, issued
):
    """The database restarts as the mark commits: the mark landed, but the notifier was told it
    failed and sent nothing. Its own retry must send the email (no other notifier has it), not
    settle it as handed over."""
    record = store.mark_handed_over
    failures = iter([ConnectionResetError("database restarting")])

    async def lost_answer(credential_id, generation, attempts, handed):
        done = await record(credential_id, generation, attempts, handed)
        if failure := next(failures, None):
            raise failure
        return done

    store.mark_handed_over = lost_answer
    with pytest.raises(Exception) as failure:
        await notify_earner(store, issued, settings, mailer, not_taken_here := set())
    assert classify(failure.value) is Failure.TRANSIENT and mailer.sent == []
    assert (await store.notification(issued.credential_id)).status == "handed_over"
    assert await notify_earner(store, issued, settings, mailer, not_taken_here) is True
    assert len(mailer.sent) == 1 and (await store.notification(issued.credential_id)).last_error is None
    assert not_taken_here == set()


async def test_a_sender_taken_over_cannot_hand_the_email_over(store, settings, mailer, issued):
    async def the_other_notifier_takes_over() -> None:
        await store.record_notification(issued.credential_id, "<c@claim.cairn>", "sending", None, 0)

    record = store.mark_handed_over

    async def taken_over_first(credential_id, generation, attempts, handed):
        await the_other_notifier_takes_over()
        return await record(credential_id, generation, attempts, handed)

    store.mark_handed_over = taken_over_first
    with pytest.raises(HandOverFailed):
        await notify_earner(store, issued, settings, mailer)
    assert mailer.sent == []


async def test_an_unsubscribed_earner_gets_none(store, settings, mailer, issued, riverside):
    code = store.unsubscribe_code(riverside.org.id, issued.recipient_key)
    assert await store.unsubscribe(riverside.org.id, issued.recipient_key, code)
    assert await notify_earner(store, issued, settings, mailer) is False
    assert mailer.sent == [] and (await store.notification(issued.credential_id)).status == "suppressed"


def test_the_fixture_is_what_the_signer_announced(publisher, issued):
    assert publisher.of(CredentialIssued) == [issued]


async def test_the_notifier_counts_each_outcome_once_at_its_edge(store, settings, mailer, issued):
    from prometheus_client import REGISTRY

    from cairn.bootstrap import Notifier
    from schemas.envelope import CloudEvent

    def count(outcome: str) -> float:
        return REGISTRY.get_sample_value("cairn_emails_total", {"outcome": outcome}) or 0

    sent, delays = count("sent"), REGISTRY.get_sample_value("cairn_credential_to_email_seconds_count") or 0
    notifier = Notifier(settings, store, mailer)
    record = CloudEvent[CredentialIssued](
        id="e1", source="/test", type="t", subject=issued.recipient_key, orgid=issued.org_id, data=issued
    )
    await notifier.handle(record)
    await notifier.handle(record)  # redelivered: nothing changes, nothing counted
    assert count("sent") == sent + 1
    assert REGISTRY.get_sample_value("cairn_credential_to_email_seconds_count") == delays + 1


async def test_the_claim_email_shows_the_badge_as_an_inline_image(store, settings, mailer, issued, riverside):
    """Attached as a related part the HTML names by cid:, so it shows without loading remote images."""
    from io import BytesIO

    from PIL import Image

    assert await notify_earner(store, issued, settings, mailer) is True
    [message] = mailer.sent
    html = message.get_body(("html",))
    [image] = [part for part in message.walk() if part.get_content_type() == "image/png"]
    cid = image["Content-ID"].strip("<>")
    assert image.get_content_disposition() == "inline"
    assert f'src="cid:{cid}" alt="Pantry volunteer: 10 hours badge"' in html.get_content()
    assert message.get_content_type() == "multipart/alternative"
    assert Image.open(BytesIO(image.get_content())).size == (512, 512)
    assert image.get_content().startswith(b"\x89PNG"), "the drawn badge, with its glyph and the name"


async def test_an_uploaded_png_is_the_emails_image(store, settings, mailer, issued, riverside):
    from cairn.domain.badge_images import badge_png

    uploaded = badge_png("Uploaded art", "#1d4e89", glyph="star")
    await store.set_badge_image(riverside.org.id, riverside.badge_id, "image/png", uploaded)
    assert await notify_earner(store, issued, settings, mailer) is True
    [image] = [part for part in mailer.sent[0].walk() if part.get_content_type() == "image/png"]
    assert image.get_content() == uploaded
