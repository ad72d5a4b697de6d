"""The Kafka adapter: topic names, the CloudEvents codec, producers, consumers and the DLQ."""

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from pydantic import BaseModel, ValidationError

from schemas.envelope import CloudEvent, DataT

log = logging.getLogger(__name__)

ACTIVITY = "cairn.activity.v1"
BADGE_CLASSES = "cairn.badge-classes.v1"
AWARDS = "cairn.awards.v1"
AWARD_QUESTIONS = "cairn.award-questions.v1"
PROGRESS = "cairn.progress.v1"
CREDENTIALS = "cairn.credentials.v1"
NOTIFICATIONS = "cairn.notifications.v1"
REEVALUATE = "cairn.aggregator.reevaluate.v1"  # the aggregator's own: "re-check this recipient"
# Faust's changelog of the aggregator's progress table ("<app id>-<table>-changelog"). Made by
# `cairn setup` like the rest: left to the worker, a busy broker can answer its first metadata
# request with no partitions, and Faust then crashes the agent (PartitionsMismatch).
PROGRESS_CHANGELOG = "cairn-aggregator-progress-changelog"


class PoisonRecord(Exception):
    """A record that can never be processed; it goes to the DLQ instead of blocking the topic."""


def dlq(topic: str) -> str:
    return f"{topic}.dlq"


@dataclass(frozen=True)
class TopicSpec:
    name: str
    compacted: bool = False
    partitioned: bool = True


TOPICS = [
    TopicSpec(ACTIVITY),
    TopicSpec(BADGE_CLASSES, compacted=True),
    TopicSpec(AWARDS),
    TopicSpec(AWARD_QUESTIONS),
    TopicSpec(PROGRESS, compacted=True),
    TopicSpec(CREDENTIALS),
    TopicSpec(NOTIFICATIONS),
    TopicSpec(REEVALUATE),
    TopicSpec(PROGRESS_CHANGELOG, compacted=True),
    *(TopicSpec(dlq(name), partitioned=False) for name in (ACTIVITY, AWARDS, CREDENTIALS)),
]


def encode(event: CloudEvent[BaseModel]) -> bytes:
    return event.model_dump_json(exclude_none=True).encode()


def decode(raw: bytes | None, data_type: type[DataT]) -> CloudEvent[DataT]:
    """Parses a record value; raises ValidationError or PoisonRecord on a record that cannot be read."""
    if raw is None:
        raise PoisonRecord("record has no value")
    return CloudEvent[data_type].model_validate_json(raw)  # type: ignore[valid-type]


async def ensure_topics(bootstrap: str, partitions: int, specs: Iterable[TopicSpec] = TOPICS) -> None:
    """Creates missing topics; a second run finds them there and changes nothing."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(
                name=spec.name,
                num_partitions=partitions if spec.partitioned else 1,
                replication_factor=1,
                topic_configs={"cleanup.policy": "compact"} if spec.compacted else {},
            )
            for spec in specs
            if spec.name not in existing
        ]
        if wanted:
            try:
                await admin.create_topics(wanted)
            except TopicAlreadyExistsError:
                pass
    finally:
        await admin.close()


def producer(bootstrap: str) -> AIOKafkaProducer:
    """acks=all and idempotence: a record acknowledged is on the log exactly once."""
    return AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)


def consumer(bootstrap: str, group: str, *topics: str) -> AIOKafkaConsumer:
    """Offsets are committed by the caller after the work is done: at-least-once."""
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )


def dead_letter(topic: str, partition: int, offset: int, value: bytes | None, error: Exception) -> bytes:
    """The DLQ record: the poison value with where it came from and why it was refused."""
    return json.dumps(
        {
            "topic": topic,
            "partition": partition,
            "offset": offset,
            "error": f"{type(error).__name__}: {error}"[:2000],
            "value": (value or b"").decode("utf-8", errors="replace"),
        }
    ).encode()


async def send_to_dlq(kafka: AIOKafkaProducer, record: ConsumerRecord, error: Exception) -> None:
    """Keeps the poison record with its cause so nothing is dropped silently."""
    value = dead_letter(record.topic, record.partition, record.offset, record.value, error)
    await kafka.send_and_wait(dlq(record.topic), value=value, key=record.key)
    log.warning("record %s/%s@%s sent to DLQ: %s", record.topic, record.partition, record.offset, error)


async def consume_forever(
    bootstrap: str,
    group: str,
    topic: str,
    data_type: type[DataT],
    handle: Callable[[CloudEvent[DataT]], Awaitable[None]],
    stopping: asyncio.Event,
) -> None:
    """At-least-once loop: one record at a time, offset committed only after `handle` returns.

    A record that does not parse, or that `handle` calls poison, goes to the topic's DLQ with
    the cause. Any other exception stops the loop uncommitted: the record is retried on restart.
    """
    kafka = consumer(bootstrap, group, topic)
    dead_letters = producer(bootstrap)
    await kafka.start()
    await dead_letters.start()
    try:
        while not stopping.is_set():
            batches = await kafka.getmany(timeout_ms=500)
            for tp, records in batches.items():
                for record in records:
                    try:
                        await handle(decode(record.value, data_type))
                    except (ValidationError, PoisonRecord) as error:
                        await send_to_dlq(dead_letters, record, error)
                    await kafka.commit({tp: record.offset + 1})
    finally:
        await kafka.stop()
        await dead_letters.stop()
