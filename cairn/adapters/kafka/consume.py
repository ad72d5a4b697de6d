"""The at-least-once consume loop and the dead-letter queue: a record's offset is committed only
once it is handled, or kept with its cause in its topic's DLQ."""

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from datetime import UTC, datetime

from aiokafka import (
    AIOKafkaConsumer,
    AIOKafkaProducer,
    ConsumerRecord,
    TopicPartition,
)
from aiokafka.errors import KafkaError

from cairn.adapters.kafka.codec import decode
from cairn.adapters.kafka.connection import Brokers, client_options
from cairn.adapters.kafka.publisher import producer
from cairn.adapters.kafka.rebalancing import HAND_OVER_SECONDS, HANDING_OVER, Rebalancing, pause_unless
from cairn.adapters.kafka.topics import dlq
from cairn.adapters.metrics import CONSUMER_LAG, DEAD_LETTERED
from cairn.adapters.readiness import WORKER
from cairn.domain.failures import RetryPolicy, Stopped, backoff, until_done
from cairn.settings import get_settings
from schemas.envelope import CloudEvent, DataT

log = logging.getLogger(__name__)

# When the record being handled was written to Kafka (its timestamp), for the delay metrics:
# a record's CloudEvent time is the activity's or earning's time, not when it was sent.
_record_written: ContextVar[datetime | None] = ContextVar("record_written", default=None)


def record_written_at() -> datetime | None:
    """The Kafka timestamp of the record the current handler was called for."""
    return _record_written.get()


def consumer(
    bootstrap: Brokers,
    group: str,
    *topics: str,
    max_poll_interval_ms: int = 300_000,
    listener: Rebalancing | None = None,
) -> AIOKafkaConsumer:
    """Offsets are committed by the caller after the work is done: at-least-once.
    `max_poll_interval_ms`: the longest a handler may hold a record before the group counts the
    consumer gone (longer for the webhook retry tiers, whose handlers wait until a record is due).
    `listener`: the group waits for it when partitions move (its hand-over time, plus 10 s)."""
    kafka = AIOKafkaConsumer(
        **client_options(bootstrap),
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_interval_ms=max_poll_interval_ms,
        rebalance_timeout_ms=int(((listener.hand_over_seconds if listener else 0) + 10) * 1000),
    )
    kafka.subscribe(list(topics), listener=listener)
    return kafka


def dead_letter(
    topic: str, partition: int, offset: int, value: bytes | None, error: BaseException, attempts: int = 1
) -> bytes:
    """The DLQ record: the poison value with where it came from, why it was refused and after
    how many attempts."""
    return json.dumps(
        {
            "topic": topic,
            "partition": partition,
            "offset": offset,
            "error": f"{type(error).__name__}: {error}"[:2000],
            "attempts": attempts,
            "value": (value or b"").decode("utf-8", errors="replace"),
        }
    ).encode()


async def send_to_dlq(
    kafka: AIOKafkaProducer, record: ConsumerRecord, error: BaseException, attempts: int = 1
) -> None:
    """Keeps the poison record with its cause so nothing is dropped silently."""
    value = dead_letter(record.topic, record.partition, record.offset, record.value, error, attempts)
    await kafka.send_and_wait(dlq(record.topic), value=value, key=record.key)
    DEAD_LETTERED.labels(dlq(record.topic)).inc()
    log.warning(
        "record %s/%s@%s sent to DLQ: %s",
        record.topic,
        record.partition,
        record.offset,
        error,
        extra={"topic": record.topic, "partition": record.partition, "offset": record.offset},
    )


async def report_lag(kafka: AIOKafkaConsumer, group: str) -> None:
    """cairn_consumer_lag: each assigned partition's high watermark less this consumer's
    position (what is fetched but not yet handled counts as behind)."""
    for tp in kafka.assignment():
        highwater = kafka.highwater(tp)
        if highwater is None:
            continue
        try:
            position = await kafka.position(tp)
        except KafkaError:
            continue
        CONSUMER_LAG.labels(group, tp.topic, str(tp.partition)).set(max(0, highwater - position))


async def _handle_with_retries(
    record: ConsumerRecord,
    attempt: Callable[[], Awaitable[None]],
    dead_letters: AIOKafkaProducer,
    policy: RetryPolicy,
    stopping: asyncio.Event,
    revoked: asyncio.Event | None = None,
) -> bool:
    """Runs `attempt` until it succeeds or the policy dead-letters the record; returns False only
    if asked to stop, or the partition was taken away, first (the record is then left
    uncommitted, to be read again, here or by the partition's next owner)."""
    where = f"record {record.topic}/{record.partition}@{record.offset}"
    try:
        refused = await until_done(
            attempt, policy, where, lambda seconds: pause_unless(stopping, seconds, revoked)
        )
    except Stopped:
        return False
    if refused is None:
        return True
    error, decision = refused
    return await _dead_letter_until_sent(record, error, decision.attempts, dead_letters, policy, stopping)


async def _dead_letter_until_sent(
    record: ConsumerRecord,
    error: BaseException,
    attempts: int,
    dead_letters: AIOKafkaProducer,
    policy: RetryPolicy,
    stopping: asyncio.Event,
) -> bool:
    """The DLQ write is retried without limit: Kafka being away never loses the record."""
    tries = 0
    while True:
        try:
            await send_to_dlq(dead_letters, record, error, attempts)
            return True
        except KafkaError as kafka_down:
            tries += 1
            log.warning("could not write to %s (%s); retrying", dlq(record.topic), kafka_down)
            if not await pause_unless(stopping, backoff(tries, policy.base_delay, policy.max_delay)):
                return False


async def consume_forever(
    bootstrap: Brokers,
    group: str,
    topic: str,
    data_type: type[DataT],
    handle: Callable[[CloudEvent[DataT]], Awaitable[None]],
    stopping: asyncio.Event,
    policy: RetryPolicy | None = None,
    max_poll_interval_ms: int = 300_000,
    concurrency: int = 1,
    batch_records: int | None = None,
    hand_over_seconds: float = HAND_OVER_SECONDS,
) -> None:
    """At-least-once loop: one record at a time, offset committed only after `handle` returns
    or the record is in the topic's DLQ. With `concurrency` over 1, each fetched batch (at most
    `batch_records`) is handled as lanes, one per partition and key, in offset order within a
    lane and up to `concurrency` records at once across lanes, and committed once when every
    lane is through: a crash mid-batch reads the whole batch again (handlers are idempotent).
    When the group moves partitions, the records being handled are finished (for up to
    `hand_over_seconds`) and the rest of the batch is left to the partitions' next owners.

    Failures are classified by cairn.failures: a record that does not parse or that `handle`
    calls permanent goes to the DLQ with the cause at once; one that keeps failing in an unknown
    way goes there after `policy.max_attempts` tries; a transient failure (database, SMTP
    server, Kafka) is retried without limit. The loop itself never stops on a record's error.
    """
    policy = policy or RetryPolicy(max_attempts=get_settings().consumer_max_attempts)
    WORKER.joining(group)
    rebalancing = Rebalancing(group, hand_over_seconds)
    HANDING_OVER.set(rebalancing.revoked)
    started = await _start_clients(
        bootstrap, group, topic, policy, stopping, max_poll_interval_ms, rebalancing
    )
    if started is None:
        WORKER.stopped(group)
        return
    kafka, dead_letters = started
    WORKER.consuming(group)  # start() returns once the group gave this consumer its assignment
    fetch_failures = 0

    async def handled(record: ConsumerRecord) -> bool:
        async def attempt() -> None:
            _record_written.set(datetime.fromtimestamp(record.timestamp / 1000, UTC))
            await handle(decode(record.value, data_type))

        if rebalancing.revoked.is_set():  # not ours any more: left to the partition's next owner
            return False
        with rebalancing.handling():
            return await _handle_with_retries(
                record, attempt, dead_letters, policy, stopping, rebalancing.revoked
            )

    async def work_through(batches: dict[TopicPartition, list[ConsumerRecord]]) -> bool:
        """Handles and commits each record in turn; False when asked to stop or when the group
        took the partitions away (what is left of the batch is then not handled here)."""
        if concurrency > 1:
            return await _work_through_in_lanes(kafka, batches, handled, concurrency)
        for tp, records in batches.items():
            for record in records:
                if not await handled(record):
                    return False
                try:
                    await kafka.commit({tp: record.offset + 1})
                except KafkaError as error:
                    # a rebalance or the broker away: read from the last commit again (handlers
                    # are idempotent) rather than go on past what was never committed
                    log.warning("commit on %s failed (%s); reading again from the last commit", tp, error)
                    await _rewind(kafka, batches)
                    return True
        return True

    try:
        while not stopping.is_set():
            rebalancing.revoked.clear()  # a rebalance from here on abandons the batch fetched next
            try:
                batches = await kafka.getmany(timeout_ms=500, max_records=batch_records)
                fetch_failures = 0
            except KafkaError as error:
                fetch_failures += 1
                log.warning("fetching from %s failed (%s); retrying", topic, error)
                await pause_unless(stopping, backoff(fetch_failures, policy.base_delay, policy.max_delay))
                continue
            if not await work_through(batches):
                if stopping.is_set():
                    return
                await _rewind(kafka, batches)  # partitions moved: read on from the last commit
            await report_lag(kafka, group)
    finally:
        WORKER.stopped(group)
        await kafka.stop()
        await dead_letters.stop()


async def _work_through_in_lanes(
    kafka: AIOKafkaConsumer,
    batches: dict[TopicPartition, list[ConsumerRecord]],
    handled: Callable[[ConsumerRecord], Awaitable[bool]],
    concurrency: int,
) -> bool:
    """The batch as lanes (partition and key: a key's records keep their order), handled side by
    side, then one commit for the batch; False when asked to stop or the partitions were taken
    away (nothing is committed, the batch is read again). A poison record goes to the DLQ
    alone, and its lane goes on."""
    lanes: dict[tuple[TopicPartition, bytes | None], list[ConsumerRecord]] = {}
    for tp, records in batches.items():
        for record in records:
            lanes.setdefault((tp, record.key), []).append(record)
    slots = asyncio.Semaphore(concurrency)

    async def lane(records: list[ConsumerRecord]) -> bool:
        for record in records:
            async with slots:
                if not await handled(record):
                    return False
        return True

    if not all(await asyncio.gather(*(lane(records) for records in lanes.values()))):
        return False
    offsets = {tp: records[-1].offset + 1 for tp, records in batches.items() if records}
    if not offsets:
        return True
    try:
        await kafka.commit(offsets)
    except KafkaError as error:
        log.warning("commit of a batch failed (%s); reading again from the last commit", error)
        await _rewind(kafka, batches)
    return True


async def _start_clients(
    bootstrap: Brokers,
    group: str,
    topic: str,
    policy: RetryPolicy,
    stopping: asyncio.Event,
    max_poll_interval_ms: int = 300_000,
    listener: Rebalancing | None = None,
) -> tuple[AIOKafkaConsumer, AIOKafkaProducer] | None:
    """The consumer and the DLQ producer, started once Kafka answers (None if asked to stop
    first): a broker not up yet must not end a projection that runs inside the gateway."""
    tries = 0
    while not stopping.is_set():
        kafka = consumer(
            bootstrap, group, topic, max_poll_interval_ms=max_poll_interval_ms, listener=listener
        )
        dead_letters = producer(bootstrap)
        try:
            await kafka.start()
            await dead_letters.start()
            return kafka, dead_letters
        except KafkaError as error:
            await kafka.stop()
            await dead_letters.stop()
            tries += 1
            log.warning("cannot reach Kafka to consume %s (%s); trying again", topic, error)
            await pause_unless(stopping, backoff(tries, policy.base_delay, policy.max_delay))
    return None


async def _rewind(kafka: AIOKafkaConsumer, batches: dict[TopicPartition, list[ConsumerRecord]]) -> None:
    """Seeks each fetched partition still assigned back to its committed offset."""
    for tp in batches:
        if tp not in kafka.assignment():
            continue
        try:
            committed = await kafka.committed(tp)
            if committed is None:
                await kafka.seek_to_beginning(tp)
            else:
                kafka.seek(tp, committed)
        except KafkaError as error:
            log.warning("could not rewind %s (%s); it is read again after the next rebalance", tp, error)
