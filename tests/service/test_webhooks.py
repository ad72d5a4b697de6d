"""Outbound webhooks on the fakes: the Standard Webhooks signature, what a payload carries (ids
and badge data; an email only when the organisation asks), the retry schedule (500, then no
answer, then 200: three attempts at the scheduled delays, one accepted), idempotent fan-out and
redelivered attempts, replays, and which endpoint URLs may be registered."""

from datetime import timedelta

import pytest

from cairn.domain import webhooks as wh
from cairn.ports import Answer, Store
from cairn.usecases.webhooks import attempt_delivery, body_of, fan_out, register_endpoint, replay
from schemas.awards import AwardQuestioned, CredentialIssued, Evidence
from schemas.webhooks import CredentialChanged, WebhookAttemptDue, WebhookEndpointIn
from tests.service.conftest import Riverside
from tests.service.fakes import FakeClock, FakePublisher
from tests.service.flow import PUBLIC_URL

HOOK = "https://hooks.example.org/cairn"
POLICY = wh.UrlPolicy()


class ScriptedEndpoint:
    """Answers each POST with the next answer of its script, and keeps what it was sent."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.received: list[tuple[str, bytes, dict[str, str]]] = []

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> Answer:
        self.received.append((url, body, headers))
        return self.answers.pop(0)


async def _endpoint(store: Store, riverside: Riverside, **extra: object) -> tuple[str, str]:
    body = WebhookEndpointIn(url=HOOK, events=["credential.issued", "award.questioned"], **extra)
    endpoint, secret = await register_endpoint(store, POLICY, riverside.org.id, body)
    return endpoint.id, secret


def test_signature_matches_the_standard_webhooks_example():
    # the example in the Standard Webhooks specification's test vectors
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    assert (
        wh.signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
        == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )
    headers = wh.signed_headers(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
    assert wh.verify_signature(secret, headers, body)
    assert not wh.verify_signature(secret, headers, body + b" ")


async def test_issued_credential_payload_has_ids_and_badge_not_email(
    store: Store, publisher: FakePublisher, clock: FakeClock, riverside: Riverside, issued: CredentialIssued
):
    endpoint_id, _ = await _endpoint(store, riverside)
    [delivery] = await fan_out(store, publisher, issued, PUBLIC_URL, clock)
    assert delivery.endpoint_id == endpoint_id and delivery.event_type == "credential.issued"
    data = delivery.payload["data"]
    assert data["credential_id"] == issued.credential_id and data["award_id"] == issued.award_id
    assert data["badge"]["name"] == "Pantry volunteer: 10 hours" and data["badge"]["id"] == "ten-hours"
    assert data["recipient_key"] == issued.recipient_key and data["status"] == "active"
    assert "email" not in data and "sam@example.org" not in body_of(delivery).decode()
    [due] = publisher.of(WebhookAttemptDue)
    assert (due.delivery_id, due.attempt, due.due_at) == (delivery.id, 1, clock.now())
    # a redelivered event (its first attempt not made yet: maybe never queued) makes no second
    # delivery; the first attempt queued twice is sent once
    await fan_out(store, publisher, issued, PUBLIC_URL, clock)
    assert len(await store.webhook_deliveries(riverside.org.id)) == 1
    endpoint = ScriptedEndpoint(Answer(200, "ok", 1))
    first, again = publisher.of(WebhookAttemptDue)
    assert first == again
    assert await attempt_delivery(store, publisher, endpoint, first, clock) is not None
    assert await attempt_delivery(store, publisher, endpoint, again, clock) is None
    assert len(endpoint.received) == 1
    assert await fan_out(store, publisher, issued, PUBLIC_URL, clock) == []  # attempted: not again


async def test_email_only_for_an_endpoint_that_asked_and_only_subscribed_events(
    store: Store, publisher: FakePublisher, clock: FakeClock, riverside: Riverside, issued: CredentialIssued
):
    await _endpoint(store, riverside, include_email=True)
    await register_endpoint(
        store, POLICY, riverside.org.id, WebhookEndpointIn(url=HOOK, events=["credential.revoked"])
    )
    [delivery] = await fan_out(store, publisher, issued, PUBLIC_URL, clock)
    assert delivery.payload["data"]["email"] == "sam@example.org"
    claimed = CredentialChanged(
        credential_id=issued.credential_id, org_id=issued.org_id, change="claimed", at=clock.now()
    )
    assert await fan_out(store, publisher, claimed, PUBLIC_URL, clock) == []  # nobody asked for it
    question = AwardQuestioned(
        award_id=issued.award_id,
        org_id=issued.org_id,
        badge_class_id="ten-hours",
        recipient_key=issued.recipient_key,
        reason="a shift was voided",
        evidence=[Evidence(measure="hours", achieved=5, required=10)],
    )
    [asked] = await fan_out(store, publisher, question, PUBLIC_URL, clock)
    assert asked.event_type == "award.questioned" and asked.payload["data"]["reason"] == "a shift was voided"


async def test_fails_then_times_out_then_succeeds_on_the_schedule(
    store: Store, publisher: FakePublisher, clock: FakeClock, riverside: Riverside, issued: CredentialIssued
):
    _, secret = await _endpoint(store, riverside)
    [delivery] = await fan_out(store, publisher, issued, PUBLIC_URL, clock)
    endpoint = ScriptedEndpoint(
        Answer(500, "database down", 12), Answer(None, "no answer within 10 s", 10000), Answer(204, "", 8)
    )
    started = clock.now()
    for expected_attempt in (1, 2, 3):
        due = publisher.of(WebhookAttemptDue)[-1]
        assert due.attempt == expected_attempt
        clock.current = due.due_at
        done = await attempt_delivery(store, publisher, endpoint, due, clock)
        assert done is not None and done.attempt == expected_attempt
    dues = publisher.of(WebhookAttemptDue)
    assert [d.attempt for d in dues] == [1, 2, 3]
    assert dues[1].due_at - started == timedelta(seconds=wh.RETRY_DELAYS[0])
    assert dues[2].due_at - dues[1].due_at == timedelta(seconds=wh.RETRY_DELAYS[1])
    final = await store.webhook_delivery(delivery.id)
    assert final is not None and (final.status, final.attempts, final.next_attempt_at) == (
        "delivered",
        3,
        None,
    )
    assert [(a.attempt, a.status_code, a.answer) for a in final.log] == [
        (1, 500, "database down"),
        (2, None, "no answer within 10 s"),
        (3, 204, ""),
    ]
    # every attempt was the same message, signed with the endpoint's secret
    assert {h["webhook-id"] for _, _, h in endpoint.received} == {delivery.message_id}
    assert all(wh.verify_signature(secret, h, body) for _, body, h in endpoint.received)
    # the attempt record redelivered after success sends nothing
    assert await attempt_delivery(store, publisher, endpoint, dues[2], clock) is None
    assert len(endpoint.received) == 3


async def test_gives_up_after_about_a_day(
    store: Store, publisher: FakePublisher, clock: FakeClock, riverside: Riverside, issued: CredentialIssued
):
    await _endpoint(store, riverside)
    [delivery] = await fan_out(store, publisher, issued, PUBLIC_URL, clock)
    attempts = len(wh.RETRY_DELAYS) + 1
    endpoint = ScriptedEndpoint(*[Answer(503, "busy", 5)] * attempts)
    started = clock.now()
    for _ in range(attempts):
        due = publisher.of(WebhookAttemptDue)[-1]
        clock.current = due.due_at
        await attempt_delivery(store, publisher, endpoint, due, clock)
    final = await store.webhook_delivery(delivery.id)
    assert final is not None and (final.status, final.attempts) == ("failed", attempts)
    assert len(publisher.of(WebhookAttemptDue)) == attempts  # nothing queued after the last
    assert timedelta(hours=23) < clock.now() - started < timedelta(hours=25)


async def test_replay_sends_the_same_message_again_as_a_new_delivery(
    store: Store, publisher: FakePublisher, clock: FakeClock, riverside: Riverside, issued: CredentialIssued
):
    await _endpoint(store, riverside)
    [delivery] = await fan_out(store, publisher, issued, PUBLIC_URL, clock)
    await attempt_delivery(
        store, publisher, ScriptedEndpoint(Answer(200, "ok", 3)), publisher.of(WebhookAttemptDue)[0], clock
    )
    again = await replay(store, publisher, riverside.org.id, delivery.id, clock)
    twice = await replay(store, publisher, riverside.org.id, delivery.id, clock)
    assert (again.replay_of, again.message_id, again.payload) == (
        delivery.id,
        delivery.message_id,
        delivery.payload,
    )
    assert len({delivery.id, again.id, twice.id}) == 3
    assert [d.delivery_id for d in publisher.of(WebhookAttemptDue)[-2:]] == [again.id, twice.id]
    with pytest.raises(LookupError):
        await replay(store, publisher, "another-org", delivery.id, clock)


async def test_removed_endpoint_gets_nothing_more(
    store: Store, publisher: FakePublisher, clock: FakeClock, riverside: Riverside, issued: CredentialIssued
):
    endpoint_id, _ = await _endpoint(store, riverside)
    [delivery] = await fan_out(store, publisher, issued, PUBLIC_URL, clock)
    assert await store.disable_webhook_endpoint(riverside.org.id, endpoint_id)
    endpoint = ScriptedEndpoint()
    await attempt_delivery(store, publisher, endpoint, publisher.of(WebhookAttemptDue)[0], clock)
    final = await store.webhook_delivery(delivery.id)
    assert endpoint.received == [] and final is not None and final.status == "failed"


@pytest.mark.parametrize(
    ("url", "policy", "allowed"),
    [
        ("https://hooks.example.org/x", wh.UrlPolicy(), True),
        ("http://hooks.example.org/x", wh.UrlPolicy(), False),
        ("http://127.0.0.1:8080/x", wh.UrlPolicy(), False),
        ("http://127.0.0.1:8080/x", wh.UrlPolicy(allow_loopback=True), True),
        ("http://10.0.0.5/x", wh.UrlPolicy(allow_loopback=True), False),
        ("https://10.0.0.5/x", wh.UrlPolicy(), False),
        ("https://10.0.0.5/x", wh.UrlPolicy(allow_private=True), True),
        ("https://169.254.169.254/latest", wh.UrlPolicy(), False),
        ("https://[::1]/x", wh.UrlPolicy(), False),
        ("https://[::ffff:127.0.0.1]/x", wh.UrlPolicy(), False),
        ("https://user:pw@hooks.example.org/x", wh.UrlPolicy(), False),
        ("ftp://hooks.example.org/x", wh.UrlPolicy(), False),
        ("https://[::1/x", wh.UrlPolicy(), False),
        ("https://hooks.example.org:99999/x", wh.UrlPolicy(), False),
        ("https://hooks.example.org/a b", wh.UrlPolicy(), False),
        ("https://hooks.example.org/\x00", wh.UrlPolicy(), False),
        ("https://0.0.0.0/x", wh.UrlPolicy(allow_private=True), False),
    ],
)
def test_which_urls_may_be_endpoints(url: str, policy: wh.UrlPolicy, allowed: bool):
    if allowed:
        policy.check_url(url)
    else:
        with pytest.raises(wh.EndpointRefused):
            policy.check_url(url)


async def test_revocation_and_first_claim_are_announced_and_reach_subscribers(
    store: Store, publisher: FakePublisher, clock: FakeClock, riverside: Riverside, issued: CredentialIssued
):
    from cairn.usecases.status_changes import announce_claimed, change_status

    await register_endpoint(
        store,
        POLICY,
        riverside.org.id,
        WebhookEndpointIn(url=HOOK, events=["credential.claimed", "credential.revoked"]),
    )
    token = store.claim_token_for(issued.credential_id)
    await store.ensure_claim_token(issued.credential_id, token, timedelta(days=1))
    first, second = await store.claim(token), await store.claim(token)
    assert (first.first, second.first) == (True, False)  # only the first opening is a claim
    assert first.credential is not None
    await announce_claimed(publisher, first.credential, clock)
    await change_status(
        store, riverside.org, issued.credential_id, "revoke", "left", PUBLIC_URL, clock, publisher=publisher
    )
    changes = publisher.of(CredentialChanged)
    assert [c.change for c in changes] == ["claimed", "revoked"]
    delivered = [d for change in changes for d in await fan_out(store, publisher, change, PUBLIC_URL, clock)]
    assert [d.event_type for d in delivered] == ["credential.claimed", "credential.revoked"]
    assert delivered[1].payload["data"]["status"] == "revoked"
    assert delivered[0].message_id != delivered[1].message_id
