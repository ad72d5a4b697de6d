"""The aggregator's domain flow: what activity does to a recipient's progress, and what is sent.

Order of work per recipient in each batch, for at-least-once without loss: compute the new
progress (the pure engine, cairn.domain.criteria), send the awards and wait for Kafka's ack, and
only then write the progress table; the batch's offsets are committed after that. A crash
before the write replays the batch, re-sends the same deterministic award_id (the signer
dedupes), and never loses an award.

One bad event goes to the DLQ; a database or Kafka outage is waited out (cairn.domain.failures).
"""

import asyncio
import logging
from collections import defaultdict
from datetime import datetime

import faust
from pydantic import ValidationError

from cairn.adapters.kafka import codec
from cairn.adapters.metrics import ACCEPTED_TO_AWARD, AWARDS, seconds_since
from cairn.domain.criteria import Progress, Settlement, needs_check, record_activity, settle
from cairn.domain.failures import PoisonRecord, RetryPolicy, until_done
from schemas.activity import ActivityRecordValue
from schemas.badge_class import BadgeClass
from schemas.envelope import CloudEvent
from services.aggregator.catalog import Catalog
from services.aggregator.faust_repairs.processed_positions import ProcessedPositions
from services.aggregator.faust_repairs.table_writes import writing_as
from services.aggregator.sending import DeadLetters, Outbox

log = logging.getLogger("cairn.aggregator")

Activity = CloudEvent[ActivityRecordValue]
Folded = list[tuple[faust.EventT, Activity]]  # a recipient's events in a batch


def load(raw: bytes | None) -> Progress:
    return Progress.model_validate_json(raw) if raw else Progress()


def progress_key(org_id: str, recipient_key: str) -> bytes:
    """The progress table's key, co-partitioned with the activity topic's."""
    return f"{org_id}:{recipient_key}".encode()


def fold(current: Progress, record: Activity, keep: int) -> Progress | None:
    """What one event does to a recipient's progress: None for a duplicate. Raises
    BeforeCompactedHistory for an activity older than the compacted history."""
    return record_activity(current, record.id, record.data.root, keep=keep)


async def _keep_going(seconds: float) -> bool:
    await asyncio.sleep(seconds)
    return True


class Folding:
    """Folds batches of activity into the progress table, settles each recipient once per batch,
    and re-checks recipients when a badge class changes. The lock keeps the activity agent, the
    re-evaluation agent and the catalog's scan from interleaving on the table."""

    # Set under the lock while settling: the acceptance time of the event being settled (its
    # record's time) for the delay metric, None while re-evaluating, where no event completed
    # the award; and the events' ids for the award's log line.
    accepted_at: datetime | None = None
    event_ids: list[str] = []  # noqa: RUF012 — replaced, never mutated

    def __init__(
        self,
        progress_table: faust.Table,
        positions: ProcessedPositions,
        catalog: Catalog,
        outbox: Outbox,
        dead_letters: DeadLetters,
        reevaluate_topic: faust.TopicT,
        failures: RetryPolicy,
        keep: int,
    ) -> None:
        self.progress_table = progress_table
        self.positions = positions
        self.catalog = catalog
        self.outbox = outbox
        self.dead_letters = dead_letters
        self.reevaluate_topic = reevaluate_topic
        self.failures = failures
        self.keep = keep
        self.lock = asyncio.Lock()

    async def batch(self, events: list[faust.EventT]) -> None:
        """Folds a batch of events into each recipient's progress, then settles and stores each
        recipient once. The batch's offsets are committed only after that, so a crash replays
        the whole batch (duplicates are dropped by event id; awards have deterministic ids)."""
        await self.catalog.loaded.wait()
        events = await self.positions.contiguous(events)
        async with self.lock:
            changed: dict[bytes, tuple[Progress, str, str]] = {}
            folded: dict[bytes, Folded] = defaultdict(list)
            for event in events:
                try:
                    record = codec.decode(event.value, ActivityRecordValue)
                except (ValidationError, PoisonRecord) as error:
                    await self.dead_letters.send(event, error)
                    continue
                data = record.data.root
                key = progress_key(record.orgid, data.recipient_key)
                current = changed[key][0] if key in changed else load(self.progress_table.get(key))
                updated = await self._fold(event, record, current)
                if updated is None:
                    continue
                changed[key] = (updated, record.orgid, data.recipient_key)
                folded[key].append((event, record))
            for key, (progress, org_id, recipient_key) in changed.items():
                await self._settle_batch(key, progress, org_id, recipient_key, folded[key])
            self.positions.record(events)

    async def _fold(self, event: faust.EventT, record: Activity, current: Progress) -> Progress | None:
        """The progress with the record applied; None for a duplicate or a record sent to the DLQ
        (one before the compacted history at once, one that keeps failing after the bounded tries)."""
        folded: list[Progress | None] = []

        async def attempt() -> None:
            folded[:] = [fold(current, record, self.keep)]

        refused = await until_done(attempt, self.failures, f"activity {record.id}", _keep_going)
        if refused is not None:
            await self.dead_letters.send(event, refused[0], refused[1].attempts)
            return None
        if folded[0] is None:
            log.info("duplicate event %s ignored", record.id)
        return folded[0]

    async def _settle_batch(
        self, key: bytes, progress: Progress, org_id: str, recipient_key: str, events: Folded
    ) -> None:
        """Settles and stores a recipient's progress after the batch. If that keeps failing, the
        batch's events of this recipient are settled one at a time from the stored progress, and
        each one whose settling still fails goes to the DLQ, so one bad event stops nobody."""

        async def settle_all() -> None:
            self.accepted_at, self.event_ids = events[-1][1].time, [r.id for _, r in events]
            with writing_as(events[-1][0]):
                await self.settle_and_store(key, progress, org_id, recipient_key)

        refused = await until_done(settle_all, self.failures, f"settling {recipient_key[:8]}", _keep_going)
        if refused is None:
            return
        if len(events) == 1:
            await self.dead_letters.send(events[0][0], refused[0], refused[1].attempts)
            return
        current = load(self.progress_table.get(key))
        for event, record in events:
            updated = await self._fold(event, record, current)
            if updated is None:
                continue

            async def settle_one(
                event: faust.EventT = event, updated: Progress = updated, record: Activity = record
            ) -> None:
                self.accepted_at, self.event_ids = record.time, [record.id]
                with writing_as(event):
                    await self.settle_and_store(key, updated, org_id, recipient_key)

            one = await until_done(settle_one, self.failures, f"settling {record.id}", _keep_going)
            if one is None:
                current = updated
            else:
                await self.dead_letters.send(event, one[0], one[1].attempts)

    async def settle_and_store(self, key: bytes, progress: Progress, org_id: str, recipient_key: str) -> None:
        await self.store(
            key, settle(progress, self.catalog.classes(org_id), recipient_key), org_id, recipient_key
        )

    async def store(self, key: bytes, outcome: Settlement, org_id: str, recipient_key: str) -> None:
        """Awards and questions on the log first, then the progress that records them."""
        await self.announce(outcome, recipient_key)
        self.progress_table[key] = outcome.progress.stored()
        classes = self.catalog.classes(org_id)
        await self.outbox.publish_progress(key, outcome.progress, org_id, recipient_key, classes)

    async def announce(self, outcome: Settlement, recipient_key: str) -> None:
        """Sends the settlement's awards and questions, each acknowledged by Kafka."""
        for award in outcome.awards:
            await self.outbox.grant(award)
            AWARDS.inc()
            if self.accepted_at is not None:
                ACCEPTED_TO_AWARD.observe(seconds_since(self.accepted_at))
            log.info(
                "award %s: %s for %s",
                award.award_id,
                award.badge_class_id,
                recipient_key[:8],
                extra={"award_id": award.award_id, "event_ids": self.event_ids, "org_id": award.org_id},
            )
        for question in outcome.questions:
            await self.outbox.question(question)
            log.info("award %s questioned: %s", question.award_id, question.reason)

    async def reevaluate(self, event: faust.EventT) -> None:
        """Re-checks one recipient's progress against classes that changed since it was last
        checked (the stream has made `event` current, so the write goes to its partition)."""
        async with self.lock:
            key = event.key
            org_id, _, recipient_key = key.decode().partition(":")
            raw = self.progress_table.get(key)
            if raw is None:
                return

            async def attempt() -> None:
                self.accepted_at, self.event_ids = None, []
                await self.settle_and_store(key, load(raw), org_id, recipient_key)

            label = f"re-evaluating {recipient_key[:8]}"
            refused = await until_done(attempt, self.failures, label, _keep_going)
            if refused is not None:
                await self.dead_letters.send(event, refused[0], refused[1].attempts)

    async def request_reevaluation(self, badge: BadgeClass) -> None:
        """Asks the owning partition to re-check every local recipient this class has not seen.
        Under the lock: a batch settled before the class arrived may not have written its
        progress yet, and a scan that ran then would miss those recipients for good."""
        prefix = f"{badge.org_id}:".encode()
        async with self.lock:
            for key, raw in list(self.progress_table.items()):
                if key.startswith(prefix) and needs_check(load(raw), badge):
                    await self.reevaluate_topic.send(key=key, value=b"")
