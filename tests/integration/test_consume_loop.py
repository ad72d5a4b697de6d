"""consume.consume_forever on the real broker: a record that keeps failing goes to the DLQ after the
bounded attempts and the loop goes on; a transient failure is retried until it passes and is
never dead-lettered; a broker not there yet is waited for, not fatal."""

import asyncio
import json

import pytest

from cairn.adapters.kafka import codec, consume, publisher, topics
from cairn.adapters.kafka.topics import AWARD_QUESTIONED_TYPE
from cairn.domain.failures import RetryPolicy
from devtools.dev import free_port
from schemas.awards import AwardQuestioned
from schemas.envelope import CloudEvent
from tests.e2e.dead_letters import read_dead_letters

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
