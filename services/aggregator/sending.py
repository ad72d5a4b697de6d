"""What the aggregator sends: awards, questions and progress updates, and dead letters.

The three award-side sends are kept together and otherwise untouched, so that moving them onto
one publisher and topic table changes this module only.
"""

import logging
from datetime import UTC, datetime

import faust

from cairn.adapters.kafka import bus
from cairn.domain.criteria import Progress, progress_report
from schemas.awards import AwardGranted, AwardQuestioned, ProgressUpdated
from schemas.badge_class import BadgeClass
from schemas.envelope import AWARD_GRANTED_TYPE, AWARD_QUESTIONED_TYPE, PROGRESS_UPDATED_TYPE, CloudEvent

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
        envelope = CloudEvent[AwardGranted](
            id=award.award_id,
            source="/aggregator",
            type=AWARD_GRANTED_TYPE,
            subject=award.recipient_key,
            time=award.earned_at,
            orgid=award.org_id,
            data=award,
        )
        ack = await self.awards_topic.send(key=award.award_id.encode(), value=bus.encode(envelope))
        await ack  # the award is on the log before the progress that records it is written

    async def question(self, question: AwardQuestioned) -> None:
        envelope = CloudEvent[AwardQuestioned](
            id=f"questioned:{question.award_id}",
            source="/aggregator",
            type=AWARD_QUESTIONED_TYPE,
            subject=question.recipient_key,
            orgid=question.org_id,
            data=question,
        )
        await (await self.questions_topic.send(key=question.award_id.encode(), value=bus.encode(envelope)))

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
        envelope = CloudEvent[ProgressUpdated](
            id=f"progress:{org_id}:{recipient_key}:{update.as_of.isoformat()}",
            source="/aggregator",
            type=PROGRESS_UPDATED_TYPE,
            subject=recipient_key,
            orgid=org_id,
            data=update,
        )
        await self.progress_topic.send(key=key, value=bus.encode(envelope))


class DeadLetters:
    """One DLQ topic per consumed topic; a dead letter is on the log before its batch is acked."""

    def __init__(self, topics: dict[str, faust.TopicT]) -> None:
        self.topics = topics

    async def send(self, event: faust.EventT, error: BaseException, attempts: int = 1) -> None:
        m = event.message
        value = bus.dead_letter(m.topic, m.partition, m.offset, m.value, error, attempts)
        await (await self.topics[m.topic].send(key=m.key, value=value))
        log.warning("%s record at offset %s sent to DLQ: %s", m.topic, m.offset, error)
