"""What the aggregator cannot count goes to cairn.activity.v1.dlq with its cause, on the real
broker, and nothing already counted is lost or counted twice. The progress keeps only 4
activities by id here, so a redelivery from before the compacted history is refused."""

import asyncio
import json

import pytest
from aiokafka import AIOKafkaProducer

from cairn.adapters.kafka import codec, topics
from cairn.adapters.kafka.topics import ACTIVITY_TYPES
from devtools.topic_reader import dead_letters
from schemas.activity import ActivityRecordValue, VolunteerShiftLogged
from schemas.envelope import CloudEvent
from tests.conftest import system_with, ten_hours_badge
from tests.e2e.volunteering import organisation, shift, wait_for_mail, wait_for_progress, wait_until

pytestmark = pytest.mark.e2e


compacting_system = system_with("cairn-dlq", CAIRN_PROGRESS_KEEP_IDS="4")


async def _write_raw(bootstrap: str, value: bytes, key: bytes = b"not-a-recipient") -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topics.ACTIVITY, key=key, value=value)
    finally:
        await producer.stop()


def test_refused_records_reach_the_dlq_with_their_cause(compacting_system, kafka):
    system = compacting_system
    client = organisation(system, "Compact Food Bank", "compact")
    assert client.post("/v1/badge-classes", json=ten_hours_badge()).status_code == 201
    shifts = [shift(f"c{day}", day, 1, email="ria@example.org") for day in range(1, 13)]
    assert client.post("/v1/events", json={"events": shifts}).status_code == 202
    asyncio.run(_write_raw(kafka, b"{not json"))
    # the first shift again, as a rota tool re-sending its whole export would
    assert client.post("/v1/events", json=shifts[0]).status_code == 202

    letters = wait_until(
        lambda: dead_letters(kafka, topics.ACTIVITY), lambda found: len(found) >= 2, "two DLQ records", 60, 1
    )
    causes = sorted(letter["error"] for letter in letters)
    assert len(letters) == 2, causes
    # a shift counts at its end: 09:00 + 1 hour
    assert causes[0].startswith("BeforeCompactedHistory: activity at 2026-11-01T10:00:00+00:00 is earlier")
    assert causes[1].startswith("ValidationError"), causes[1]
    refused = next(letter for letter in letters if letter["error"].startswith("Before"))
    assert json.loads(refused["value"])["id"] == "c1" and "ria@example.org" not in refused["value"]

    badges = wait_for_progress(client, "ria@example.org", lambda b: b and b[0]["awarded"])
    assert badges[0]["figures"][0]["achieved"] == 12, "the refused redelivery was not counted"
    mails = wait_for_mail(system.mail_dir, 1)
    assert len(mails) == 1 and "<ria@example.org>" in mails[0]["To"]


def test_an_event_the_aggregator_keeps_failing_on_goes_to_the_dlq_after_bounded_attempts(
    compacting_system, kafka
):
    """A shift dated in year 1 (the API will refuse it; a record on the topic can still carry it)
    against a rolling window makes settling overflow the calendar. Before, the aggregator's agent
    crashed on it again and again; now it is tried three times and dead-lettered."""
    system = compacting_system
    client = organisation(system, "Window Food Bank", "window")
    badge = ten_hours_badge(criteria={"kind": "total_hours", "at_least": 10, "within_days": 30})
    assert client.post("/v1/badge-classes", json=badge).status_code == 201
    org_id = client.get("/v1/org").json()["id"]
    recipient = "b" * 64
    poison = CloudEvent[ActivityRecordValue](
        id="year-one",
        source="/test",
        type=ACTIVITY_TYPES["volunteer_shift"],
        subject=recipient,
        orgid=org_id,
        data=ActivityRecordValue(
            VolunteerShiftLogged(recipient_key=recipient, started_at="0001-01-01T00:00:00Z", hours=1)
        ),
    )
    asyncio.run(_write_raw(kafka, codec.encode(poison), key=f"{org_id}:{recipient}".encode()))

    letters = wait_until(
        lambda: dead_letters(kafka, topics.ACTIVITY),
        lambda found: any('"year-one"' in letter["value"] for letter in found),
        "the year-one shift in the DLQ",
        60,
        1,
    )
    letter = next(letter for letter in letters if '"year-one"' in letter["value"])
    assert letter["error"].startswith("OverflowError") and letter["attempts"] == 3, letter

    events = [shift(f"w{day}", day, 5, email="wen@example.org") for day in (20, 21)]
    assert client.post("/v1/events", json={"events": events}).status_code == 202
    wait_for_progress(client, "wen@example.org", lambda b: b and b[0]["awarded"])
    assert "aggregator exited" not in (system.var_dir / "dev.log").read_text()
