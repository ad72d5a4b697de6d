"""The aggregator: a Faust worker that folds activity into progress and emits AwardGranted.

Wiring only; the criteria logic is cairn.criteria. Order of work per recipient in each batch,
for at-least-once without loss: compute the new progress, send the awards and wait for Kafka's
ack, and only then write the progress table; the batch's offsets are committed after that. A
crash before the write replays the batch, re-sends the same deterministic award_id (the signer
dedupes), and never loses an award.
"""

import asyncio
import logging
import os
import time
import weakref
from collections import defaultdict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime

import faust
import faust.streams as faust_streams
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from faust.types import TP
from pydantic import ValidationError

from cairn.adapters.kafka import bus
from cairn.crash_points import crash_point, fault_point
from cairn.domain.criteria import (
    BeforeCompactedHistory,
    Progress,
    needs_check,
    progress_report,
    record_activity,
    settle,
)
from cairn.domain.failures import RetryPolicy, until_done
from cairn.settings import get_settings
from schemas.activity import ActivityRecordValue
from schemas.awards import AwardGranted, AwardQuestioned, ProgressUpdated
from schemas.badge_class import BadgeClass
from schemas.envelope import AWARD_GRANTED_TYPE, AWARD_QUESTIONED_TYPE, PROGRESS_UPDATED_TYPE, CloudEvent
from services.aggregator.faust_repairs.transport import App
from services.aggregator.faust_repairs.watchdog import StallDetector, check_partitions

log = logging.getLogger("cairn.aggregator")
settings = get_settings()

app = App(
    "cairn-aggregator",
    broker=f"kafka://{settings.kafka_bootstrap}",
    store="rocksdb://",
    datadir=str(settings.var_dir / f"aggregator-{settings.aggregator_web_port}"),
    topic_partitions=settings.topic_partitions,
    topic_replication_factor=1,
    producer_acks=-1,
    processing_guarantee="at_least_once",
    web_enabled=False,
    web_bind="127.0.0.1",
    web_port=settings.aggregator_web_port,
    consumer_auto_offset_reset="earliest",
    # `cairn setup` creates the table's changelog topic, but a loaded broker's first metadata
    # answer can still lag; Faust then refuses every table write (PartitionsMismatch) until it
    # reads the metadata again: every 5 s here instead of the default 5 minutes.
    consumer_metadata_max_age_ms=5_000,
    broker_session_timeout=10,
    broker_heartbeat_interval=3,
    key_serializer="raw",
    value_serializer="raw",
)

activity_topic = app.topic(bus.ACTIVITY, key_type=bytes, value_type=bytes)
reevaluate_topic = app.topic(
    bus.REEVALUATE, key_type=bytes, value_type=bytes, partitions=settings.topic_partitions
)
awards_topic = app.topic(bus.AWARDS, key_type=bytes, value_type=bytes)
questions_topic = app.topic(bus.AWARD_QUESTIONS, key_type=bytes, value_type=bytes)
progress_topic = app.topic(bus.PROGRESS, key_type=bytes, value_type=bytes)
dlq_topics = {
    name: app.topic(bus.dlq(name), key_type=bytes, value_type=bytes)
    for name in (bus.ACTIVITY, bus.REEVALUATE)
}

# org_id:recipient_key -> Progress JSON, co-partitioned with the activity topic.
progress_table = app.Table(
    "progress", default=None, key_type=bytes, value_type=bytes, partitions=settings.topic_partitions
)

# one bad event goes to the DLQ; a database or Kafka outage is waited out (cairn.failures)
FAILURES = RetryPolicy(max_attempts=settings.consumer_max_attempts, permanent=(BeforeCompactedHistory,))
BATCH_MAX, BATCH_WITHIN = 500, 0.05  # seconds: the most an event waits for others to share its batch
Folded = list[tuple[faust.EventT, CloudEvent[ActivityRecordValue]]]  # a recipient's events in a batch

# org_id -> badge_class_id -> latest BadgeClass; filled from the compacted topic by every worker.
catalog: dict[str, dict[str, BadgeClass]] = defaultdict(dict)
# Set once the classes published before this worker started are in the catalog: activity waits
# for it, so a restarted worker does not settle progress without them (and lean on re-evaluation).
catalog_loaded = asyncio.Event()
progress_lock = asyncio.Lock()


def _load(raw: bytes | None) -> Progress:
    return Progress.model_validate_json(raw) if raw else Progress()


async def _grant(award: AwardGranted) -> None:
    envelope = CloudEvent[AwardGranted](
        id=award.award_id,
        source="/aggregator",
        type=AWARD_GRANTED_TYPE,
        subject=award.recipient_key,
        time=award.earned_at,
        orgid=award.org_id,
        data=award,
    )
    ack = await awards_topic.send(key=award.award_id.encode(), value=bus.encode(envelope))
    await ack  # the award is on the log before the progress that records it is written


async def _question(question: AwardQuestioned) -> None:
    envelope = CloudEvent[AwardQuestioned](
        id=f"questioned:{question.award_id}",
        source="/aggregator",
        type=AWARD_QUESTIONED_TYPE,
        subject=question.recipient_key,
        orgid=question.org_id,
        data=question,
    )
    await (await questions_topic.send(key=question.award_id.encode(), value=bus.encode(envelope)))


async def _settle_and_store(key: bytes, progress: Progress, org_id: str, recipient_key: str) -> None:
    outcome = settle(progress, list(catalog[org_id].values()), recipient_key)
    if fault_point("aggregator.slow_store"):  # tests: widen the gap between settling and storing
        await asyncio.sleep(3)
    for award in outcome.awards:
        await _grant(award)
        log.info("award %s: %s for %s", award.award_id, award.badge_class_id, recipient_key[:8])
        crash_point("aggregator.award_sent")
    for question in outcome.questions:
        await _question(question)
        log.info("award %s questioned: %s", question.award_id, question.reason)
    progress_table[key] = outcome.progress.stored()
    await _publish_progress(key, outcome.progress, org_id, recipient_key)


async def _publish_progress(key: bytes, progress: Progress, org_id: str, recipient_key: str) -> None:
    """Derived data for GET /v1/recipients/{email}/progress. Kafka's ack is not waited for:
    the next event for this recipient publishes it again, and the compacted topic keeps the latest."""
    update = ProgressUpdated(
        org_id=org_id,
        recipient_key=recipient_key,
        as_of=datetime.now(UTC),
        badges=progress_report(progress, list(catalog[org_id].values())),
        pending_voids=progress.pending_voids(),
    )
    envelope = CloudEvent[ProgressUpdated](
        id=f"progress:{org_id}:{recipient_key}:{update.as_of.isoformat()}",
        source="/aggregator",
        type=PROGRESS_UPDATED_TYPE,
        subject=recipient_key,
        orgid=org_id,
        data=update,
    )
    await progress_topic.send(key=key, value=bus.encode(envelope))


@contextmanager
def _as_current(event: faust.EventT) -> Iterator[None]:
    """Faust's table store finds a key's partition from the event being processed; in a batch
    that is the key's last event. (faust-streaming 0.15.3 keeps it in this context variable.)"""
    token = faust_streams._current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        faust_streams._current_event.reset(token)


@app.agent(activity_topic, concurrency=1)
async def aggregate(stream: faust.StreamT[bytes]) -> None:
    """Folds a batch of events (up to BATCH_MAX, or what arrived within BATCH_WITHIN seconds)
    into each recipient's progress, then settles and stores each recipient once. The batch's
    offsets are committed only after that, so a crash replays the whole batch (duplicates are
    dropped by event id; awards have deterministic ids)."""
    async for events in stream.take_events(BATCH_MAX, within=BATCH_WITHIN):
        if fault_point("aggregator.drop_batch"):  # tests: imitate faust-streaming acking unprocessed records
            continue
        await catalog_loaded.wait()
        events = await _contiguous(events)
        async with progress_lock:
            changed: dict[bytes, tuple[Progress, str, str]] = {}
            folded: dict[bytes, Folded] = defaultdict(list)
            for event in events:
                try:
                    record = bus.decode(event.value, ActivityRecordValue)
                except (ValidationError, bus.PoisonRecord) as error:
                    await _dead_letter(event, error)
                    continue
                data = record.data.root
                key = f"{record.orgid}:{data.recipient_key}".encode()
                current = changed[key][0] if key in changed else _load(progress_table.get(key))
                updated = await _fold(event, record, current)
                if updated is None:
                    continue
                changed[key] = (updated, record.orgid, data.recipient_key)
                folded[key].append((event, record))
            for key, (progress, org_id, recipient_key) in changed.items():
                await _settle_batch(key, progress, org_id, recipient_key, folded[key])
            _record_processed(events)
        if fault_point("aggregator.stop_fetching"):  # tests: imitate faust-streaming's stuck partitions
            app.consumer.pause_partitions(tp for tp in app.consumer.assignment() if tp.topic == bus.ACTIVITY)


async def _keep_going(seconds: float) -> bool:
    await asyncio.sleep(seconds)
    return True


async def _fold(
    event: faust.EventT, record: CloudEvent[ActivityRecordValue], current: Progress
) -> Progress | None:
    """The progress with the record applied; None for a duplicate or a record sent to the DLQ
    (one before the compacted history at once, one that keeps failing after the bounded tries)."""
    folded: list[Progress | None] = []

    async def attempt() -> None:
        folded[:] = [record_activity(current, record.id, record.data.root, keep=settings.progress_keep_ids)]

    refused = await until_done(attempt, FAILURES, f"activity {record.id}", _keep_going)
    if refused is not None:
        await _dead_letter(event, refused[0], refused[1].attempts)
        return None
    if folded[0] is None:
        log.info("duplicate event %s ignored", record.id)
    return folded[0]


async def _settle_batch(
    key: bytes,
    progress: Progress,
    org_id: str,
    recipient_key: str,
    events: Folded,
) -> None:
    """Settles and stores a recipient's progress after the batch. If that keeps failing, the
    batch's events of this recipient are settled one at a time from the stored progress, and
    each one whose settling still fails goes to the DLQ, so one bad event stops nobody."""

    async def settle_all() -> None:
        with _as_current(events[-1][0]):
            await _settle_and_store(key, progress, org_id, recipient_key)

    refused = await until_done(settle_all, FAILURES, f"settling {recipient_key[:8]}", _keep_going)
    if refused is None:
        return
    if len(events) == 1:
        await _dead_letter(events[0][0], refused[0], refused[1].attempts)
        return
    current = _load(progress_table.get(key))
    for event, record in events:
        updated = await _fold(event, record, current)
        if updated is None:
            continue

        async def settle_one(event: faust.EventT = event, updated: Progress = updated) -> None:
            with _as_current(event):
                await _settle_and_store(key, updated, org_id, recipient_key)

        one = await until_done(settle_one, FAILURES, f"settling {record.id}", _keep_going)
        if one is None:
            current = updated
        else:
            await _dead_letter(event, one[0], one[1].attempts)


def _processed_key(partition: int) -> bytes:
    """Table key of how far an activity partition has been processed; no recipient key starts
    with "~" (they are org_id:recipient_key), so re-evaluation scans never meet it."""
    return f"~processed:{partition}".encode()


async def _contiguous(events: list[faust.EventT]) -> list[faust.EventT]:
    """The batch without the partitions that start past where this worker's table says their
    processing stopped: the records in between were acknowledged without reaching the agent
    (faust-streaming did it in the kill test). Left unprocessed and unrecorded, the commit then
    stands past the processed position, and the watchdog reads again from there. Records the
    broker no longer has (retention) cannot be read again, so that gap is accepted."""
    first: dict[int, faust.EventT] = {}
    for event in events:
        first.setdefault(event.message.partition, event)
    skipped = set()
    for partition, event in first.items():
        with _as_current(event):
            raw = progress_table.get(_processed_key(partition))
        if raw is not None and event.message.offset <= int(raw):
            continue
        tp = event.message.tp
        earliest = (await app.consumer.earliest_offsets(tp)).get(tp, 0)
        stopped = earliest if raw is None else int(raw)  # none processed yet: the log's start
        if event.message.offset <= stopped or earliest > stopped:
            continue
        log.error(
            "%s: batch starts at %s but processing stopped at %s; leaving it for the watchdog to read again",
            tp,
            event.message.offset,
            stopped,
        )
        skipped.add(partition)
    return [event for event in events if event.message.partition not in skipped]


def _record_processed(events: list[faust.EventT]) -> None:
    """Written with the batch's progress, before Faust acknowledges the batch (the watchdog
    relies on that order)."""
    last = {event.message.partition: event for event in events}
    for partition, event in last.items():
        with _as_current(event):
            progress_table[_processed_key(partition)] = str(event.message.offset + 1).encode()


@app.agent(reevaluate_topic, concurrency=1)
async def reevaluate(stream: faust.StreamT[bytes]) -> None:
    """Re-checks one recipient's progress against classes that changed since it was last checked."""
    async for event in stream.events():
        async with progress_lock:
            await _reevaluate_one(event)


async def _reevaluate_one(event: faust.EventT) -> None:
    key = event.key
    org_id, _, recipient_key = key.decode().partition(":")
    raw = progress_table.get(key)
    if raw is None:
        return

    async def attempt() -> None:
        await _settle_and_store(key, _load(raw), org_id, recipient_key)

    refused = await until_done(attempt, FAILURES, f"re-evaluating {recipient_key[:8]}", _keep_going)
    if refused is not None:
        await _dead_letter(event, refused[0], refused[1].attempts)


async def _dead_letter(event: faust.EventT, error: BaseException, attempts: int = 1) -> None:
    m = event.message
    value = bus.dead_letter(m.topic, m.partition, m.offset, m.value, error, attempts)
    await (await dlq_topics[m.topic].send(key=m.key, value=value))
    log.warning("%s record at offset %s sent to DLQ: %s", m.topic, m.offset, error)


async def _request_reevaluation(badge: BadgeClass) -> None:
    """Asks the owning partition to re-check every local recipient this class has not seen.
    Under the progress lock: a batch settled before the class arrived may not have written its
    progress yet, and a scan that ran then would miss those recipients for good."""
    prefix = f"{badge.org_id}:".encode()
    async with progress_lock:
        for key, raw in list(progress_table.items()):
            if key.startswith(prefix) and needs_check(_load(raw), badge):
                await reevaluate_topic.send(key=key, value=b"")


class ActivityPartitions:
    """The watchdog's reader: log ends from Faust's consumer, commits from the broker itself (an
    admin client), processed positions from the progress table."""

    def __init__(self) -> None:
        self._admin: AIOKafkaAdminClient | None = None

    async def highwaters(self, *partitions: TP) -> Mapping[TP, int]:
        return await asyncio.wait_for(app.consumer.highwaters(*partitions), 10)

    async def committed(self, *partitions: TP) -> Mapping[TP, int | None]:
        if self._admin is None:
            self._admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
            await self._admin.start()
        asked = {tp: TopicPartition(tp.topic, tp.partition) for tp in partitions}
        offsets = await asyncio.wait_for(
            self._admin.list_consumer_group_offsets(app.conf.id, partitions=list(asked.values())), 10
        )
        found = {tp: offsets.get(asked[tp]) for tp in partitions}
        return {tp: done.offset if done and done.offset >= 0 else None for tp, done in found.items()}

    async def processed(self, *partitions: TP) -> Mapping[TP, int]:
        result = {}
        for tp in partitions:
            raw = progress_table.get(_processed_key(tp.partition))
            if raw is not None:
                result[tp] = int(raw)
        if missing := [tp for tp in partitions if tp not in result]:
            result.update(await asyncio.wait_for(app.consumer.earliest_offsets(*missing), 10))
        return result


stall_detector = StallDetector(patience_seconds=settings.aggregator_stall_seconds)
activity_partitions = ActivityPartitions()
rewound: set[tuple[TP, int]] = set()


@app.timer(interval=5.0)
async def watch_activity_partitions() -> None:
    """Reads again what was committed unprocessed; exits (to be restarted) if an assigned
    activity partition has records it never processes."""
    if not app.tables.recovery.completed.is_set() or app.in_recovery or app.rebalancing:
        return  # positions restored from the changelog are not final yet
    assigned = [tp for tp in app.consumer.assignment() if tp.topic == bus.ACTIVITY]
    verdict = await check_partitions(activity_partitions, assigned, stall_detector, rewound, time.monotonic())
    for tp, offset in verdict.rewind.items():
        log.error("%s was committed past what was processed (%s); reading again from there", tp, offset)
        await app.consumer.seek(tp, offset)
    if verdict.stuck:
        log.error("partitions %s have records waiting, unprocessed; exiting to be restarted", verdict.stuck)
        os._exit(70)  # no graceful stop: it would commit nothing more and wait on the stuck fetcher


@app.task
async def follow_badge_classes() -> None:
    """Every worker reads the whole compacted badge-classes topic, not just a share of it
    (no consumer group: aiokafka then assigns every partition, from the beginning)."""
    consumer = AIOKafkaConsumer(
        bus.BADGE_CLASSES,
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        await app.tables.recovery.completed.wait()
        ends: dict[TopicPartition, int] = {}
        while True:
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                for message in records:
                    changed = _apply_badge_class(message.key, message.value)
                    if changed is not None:
                        await _request_reevaluation(changed)
            if not catalog_loaded.is_set() and consumer.assignment():
                ends = ends or await consumer.end_offsets(list(consumer.assignment()))
                if all([await consumer.position(tp) >= end for tp, end in ends.items()]):
                    log.info("badge classes loaded: %d", sum(len(c) for c in catalog.values()))
                    catalog_loaded.set()
    finally:
        await consumer.stop()


def _apply_badge_class(key: bytes | None, value: bytes | None) -> BadgeClass | None:
    if key is None:
        return None
    org_id, _, badge_id = key.decode().partition(":")
    if value is None:  # tombstone: the class is retired
        catalog[org_id].pop(badge_id, None)
        return None
    try:
        badge = bus.decode(value, BadgeClass).data
    except (ValidationError, bus.PoisonRecord) as error:
        log.error("unreadable badge class %s: %s", key, error)
        return None
    known = catalog[badge.org_id].get(badge.id)
    if known is not None and known.version >= badge.version:
        return None
    catalog[badge.org_id][badge.id] = badge
    log.info("badge class %s v%s loaded for org %s", badge.id, badge.version, badge.org_id)
    return badge
