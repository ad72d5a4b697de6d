"""consume.consume_forever on the real broker: a record that keeps failing goes to the DLQ after the
bounded attempts and the loop goes on; a transient failure is retried until it passes and is
never dead-lettered; a broker not there yet is waited for, not fatal."""

import asyncio
import json

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from cairn.adapters.kafka import codec, consume, publisher, topics
from cairn.adapters.kafka.topics import AWARD_QUESTIONED_TYPE
from cairn.domain.failures import RetryPolicy
from devtools.dev import free_port
from devtools.topic_reader import read_dead_letters
from schemas.awards import AwardQuestioned
from schemas.envelope import CloudEvent

pytestmark = pytest.mark.integration

TOPIC = topics.AWARD_QUESTIONS


def _record(award_id: str) -> bytes:
    question = AwardQuestioned(
        award_id=award_id, org_id="o", badge_class_id="b", recipient_key="a" * 64, reason="r", evidence=[]
    )
    event = CloudEvent[AwardQuestioned](
        id=award_id, source="/test", type=AWARD_QUESTIONED_TYPE, orgid="o", data=question
    )
    return codec.encode(event)


async def test_poison_is_dead_lettered_after_bounded_attempts_and_outages_are_waited_out(kafka):
    await topics.ensure_topics(kafka, partitions=1)
    producer = publisher.producer(kafka)
    await producer.start()
    for award_id in ("poison", "outage", "fine"):
        await producer.send_and_wait(TOPIC, key=award_id.encode(), value=_record(award_id))
    await producer.stop()

    tries: dict[str, int] = {}
    handled: list[str] = []
    stopping = asyncio.Event()

    async def handle(event: CloudEvent[AwardQuestioned]) -> None:
        award_id = event.data.award_id
        tries[award_id] = tries.get(award_id, 0) + 1
        if award_id == "poison":
            raise KeyError("achievement")  # the same every time
        if award_id == "outage" and tries[award_id] <= 6:
            raise ConnectionRefusedError(111, "database down")  # more than max_attempts, but transient
        handled.append(award_id)
        if award_id == "fine":
            stopping.set()

    policy = RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.2)
    await asyncio.wait_for(
        consume.consume_forever(kafka, "test-loop", TOPIC, AwardQuestioned, handle, stopping, policy), 120
    )

    assert handled == ["outage", "fine"]
    assert tries == {"poison": 3, "outage": 7, "fine": 1}
    [letter] = await read_dead_letters(kafka, TOPIC)
    assert letter["error"] == "KeyError: 'achievement'" and letter["attempts"] == 3
    assert json.loads(letter["value"])["id"] == "poison" and letter["topic"] == TOPIC


async def test_a_broker_that_is_not_there_is_waited_for_until_stopped():
    stopping = asyncio.Event()

    async def never(event: CloudEvent[AwardQuestioned]) -> None:
        raise AssertionError("nothing to consume")

    loop = asyncio.create_task(
        consume.consume_forever(f"127.0.0.1:{free_port()}", "g", TOPIC, AwardQuestioned, never, stopping)
    )
    await asyncio.sleep(3)
    assert not loop.done(), "a missing broker must not end the loop"
    stopping.set()
    await asyncio.wait_for(loop, 60)


# Batches in lanes (the signer's and notifier's loop): a topic of their own, AwardQuestioned
# records standing in for any record type.
LANES_TOPIC = topics.CLAIM_EMAIL_RESENDS


async def _produce(kafka: str, keyed: list[tuple[str, str]]) -> None:
    await topics.ensure_topics(kafka, partitions=1)
    producer = publisher.producer(kafka)
    await producer.start()
    for key, award_id in keyed:
        await producer.send_and_wait(LANES_TOPIC, key=key.encode(), value=_record(award_id))
    await producer.stop()


async def _committed(kafka: str, group: str) -> tuple[int | None, int]:
    """The group's committed offset and the partition's end."""
    reader = AIOKafkaConsumer(bootstrap_servers=kafka, group_id=group, enable_auto_commit=False)
    await reader.start()
    try:
        tp = TopicPartition(LANES_TOPIC, 0)
        return await reader.committed(tp), (await reader.end_offsets([tp]))[tp]
    finally:
        await reader.stop()


async def test_a_batch_is_handled_in_lanes_by_key_and_committed_once_with_poison_dead_lettered(kafka):
    keyed = [(f"k{n % 4}", f"k{n % 4}-{n // 4}") for n in range(12)]
    keyed.insert(5, ("k1", "poison"))
    await _produce(kafka, keyed)
    seen: dict[str, list[str]] = {}
    in_flight, most = 0, 0
    stopping = asyncio.Event()

    async def handle(event: CloudEvent[AwardQuestioned]) -> None:
        nonlocal in_flight, most
        award_id = event.data.award_id
        if award_id == "poison":
            raise KeyError("achievement")
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.05)
        in_flight -= 1
        seen.setdefault(award_id.split("-")[0], []).append(award_id)
        if sum(map(len, seen.values())) == 12:
            stopping.set()

    policy = RetryPolicy(max_attempts=2, base_delay=0.05, max_delay=0.2)
    loop = consume.consume_forever(
        kafka, "test-lanes", LANES_TOPIC, AwardQuestioned, handle, stopping, policy, concurrency=8
    )
    await asyncio.wait_for(loop, 120)

    assert seen == {f"k{k}": [f"k{k}-{n}" for n in range(3)] for k in range(4)}  # each key in order
    assert most > 1, "records of different keys were not handled side by side"
    [letter] = await read_dead_letters(kafka, LANES_TOPIC)
    assert json.loads(letter["value"])["id"] == "poison" and letter["attempts"] == 2
    committed, end = await _committed(kafka, "test-lanes")
    assert committed == end


async def test_a_batch_stopped_midway_commits_nothing_and_is_read_again(kafka):
    # the records of the test above may be on the topic too: a new group reads them all and these
    await _produce(kafka, [("a", "a-0"), ("b", "b-0"), ("c", "c-0")])
    handled: list[str] = []
    stopping = asyncio.Event()

    async def crash_on_b(event: CloudEvent[AwardQuestioned]) -> None:
        if event.data.award_id == "b-0":
            await asyncio.sleep(0.3)  # the other lanes finish first
            stopping.set()  # as a service being stopped: the record is left to be read again
            raise ConnectionRefusedError(111, "database down")
        handled.append(event.data.award_id)

    policy = RetryPolicy(max_attempts=2, base_delay=0.05, max_delay=0.2)
    run = consume.consume_forever(
        kafka, "test-lanes-stop", LANES_TOPIC, AwardQuestioned, crash_on_b, stopping, policy, concurrency=8
    )
    await asyncio.wait_for(run, 120)
    assert "a-0" in handled and "c-0" in handled
    committed, _ = await _committed(kafka, "test-lanes-stop")
    assert committed in (None, 0), "a batch half done was committed"

    again: list[str] = []
    stopping = asyncio.Event()

    async def handle(event: CloudEvent[AwardQuestioned]) -> None:
        again.append(event.data.award_id)
        if {"a-0", "b-0", "c-0"} <= set(again):
            stopping.set()

    run = consume.consume_forever(
        kafka, "test-lanes-stop", LANES_TOPIC, AwardQuestioned, handle, stopping, policy, concurrency=8
    )
    await asyncio.wait_for(run, 120)
    assert {"a-0", "b-0", "c-0"} <= set(again)
    committed, end = await _committed(kafka, "test-lanes-stop")
    assert committed == end
