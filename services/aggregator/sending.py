"""What the aggregator sends: awards, questions and progress updates, and dead letters.

Each record's envelope and key come from the one topic table (cairn.adapters.kafka.codec); the
records go out on the Faust app's own topics, so a Faust batch commits only what was acknowledged.
"""

import asyncio
import logging
from datetime import UTC, datetime

import faust

from cairn.adapters.kafka import codec
from cairn.adapters.kafka.consume import dead_letter
from cairn.adapters.kafka.topics import dlq
from cairn.adapters.metrics import DEAD_LETTERED
from cairn.domain.criteria import Progress, Standing, progress_report
from schemas.awards import AwardGranted, AwardQuestioned, ProgressUpdated
from schemas.badge_class import BadgeClass

log = logging.getLogger("cairn.aggregator")

PUBLISHED_MAX = 4_000  # recipients whose last published figures are remembered


class Outbox:
    """The aggregator's output topics."""

    def __init__(
        self, awards_topic: faust.TopicT, questions_topic: faust.TopicT, progress_topic: faust.TopicT
    ) -> None:
        self.awards_topic = awards_topic
        self.questions_topic = questions_topic
        self.progress_topic = progress_topic
        self._published: dict[bytes, tuple[object, ...]] = {}  # key -> the figures last published

    async def grant(self, award: AwardGranted) -> None:
        out = codec.message(award)
        ack = await self.awards_topic.send(key=out.key, value=out.value)
        await ack  # the award is on the log before the progress that records it is written

    async def question(self, question: AwardQuestioned) -> None:
        out = codec.message(question)
        await (await self.questions_topic.send(key=out.key, value=out.value))

    async def send_all(self, awards: list[AwardGranted], questions: list[AwardQuestioned]) -> None:
        """A batch's awards and questions all handed to the producer, then their acks awaited
        together: one round trip for the batch, not one per award."""
        acks = []
        for topic, records in ((self.awards_topic, awards), (self.questions_topic, questions)):
            for record in records:
                out = codec.message(record)
                acks.append(await topic.send(key=out.key, value=out.value))
        await asyncio.gather(*acks)

    async def publish_progress(
        self,
        key: bytes,
        progress: Progress | Standing,
        org_id: str,
        recipient_key: str,
        badge_classes: list[BadgeClass],
    ) -> None:
        """Derived data for GET /v1/recipients/{email}/progress, sent only when a figure (or an
        award, or a pending void) changed since this worker last sent it. Kafka's ack is not
        waited for: the compacted topic keeps the latest, and a restarted worker sends again."""
        badges = progress_report(progress, badge_classes)
        pending = progress.pending_voids()
        figures = (tuple(badges), tuple(pending))
        if self._published.get(key) == figures:
            return
        if len(self._published) >= PUBLISHED_MAX:
            self._published.pop(next(iter(self._published)))
        self._published[key] = figures
        update = ProgressUpdated(
            org_id=org_id,
            recipient_key=recipient_key,
            as_of=datetime.now(UTC),
            badges=badges,
            pending_voids=pending,
        )
        out = codec.message(update)
        await self.progress_topic.send(key=out.key, value=out.value)


class DeadLetters:
    """One DLQ topic per consumed topic; a dead letter is on the log before its batch is acked."""

    def __init__(self, topics: dict[str, faust.TopicT]) -> None:
        self.topics = topics

    async def send(self, event: faust.EventT, error: BaseException, attempts: int = 1) -> None:
        m = event.message
        value = dead_letter(m.topic, m.partition, m.offset, m.value, error, attempts)
        await (await self.topics[m.topic].send(key=m.key, value=value))
        DEAD_LETTERED.labels(dlq(m.topic)).inc()
        log.warning(
            "%s record at offset %s sent to DLQ: %s",
            m.topic,
            m.offset,
            error,
            extra={"topic": m.topic, "partition": m.partition, "offset": m.offset},
        )
