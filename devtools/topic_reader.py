"""Reading what is on the bus (a topic's dead-letter queue, or every record of every topic) and
writing records straight onto it, as the end-to-end tests of poison records and the chaos run do."""

import asyncio
import json
import time

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import ConsumerRecord

from cairn.adapters.kafka import topics


async def read_dead_letters(bootstrap: str, topic: str, timeout: float = 30) -> list[dict]:
    """Every letter in `topic`'s DLQ so far, as written: read up to the end offsets the broker
    gives at the start, so an empty DLQ answers at once instead of after a fetch timeout."""
    consumer = AIOKafkaConsumer(
        topics.dlq(topic), bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    try:
        deadline = time.monotonic() + timeout
        while not (partitions := consumer.assignment()):  # without a group: all, once metadata is in
            if time.monotonic() > deadline:
                raise TimeoutError(f"no partitions of {topics.dlq(topic)} within {timeout}s")
            await asyncio.sleep(0.02)
        ends = await consumer.end_offsets(list(partitions))
        letters: list[dict] = []
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{topics.dlq(topic)} not read up to {ends} within {timeout}s")
            batches = await consumer.getmany(timeout_ms=500)
            letters += [json.loads(r.value) for records in batches.values() for r in records]
        return letters
    finally:
        await consumer.stop()


def dead_letters(bootstrap: str, topic: str) -> list[dict]:
    """One letter per poison record in `topic`'s DLQ so far. The DLQ is at-least-once too: a
    service restarted before committing writes a record's letter again; each letter names the
    record's position, so one per position is the count."""
    letters = asyncio.run(read_dead_letters(bootstrap, topic))
    return list({(letter["partition"], letter["offset"]): letter for letter in letters}.values())


async def _write(bootstrap: str, topic: str, key: bytes, value: bytes) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, key=key, value=value)
    finally:
        await producer.stop()


def write_raw(bootstrap: str, topic: str, key: bytes, value: bytes) -> None:
    asyncio.run(_write(bootstrap, topic, key, value))


async def read_every_record(
    bootstrap: str, timeout: float = 300
) -> dict[str, list[ConsumerRecord[bytes, bytes]]]:
    """Every record of every topic but Kafka's own, up to the end offsets at the start, by topic."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        names = [name for name in await admin.list_topics() if not name.startswith("__")]
        described = await admin.describe_topics(names)
    finally:
        await admin.close()
    partitions = [TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        found: dict[str, list[ConsumerRecord[bytes, bytes]]] = {name: [] for name in names}
        deadline = time.monotonic() + timeout
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            if time.monotonic() > deadline:
                raise TimeoutError(f"topics not read to their ends within {timeout}s")
            batches = await consumer.getmany(timeout_ms=500, max_records=5000)
            for tp, records in batches.items():
                found[tp.topic] += [r for r in records if r.offset < ends[tp]]
        return found
    finally:
        await consumer.stop()
