"""The topic table: every record type has one way onto Kafka (topic, key, CloudEvent type), the
envelope reads back as the record, and every topic a record goes to is made by `cairn setup`."""

import asyncio
from datetime import UTC, datetime

import pytest
from pydantic import BaseModel

from cairn.adapters.kafka import codec, topics
from cairn.adapters.kafka.publisher import KafkaPublisher
from schemas.activity import ActivityRecordValue, ActivityVoided, OrgActivity
from schemas.awards import (
    AwardGranted,
    AwardQuestioned,
    ClaimEmailResendRequested,
    CredentialIssued,
    Evidence,
    ProgressUpdated,
)
from schemas.badge_class import BadgeClass, TotalHours
from schemas.webhooks import CredentialChanged, WebhookAttemptDue

KEY = "b" * 64
NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)
EVIDENCE = [Evidence(measure="hours", achieved=10, required=10)]

RECORDS: list[tuple[BaseModel, str, str, type[BaseModel]]] = [
    (
        OrgActivity(
            event_id="e1",
            org_id="org-1",
            activity=ActivityRecordValue(ActivityVoided(recipient_key=KEY, voids="e0", reason="typo")),
        ),
        topics.ACTIVITY,
        f"org-1:{KEY}",
        ActivityRecordValue,
    ),
    (
        BadgeClass(
            id="pantry-10",
            org_id="org-1",
            version=2,
            name="Pantry",
            description="Ten hours.",
            criteria_narrative="Log 10 hours.",
            criteria=TotalHours(at_least=10),
        ),
        topics.BADGE_CLASSES,
        "org-1:pantry-10",
        BadgeClass,
    ),
    (
        AwardGranted(
            award_id="a1",
            org_id="org-1",
            badge_class_id="pantry-10",
            badge_class_version=2,
            recipient_key=KEY,
            occurrence=1,
            earned_at=NOW,
            evidence=EVIDENCE,
        ),
        topics.AWARDS,
        "a1",
        AwardGranted,
    ),
    (
        AwardQuestioned(
            award_id="a1",
            org_id="org-1",
            badge_class_id="pantry-10",
            recipient_key=KEY,
            reason="voided",
            evidence=EVIDENCE,
        ),
        topics.AWARD_QUESTIONS,
        "a1",
        AwardQuestioned,
    ),
    (
        ProgressUpdated(org_id="org-1", recipient_key=KEY, as_of=NOW, badges=[]),
        topics.PROGRESS,
        f"org-1:{KEY}",
        ProgressUpdated,
    ),
    (
        CredentialIssued(
            credential_id="urn:uuid:c1",
            award_id="a1",
            org_id="org-1",
            badge_class_id="pantry-10",
            recipient_key=KEY,
            issued_at=NOW,
        ),
        topics.CREDENTIALS,
        "urn:uuid:c1",
        CredentialIssued,
    ),
    (
        ClaimEmailResendRequested(
            credential_id="urn:uuid:c1", org_id="org-1", recipient_key=KEY, claim_generation=2
        ),
        topics.CLAIM_EMAIL_RESENDS,
        "urn:uuid:c1",
        ClaimEmailResendRequested,
    ),
    (
        CredentialChanged(credential_id="urn:uuid:c1", org_id="org-1", change="claimed", at=NOW),
        topics.CREDENTIAL_CHANGES,
        "urn:uuid:c1",
        CredentialChanged,
    ),
    (
        WebhookAttemptDue(delivery_id="d1", org_id="org-1", endpoint_id="e1", attempt=1, due_at=NOW),
        topics.WEBHOOK_DELIVERIES,
        "e1",
        WebhookAttemptDue,
    ),
    (
        WebhookAttemptDue(delivery_id="d1", org_id="org-1", endpoint_id="e1", attempt=3, due_at=NOW),
        "cairn.webhook-retries-2.v1",
        "e1",
        WebhookAttemptDue,
    ),
]


@pytest.mark.parametrize(("record", "topic", "key", "data_type"), RECORDS, ids=lambda v: type(v).__name__)
def test_each_record_goes_to_its_topic_and_reads_back(record, topic, key, data_type):
    out = codec.message(record)
    assert (out.topic, out.key) == (topic, key.encode())
    event = codec.decode(out.value, data_type)
    assert event.orgid == "org-1" and event.type.startswith("org.cairn.")
    assert event.data == topics.route_of(record).data(record)


def test_every_record_type_is_in_the_table_and_its_topic_is_made_by_setup():
    assert {type(record) for record, *_ in RECORDS} == set(topics.ROUTES)
    made = {spec.name for spec in topics.TOPICS}
    assert {route.topic for route in topics.ROUTES.values()} <= made
    assert {topics.webhook_topic(n) for n in range(1, 20)} <= made  # every retry tier
    assert {topics.dlq(name) for name in topics.CONSUMED} <= made


def test_envelope_ids_are_the_idempotency_keys_consumers_rely_on():
    """Ids do not change with time: a record published again is the same event."""
    ids = [codec.envelope(record).id for record, *_ in RECORDS]
    assert ids[0] == "e1" and ids[2] == "a1" and ids[3] == "questioned:a1" and ids[5] == "urn:uuid:c1"
    assert ids[6] == "urn:uuid:c1#resend-2"
    assert codec.envelope(RECORDS[2][0]).time == NOW, "an award's event time is when it was earned"


def test_a_record_type_outside_the_table_is_refused():
    class Stray(BaseModel):
        x: int = 1

    with pytest.raises(TypeError, match="not in the topic table"):
        codec.message(Stray())


class FakeProducer:
    """Stands in for AIOKafkaProducer: records the sends, acknowledges each on request."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, bytes]] = []

    async def send(self, topic: str, key: bytes, value: bytes) -> "asyncio.Future[None]":
        self.sent.append((topic, key, value))
        ack: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        ack.set_result(None)
        return ack

    async def send_and_wait(self, topic: str, key: bytes, value: bytes) -> None:
        await (await self.send(topic, key, value))


def test_publisher_sends_each_record_where_the_table_says():
    fake = FakeProducer()
    publisher = KafkaPublisher(fake)  # type: ignore[arg-type]

    async def run() -> None:
        await publisher.publish(RECORDS[6][0])
        await publisher.publish_all([record for record, *_ in RECORDS[:2]])

    asyncio.run(run())
    assert [(topic, key) for topic, key, _ in fake.sent] == [
        (topics.CLAIM_EMAIL_RESENDS, b"urn:uuid:c1"),
        (topics.ACTIVITY, f"org-1:{KEY}".encode()),
        (topics.BADGE_CLASSES, b"org-1:pantry-10"),
    ]
