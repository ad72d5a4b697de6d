"""The aggregator's domain flow: what activity does to a recipient's progress, and what is sent.

Order of work in each batch, for at-least-once without loss: fold the events into each
recipient's standing (the incremental engine, cairn.domain.criteria.standing), settle each
recipient once, send all the batch's awards and questions and wait for their acks together,
and only then write the progress table (and publish a progress update where a figure changed);
the batch's offsets are committed after that. A crash before the writes replays the batch,
re-sends the same deterministic award_ids (the signer dedupes), and never loses an award.
Decoded standings are kept in memory between batches, checked against the table's bytes.

One bad event goes to the DLQ; a database or Kafka outage is waited out (cairn.domain.failures).
"""

import asyncio
import logging
from collections import defaultdict
from datetime import datetime

import faust
from pydantic import ValidationError

from cairn.adapters.metrics import ACCEPTED_TO_AWARD, AWARDS, seconds_since
from cairn.domain.criteria import Settlement, Standing, settle_standing
from cairn.domain.criteria.standing import checked_versions
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


CACHE_MAX = 4_000  # decoded standings kept between batches (each holds a whole history; a batch <= 500)


def load(raw: bytes | None) -> Standing:
    """A table value in either format (cairn.domain.criteria.standing)."""
    return Standing.load(raw)


def progress_key(org_id: str, recipient_key: str) -> bytes:
    """The progress table's key, co-partitioned with the activity topic's."""
    return f"{org_id}:{recipient_key}".encode()


def fold(current: Standing, record: Activity, keep: int) -> Standing | None:
    """Applies one event to a recipient's standing (in place): None for a duplicate. Raises
    BeforeCompactedHistory for an activity older than the compacted history."""
    return current if current.record(record.id, record.data.root, keep=keep) else None


def decode(raw: bytes | None) -> Activity:
    """An activity record (the generic envelope class is built once, at import)."""
    if raw is None:
        raise PoisonRecord("record has no value")
    return Activity.model_validate_json(raw)


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
        self._standings: dict[bytes, tuple[bytes, Standing]] = {}  # key -> (table bytes, decoded)

    async def batch(self, events: list[faust.EventT]) -> None:
        """Folds a batch of events into each recipient's standing, settles each recipient once,
        sends every award of the batch and awaits their acks together, then writes. The batch's
        offsets are committed only after that, so a crash replays the whole batch (duplicates
        are dropped by event id; awards have deterministic ids). A recipient whose settling or
        sending fails goes the careful way: settled and stored alone, with retries and the DLQ."""
        await self.catalog.loaded.wait()
        events = await self.positions.contiguous(events)
        async with self.lock:
            changed: dict[bytes, tuple[Standing, str, str]] = {}
            unchanged: dict[bytes, tuple[bytes | None, Standing]] = {}
            folded: dict[bytes, Folded] = defaultdict(list)
            for event in events:
                try:
                    record = decode(event.value)
                except (ValidationError, PoisonRecord) as error:
                    await self.dead_letters.send(event, error)
                    continue
                data = record.data.root
                key = progress_key(record.orgid, data.recipient_key)
                if key in changed:
                    current = changed[key][0]
                elif key in unchanged:
                    current = unchanged[key][1]
                else:
                    raw = self.progress_table.get(key)
                    current = self._standing(key, raw)
                    unchanged[key] = (raw, current)
                updated = await self._fold(event, record, current)
                if updated is None:
                    continue
                unchanged.pop(key, None)
                changed[key] = (updated, record.orgid, data.recipient_key)
                folded[key].append((event, record))
            for key, (raw, standing) in unchanged.items():  # duplicates only: still as stored
                if raw is not None:
                    self._remember(key, raw, standing)
            settled = await self._settle_all(changed, folded)
            for key, (standing, org_id, recipient_key) in changed.items():
                if key in settled:
                    with writing_as(folded[key][-1][0]):
                        await self.write(key, settled[key], org_id, recipient_key)
                else:
                    await self._settle_batch(key, standing, org_id, recipient_key, folded[key])
            self.positions.record(events)

    def _standing(self, key: bytes, raw: bytes | None) -> Standing:
        """The decoded standing for the table's bytes: the one kept from the last batch if the
        table still holds what was written then, else read afresh. Taken out of the cache while
        it is folded into, so a failure never leaves a half-folded standing behind."""
        kept = self._standings.pop(key, None)
        if kept is not None and raw is not None and kept[0] == raw:
            return kept[1]
        return load(raw)

    def _remember(self, key: bytes, raw: bytes, standing: Standing) -> None:
        if len(self._standings) >= CACHE_MAX:
            self._standings.pop(next(iter(self._standings)))
        self._standings[key] = (raw, standing)

    async def _settle_all(
        self, changed: dict[bytes, tuple[Standing, str, str]], folded: dict[bytes, Folded]
    ) -> dict[bytes, Settlement]:
        """Each changed recipient settled, and all their awards and questions on Kafka (acks
        awaited together). What could not be settled or sent is left out: the careful path."""
        settled: dict[bytes, Settlement] = {}
        for key, (standing, org_id, recipient_key) in changed.items():
            try:
                settled[key] = settle_standing(standing, self.catalog.classes(org_id), recipient_key)
            except Exception as error:  # settled again alone, with retries and the DLQ
                log.warning("settling %s failed in a batch: %s", recipient_key[:8], error)
        try:
            await self.announce_all([(settled[key], folded[key]) for key in settled])
        except Exception as error:  # sent again one recipient at a time (award ids dedupe)
            log.warning("sending a batch's awards failed: %s", error)
            return {}
        return settled

    async def announce_all(self, outcomes: list[tuple[Settlement, Folded]]) -> None:
        """Every award and question of the batch sent, then their acks awaited together."""
        awards = [award for outcome, _ in outcomes for award in outcome.awards]
        questions = [question for outcome, _ in outcomes for question in outcome.questions]
        if not awards and not questions:
            return
        await self.outbox.send_all(awards, questions)
        for outcome, events in outcomes:
            self.event_ids = [r.id for _, r in events]
            self._announced(outcome, events[-1][1].time)

    def _announced(self, outcome: Settlement, accepted_at: datetime | None) -> None:
        for award in outcome.awards:
            AWARDS.inc()
            if accepted_at is not None:
                ACCEPTED_TO_AWARD.observe(seconds_since(accepted_at))
            log.info(
                "award %s: %s for %s",
                award.award_id,
                award.badge_class_id,
                award.recipient_key[:8],
                extra={"award_id": award.award_id, "event_ids": self.event_ids, "org_id": award.org_id},
            )
        for question in outcome.questions:
            log.info("award %s questioned: %s", question.award_id, question.reason)

    async def write(self, key: bytes, outcome: Settlement, org_id: str, recipient_key: str) -> None:
        """The progress that records the (acknowledged) awards, and its update if a figure moved."""
        raw = outcome.progress.stored()
        self.progress_table[key] = raw
        self._remember(key, raw, outcome.progress)  # type: ignore[arg-type]
        classes = self.catalog.classes(org_id)
        await self.outbox.publish_progress(key, outcome.progress, org_id, recipient_key, classes)

    async def _fold(self, event: faust.EventT, record: Activity, current: Standing) -> Standing | None:
        """The standing with the record applied; None for a duplicate or a record sent to the DLQ
        (one before the compacted history at once, one that keeps failing after the bounded tries)."""
        folded: list[Standing | None] = []

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
        self, key: bytes, progress: Standing, org_id: str, recipient_key: str, events: Folded
    ) -> None:
        """Settles and stores a recipient's standing after the batch. If that keeps failing, the
        batch's events of this recipient are settled one at a time from the stored standing, and
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
                event: faust.EventT = event, updated: Standing = updated, record: Activity = record
            ) -> None:
                self.accepted_at, self.event_ids = record.time, [record.id]
                with writing_as(event):
                    await self.settle_and_store(key, updated, org_id, recipient_key)

            one = await until_done(settle_one, self.failures, f"settling {record.id}", _keep_going)
            if one is None:
                current = updated
            else:  # folded in place: back to what is stored, without this event
                await self.dead_letters.send(event, one[0], one[1].attempts)
                current = load(self.progress_table.get(key))

    async def settle_and_store(self, key: bytes, progress: Standing, org_id: str, recipient_key: str) -> None:
        classes = self.catalog.classes(org_id)
        await self.store(key, settle_standing(progress, classes, recipient_key), org_id, recipient_key)

    async def store(self, key: bytes, outcome: Settlement, org_id: str, recipient_key: str) -> None:
        """Awards and questions on the log first, then the progress that records them."""
        await self.announce(outcome, recipient_key)
        await self.write(key, outcome, org_id, recipient_key)

    async def announce(self, outcome: Settlement, recipient_key: str) -> None:
        """Sends one settlement's awards and questions, each acknowledged by Kafka."""
        for award in outcome.awards:
            await self.outbox.grant(award)
        for question in outcome.questions:
            await self.outbox.question(question)
        self._announced(outcome, self.accepted_at)

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
                if key.startswith(prefix) and checked_versions(raw).get(badge.id) != badge.version:
                    await self.reevaluate_topic.send(key=key, value=b"")
