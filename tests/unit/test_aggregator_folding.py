"""The aggregator's flow (services/aggregator/folding.py) without Kafka: Faust's table, topics and
events replaced by in-memory stand-ins, so the order of work and the DLQ are checked in ms."""

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cairn.adapters.kafka import codec, topics
from cairn.domain.criteria import Progress
from cairn.domain.failures import RetryPolicy
from schemas.activity import ActivityRecordValue, VolunteerShiftLogged
from schemas.awards import AwardGranted, AwardQuestioned
from schemas.badge_class import BadgeClass
from schemas.envelope import CloudEvent
from services.aggregator.catalog import Catalog
from services.aggregator.folding import Folding, load, progress_key

ORG, KEY = "org-1", "b" * 64
T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
TEN_HOURS = BadgeClass(
    id="ten",
    org_id=ORG,
    version=1,
    name="Ten hours",
    description="d",
    criteria_narrative="n",
    criteria={"kind": "total_hours", "at_least": 10},
)


@dataclass
class Message:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


@dataclass
class Event:
    message: Message

    @property
    def value(self) -> bytes | None:
        return self.message.value

    @property
    def key(self) -> bytes | None:
        return self.message.key


class Table(dict):
    """The progress table: Faust's Table is a mapping with get/items and changelogged writes."""


@dataclass
class Positions:
    recorded: list[list[Event]] = field(default_factory=list)

    async def contiguous(self, events: list[Event]) -> list[Event]:
        return events

    def record(self, events: list[Event]) -> None:
        self.recorded.append(events)


@dataclass
class Outbox:
    table: Table
    sent: list[tuple[str, object, bool]] = field(default_factory=list)  # (what, record, progress stored yet)

    async def grant(self, award: AwardGranted) -> None:
        self.sent.append(("award", award, progress_key(award.org_id, award.recipient_key) in self.table))

    async def question(self, question: AwardQuestioned) -> None:
        self.sent.append(("question", question, False))

    async def send_all(self, awards: list[AwardGranted], questions: list[AwardQuestioned]) -> None:
        for award in awards:
            await self.grant(award)
        for question in questions:
            await self.question(question)

    async def publish_progress(self, key: bytes, progress: Progress, *rest: object) -> None:
        self.sent.append(("progress", progress, key in self.table))


@dataclass
class DeadLetters:
    sent: list[tuple[Event, BaseException]] = field(default_factory=list)

    async def send(self, event: Event, error: BaseException, attempts: int = 1) -> None:
        self.sent.append((event, error))


def activity(offset: int, event_id: str, hours: float) -> Event:
    data = VolunteerShiftLogged(recipient_key=KEY, started_at=T0 + timedelta(days=offset), hours=hours)
    envelope = CloudEvent[ActivityRecordValue](
        id=event_id, source="/test", type=topics.ACTIVITY_TYPES["volunteer_shift"], orgid=ORG, data=data
    )
    return Event(Message(topics.ACTIVITY, 0, offset, progress_key(ORG, KEY), codec.encode(envelope)))


def folding() -> tuple[Folding, Table, Outbox, DeadLetters, Positions]:
    table, dead, positions, catalog = Table(), DeadLetters(), Positions(), Catalog()
    outbox = Outbox(table)
    envelope = CloudEvent[BadgeClass](
        id="c", source="/test", type=topics.BADGE_CLASS_TYPE, orgid=ORG, data=TEN_HOURS
    )
    catalog.apply(f"{ORG}:ten".encode(), codec.encode(envelope))
    catalog.loaded.set()
    flow = Folding(table, positions, catalog, outbox, dead, None, RetryPolicy(max_attempts=2), keep=1000)  # type: ignore[arg-type]
    return flow, table, outbox, dead, positions


def test_a_batch_sends_the_award_before_storing_the_progress_that_records_it():
    flow, table, outbox, dead, positions = folding()
    poison = Event(Message(topics.ACTIVITY, 0, 3, b"x", b"not json"))
    batch = [activity(0, "e1", 6), activity(1, "e2", 4), activity(2, "e1", 6), poison]

    asyncio.run(flow.batch(batch))

    assert [(what, stored) for what, _, stored in outbox.sent] == [("award", False), ("progress", True)]
    assert load(table[progress_key(ORG, KEY)]).awarded.keys() == {"ten"}
    assert [event for event, _ in dead.sent] == [poison], "the duplicate e1 is ignored, not dead-lettered"
    assert positions.recorded == [batch]


def test_a_replayed_batch_grants_nothing_twice():
    flow, _, outbox, _, _ = folding()
    batch = [activity(0, "e1", 6), activity(1, "e2", 4)]
    asyncio.run(flow.batch(batch))
    asyncio.run(flow.batch(batch))
    assert [what for what, _, _ in outbox.sent] == ["award", "progress"]


def test_fault_points_are_installed_only_when_a_run_names_one(monkeypatch):
    from services.aggregator import faults

    parts = folding()[0].__dict__.copy()
    del parts["lock"], parts["_standings"]
    monkeypatch.delenv("CAIRN_CRASH_POINTS", raising=False)
    monkeypatch.delenv("CAIRN_CRASH_ALWAYS", raising=False)
    assert type(faults.folding(lambda: None, **parts)) is Folding
    monkeypatch.setenv("CAIRN_CRASH_POINTS", "signer.credential_stored,aggregator.award_sent")
    assert type(faults.folding(lambda: None, **parts)) is faults.FaultyFolding
