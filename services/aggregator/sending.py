"""What the aggregator sends: awards, questions and progress updates, and dead letters.

Each record's envelope and key come from the one topic table (cairn.adapters.kafka.codec); the
records go out on the Faust app's own topics, so a Faust batch commits only what was acknowledged.
"""

import logging
from datetime import UTC, datetime

import faust

from cairn.adapters.kafka import codec
from cairn.adapters.kafka.consume import dead_letter
from cairn.adapters.kafka.topics import dlq
from cairn.adapters.metrics import DEAD_LETTERED
from cairn.domain.criteria import Progress, progress_report
from schemas.awards import AwardGranted, AwardQuestioned, ProgressUpdated
from schemas.badge_class import BadgeClass

log = logging.getLogger("cairn.aggregator")


class Outbox:
    """The aggregator's output topics."""

    def __init__(
        self, awards_topic: faust.TopicT, questions_topic: faust.TopicT, progress_topic: faust.TopicT
    ) -> None:
        self.awards_topic = awards_topic
        self.questions_topic = questions_topic
        self.progress_topic = progress_topic

    async def grant(self, award: AwardGranted) -> None:
        out = codec.message(award)
        ack = await self.awards_topic.send(key=out.key, value=out.value)
        await ack  # the award is on the log before the progress that records it is written

    async def question(self, question: AwardQuestioned) -> None:
        out = codec.message(question)
        await (await self.questions_topic.send(key=out.key, value=out.value))

    async def publish_progress(
        self, key: bytes, progress: Progress, org_id: str, recipient_key: str, badge_classes: list[BadgeClass]
    ) -> None:
        """Derived data for GET /v1/recipients/{email}/progress. Kafka's ack is not waited for:
        the next event for this recipient publishes it again, and the compacted topic keeps the latest."""
        update = ProgressUpdated(
            org_id=org_id,
            recipient_key=recipient_key,
            as_of=datetime.now(UTC),
            badges=progress_report(progress, badge_classes),
            pending_voids=progress.pending_voids(),
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
