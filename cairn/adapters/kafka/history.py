"""Reads what a topic holds now, start to end, without joining a consumer group: for `cairn
trace`, which looks for one person's records (activity, awards, dead letters) by their key."""

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from cairn.adapters.kafka.connection import Brokers, client_options


@dataclass(frozen=True)
class Held:
    """One record as the topic holds it."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: str
    value: dict[str, Any] | str  # JSON when it parses, else the text


async def read_topics(
    bootstrap: Brokers, names: list[str], wanted: Callable[[Held], bool], patience: float = 10
) -> list[Held]:
    """Every record of `names` (topics that do not exist are skipped) that `wanted` keeps, read
    from the beginning up to each partition's end at the time of the call, or for as long as
    records keep coming within `patience` seconds (what was compacted or deleted never comes)."""
    partitions = await _partitions(bootstrap, names)
    if not partitions:
        return []
    consumer = AIOKafkaConsumer(**client_options(bootstrap), group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        left = {tp for tp in partitions if ends[tp] > 0}
        kept: list[Held] = []
        while left:
            batches = await consumer.getmany(*left, timeout_ms=int(patience * 1000))
            if not batches:
                break
            for tp, records in batches.items():
                for r in records:
                    held = Held(r.topic, r.partition, r.offset, r.timestamp, _text(r.key), _parsed(r.value))
                    if wanted(held):
                        kept.append(held)
                if records and records[-1].offset + 1 >= ends[tp]:
                    left.discard(tp)
        return kept
    finally:
        await consumer.stop()


async def _partitions(bootstrap: Brokers, names: list[str]) -> list[TopicPartition]:
    """The partitions of those of `names` that exist (a consumer outside a group has no
    metadata for topics it is not subscribed to; the admin client does)."""
    admin = AIOKafkaAdminClient(**client_options(bootstrap))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [name for name in names if name in existing]
        described = await admin.describe_topics(wanted) if wanted else []
    finally:
        await admin.close()
    return [
        TopicPartition(topic["topic"], p["partition"])
        for topic in described
        for p in sorted(topic["partitions"], key=lambda p: p["partition"])
    ]


def _text(raw: bytes | None) -> str:
    return (raw or b"").decode("utf-8", errors="replace")


def _parsed(raw: bytes | None) -> dict[str, Any] | str:
    text = _text(raw)
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, dict) else text
