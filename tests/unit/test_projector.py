"""The projector folds each aggregator topic into the store through the store's own method, and
`cairn dev` runs it (the gateway no longer does)."""

import asyncio
from datetime import UTC, datetime

from cairn.adapters.kafka import topics
from cairn.adapters.kafka.topics import AWARD_QUESTIONED_TYPE, PROGRESS_UPDATED_TYPE
from devtools.dev import SERVICES
from schemas.awards import AwardQuestioned, ProgressUpdated
from schemas.envelope import CloudEvent
from services.projector.__main__ import PROJECTIONS, handler

KEY = "a" * 64


class RecordingStore:
    def __init__(self) -> None:
        self.saved: list[tuple[str, object]] = []

    async def save_progress(self, update: ProgressUpdated) -> None:
        self.saved.append(("progress", update))

    async def save_question(self, question: AwardQuestioned) -> None:
        self.saved.append(("question", question))


def test_each_topic_goes_to_its_store_method_in_the_groups_the_gateway_used():
    """cairn.activity.v1 is not projected: the gateway keeps the one history as it accepts events."""
    by_topic = {p.topic: p for p in PROJECTIONS}
    assert {t: p.group for t, p in by_topic.items()} == {
        topics.PROGRESS: "cairn-gateway-progress",
        topics.AWARD_QUESTIONS: "cairn-gateway-questions",
    }
    store = RecordingStore()
    update = ProgressUpdated(org_id="o", recipient_key=KEY, as_of=datetime.now(UTC), badges=[])
    question = AwardQuestioned(
        award_id="w", org_id="o", badge_class_id="b", recipient_key=KEY, reason="voided", evidence=[]
    )
    events = {
        topics.PROGRESS: CloudEvent[ProgressUpdated](
            id="p", source="/t", type=PROGRESS_UPDATED_TYPE, orgid="o", data=update
        ),
        topics.AWARD_QUESTIONS: CloudEvent[AwardQuestioned](
            id="q", source="/t", type=AWARD_QUESTIONED_TYPE, orgid="o", data=question
        ),
    }
    for topic, event in events.items():
        asyncio.run(handler(by_topic[topic], store)(event))
    assert store.saved == [("progress", update), ("question", question)]


def test_cairn_dev_runs_the_projector():
    assert SERVICES["projector"] == ["-m", "services.projector"]
