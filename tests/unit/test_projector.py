"""The projector folds each aggregator topic into the store through the store's own method, and
`cairn dev` runs it (the gateway no longer does)."""

import asyncio
from datetime import UTC, datetime

from cairn.adapters.kafka import topics
from cairn.adapters.kafka.topics import ACTIVITY_TYPES, AWARD_QUESTIONED_TYPE, PROGRESS_UPDATED_TYPE
from devtools.dev import SERVICES
from schemas.activity import ActivityRecordValue, ActivityVoided
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

    async def save_activity(self, org_id: str, event_id: str, activity: object) -> None:
        self.saved.append(("activity", (org_id, event_id, activity)))


def test_each_topic_goes_to_its_store_method_in_the_groups_the_gateway_used():
    by_topic = {p.topic: p for p in PROJECTIONS}
    assert {t: p.group for t, p in by_topic.items()} == {
        topics.PROGRESS: "cairn-gateway-progress",
        topics.AWARD_QUESTIONS: "cairn-gateway-questions",
        topics.ACTIVITY: "cairn-projector-activity-log",
    }
    store = RecordingStore()
    update = ProgressUpdated(org_id="o", recipient_key=KEY, as_of=datetime.now(UTC), badges=[])
    question = AwardQuestioned(
        award_id="w", org_id="o", badge_class_id="b", recipient_key=KEY, reason="voided", evidence=[]
    )
    voided = ActivityRecordValue(ActivityVoided(recipient_key=KEY, voids="rota-0", reason="typo"))
    events = {
        topics.PROGRESS: CloudEvent[ProgressUpdated](
            id="p", source="/t", type=PROGRESS_UPDATED_TYPE, orgid="o", data=update
        ),
        topics.AWARD_QUESTIONS: CloudEvent[AwardQuestioned](
            id="q", source="/t", type=AWARD_QUESTIONED_TYPE, orgid="o", data=question
        ),
        topics.ACTIVITY: CloudEvent[ActivityRecordValue](
            id="rota-1", source="/t", type=ACTIVITY_TYPES["activity_voided"], orgid="o", data=voided
        ),
    }
    for topic, event in events.items():
        asyncio.run(handler(by_topic[topic], store)(event))
    activity = ("activity", ("o", "rota-1", voided.root))
    assert store.saved == [("progress", update), ("question", question), activity]


def test_cairn_dev_runs_the_projector():
    assert SERVICES["projector"] == ["-m", "services.projector"]
