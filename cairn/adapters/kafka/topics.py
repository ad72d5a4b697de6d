"""The one topic table: every Cairn topic, and for each record type the topic it goes to, its
CloudEvent type, its key and the rest of its envelope. A record's way onto Kafka is read here
and nowhere else; `cairn setup` creates what TOPICS lists.
"""

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from pydantic import BaseModel

from cairn.adapters.kafka.connection import Brokers, client_options
from schemas.activity import OrgActivity
from schemas.awards import (
    AwardGranted,
    AwardQuestioned,
    ClaimEmailResendRequested,
    CredentialIssued,
    ProgressUpdated,
)
from schemas.badge_class import BadgeClass
from schemas.webhooks import CredentialChanged, WebhookAttemptDue

ACTIVITY = "cairn.activity.v1"
BADGE_CLASSES = "cairn.badge-classes.v1"
AWARDS = "cairn.awards.v1"
AWARD_QUESTIONS = "cairn.award-questions.v1"
PROGRESS = "cairn.progress.v1"
CREDENTIALS = "cairn.credentials.v1"
CLAIM_EMAIL_RESENDS = "cairn.claim-email-resends.v1"
NOTIFICATIONS = "cairn.notifications.v1"
CREDENTIAL_CHANGES = "cairn.credential-changes.v1"  # claimed, revoked, suspended (for webhooks)
# Webhook attempts: the first of each delivery (and replays), then one topic per retry delay, so
# every record in a tier waits as long as the one before it and the consumer can sleep on the head.
WEBHOOK_DELIVERIES = "cairn.webhook-deliveries.v1"
WEBHOOK_RETRY_TIERS = 7  # as many as cairn.domain.webhooks.RETRY_DELAYS has delays
WEBHOOK_RETRIES = tuple(f"cairn.webhook-retries-{n}.v1" for n in range(1, WEBHOOK_RETRY_TIERS + 1))
REEVALUATE = "cairn.aggregator.reevaluate.v1"  # the aggregator's own: "re-check this recipient"
# Faust's changelog of the aggregator's progress table ("<app id>-<table>-changelog"). Made by
# `cairn setup` like the rest: left to the worker, a busy broker can answer its first metadata
# request with no partitions, and Faust then crashes the agent (PartitionsMismatch).
PROGRESS_CHANGELOG = "cairn-aggregator-progress-changelog"
# ... and of its table of processed positions (how far each activity partition was processed).
PROCESSED_CHANGELOG = "cairn-aggregator-processed-changelog"

ACTIVITY_TYPES = {
    "volunteer_shift": "org.cairn.activity.volunteer-shift-logged.v1",
    "workshop_attendance": "org.cairn.activity.workshop-attendance-recorded.v1",
    "activity_voided": "org.cairn.activity.activity-voided.v1",
}
BADGE_CLASS_TYPE = "org.cairn.badge-class.v1"
AWARD_GRANTED_TYPE = "org.cairn.award.granted.v1"
AWARD_QUESTIONED_TYPE = "org.cairn.award.questioned.v1"
PROGRESS_UPDATED_TYPE = "org.cairn.progress.updated.v1"
CREDENTIAL_ISSUED_TYPE = "org.cairn.credential.issued.v1"
CLAIM_EMAIL_RESEND_REQUESTED_TYPE = "org.cairn.claim-email.resend-requested.v1"
CREDENTIAL_CHANGED_TYPE = "org.cairn.credential.changed.v1"
WEBHOOK_ATTEMPT_DUE_TYPE = "org.cairn.webhook.attempt-due.v1"


def webhook_topic(attempt: int) -> str:
    """Attempt 1 on the deliveries topic; attempt N > 1 on retry tier N - 1 (the last tier for
    any later one, should a longer schedule be configured)."""
    if attempt <= 1:
        return WEBHOOK_DELIVERIES
    return WEBHOOK_RETRIES[min(attempt - 1, WEBHOOK_RETRY_TIERS) - 1]


def dlq(topic: str) -> str:
    return f"{topic}.dlq"


@dataclass(frozen=True)
class TopicSpec:
    name: str
    compacted: bool = False
    partitioned: bool = True


CONSUMED = [
    ACTIVITY,
    BADGE_CLASSES,
    AWARDS,
    AWARD_QUESTIONS,
    PROGRESS,
    CREDENTIALS,
    CLAIM_EMAIL_RESENDS,
    REEVALUATE,
    CREDENTIAL_CHANGES,
    WEBHOOK_DELIVERIES,
    *WEBHOOK_RETRIES,
]
TOPICS = [
    TopicSpec(ACTIVITY),
    TopicSpec(BADGE_CLASSES, compacted=True),
    TopicSpec(AWARDS),
    TopicSpec(AWARD_QUESTIONS),
    TopicSpec(PROGRESS, compacted=True),
    TopicSpec(CREDENTIALS),
    TopicSpec(CLAIM_EMAIL_RESENDS),
    TopicSpec(NOTIFICATIONS),
    TopicSpec(REEVALUATE),
    TopicSpec(CREDENTIAL_CHANGES),
    TopicSpec(WEBHOOK_DELIVERIES),
    *(TopicSpec(name) for name in WEBHOOK_RETRIES),
    TopicSpec(PROGRESS_CHANGELOG, compacted=True),
    TopicSpec(PROCESSED_CHANGELOG, compacted=True),
    *(TopicSpec(dlq(name), partitioned=False) for name in CONSUMED),
]


R = TypeVar("R", bound=BaseModel)


@dataclass(frozen=True)
class Route(Generic[R]):
    """How records of one type go onto Kafka: the topic, the CloudEvent type, the record key
    (which orders records per key within a partition) and the envelope's other attributes.
    `data` is what the envelope carries, when that is not the record itself."""

    record_type: type[R]
    topic: str
    cloudevent_type: Callable[[R], str]
    key: Callable[[R], str]
    event_id: Callable[[R], str]
    source: Callable[[R], str]
    org_id: Callable[[R], str]
    subject: Callable[[R], str]
    time: Callable[[R], datetime | None] = lambda record: None
    data: Callable[[R], BaseModel] = lambda record: record
    topic_of: Callable[[R], str] | None = None  # when records of the type go to several topics

    def topic_for(self, record: R) -> str:
        return self.topic if self.topic_of is None else self.topic_of(record)


def _activity_type(record: OrgActivity) -> str:
    return ACTIVITY_TYPES[record.activity.root.kind]


def _progress_id(update: ProgressUpdated) -> str:
    return f"progress:{update.org_id}:{update.recipient_key}:{update.as_of.isoformat()}"


ROUTES: dict[type[BaseModel], Route[Any]] = {
    route.record_type: route
    for route in [
        Route(
            OrgActivity,
            ACTIVITY,
            _activity_type,
            key=lambda r: f"{r.org_id}:{r.activity.root.recipient_key}",
            event_id=lambda r: r.event_id,
            source=lambda r: f"/orgs/{r.org_id}",
            org_id=lambda r: r.org_id,
            subject=lambda r: r.activity.root.recipient_key,
            data=lambda r: r.activity,
        ),
        Route(
            BadgeClass,
            BADGE_CLASSES,
            lambda _: BADGE_CLASS_TYPE,
            key=lambda r: f"{r.org_id}:{r.id}",
            event_id=lambda r: f"{r.org_id}:{r.id}:{r.version}",
            source=lambda r: f"/orgs/{r.org_id}",
            org_id=lambda r: r.org_id,
            subject=lambda r: r.id,
        ),
        Route(
            AwardGranted,
            AWARDS,
            lambda _: AWARD_GRANTED_TYPE,
            key=lambda r: r.award_id,
            event_id=lambda r: r.award_id,
            source=lambda _: "/aggregator",
            org_id=lambda r: r.org_id,
            subject=lambda r: r.recipient_key,
            time=lambda r: r.earned_at,
        ),
        Route(
            AwardQuestioned,
            AWARD_QUESTIONS,
            lambda _: AWARD_QUESTIONED_TYPE,
            key=lambda r: r.award_id,
            event_id=lambda r: f"questioned:{r.award_id}",
            source=lambda _: "/aggregator",
            org_id=lambda r: r.org_id,
            subject=lambda r: r.recipient_key,
        ),
        Route(
            ProgressUpdated,
            PROGRESS,
            lambda _: PROGRESS_UPDATED_TYPE,
            key=lambda r: f"{r.org_id}:{r.recipient_key}",
            event_id=_progress_id,
            source=lambda _: "/aggregator",
            org_id=lambda r: r.org_id,
            subject=lambda r: r.recipient_key,
        ),
        Route(
            CredentialIssued,
            CREDENTIALS,
            lambda _: CREDENTIAL_ISSUED_TYPE,
            key=lambda r: r.credential_id,
            event_id=lambda r: r.credential_id,
            source=lambda _: "/signer",
            org_id=lambda r: r.org_id,
            subject=lambda r: r.recipient_key,
        ),
        Route(
            ClaimEmailResendRequested,
            CLAIM_EMAIL_RESENDS,
            lambda _: CLAIM_EMAIL_RESEND_REQUESTED_TYPE,
            key=lambda r: r.credential_id,
            event_id=lambda r: f"{r.credential_id}#resend-{r.claim_generation}",
            source=lambda _: "/gateway",
            org_id=lambda r: r.org_id,
            subject=lambda r: r.recipient_key,
        ),
        Route(
            CredentialChanged,
            CREDENTIAL_CHANGES,
            lambda _: CREDENTIAL_CHANGED_TYPE,
            key=lambda r: r.credential_id,
            event_id=lambda r: f"{r.change}:{r.credential_id}",
            source=lambda _: "/gateway",
            org_id=lambda r: r.org_id,
            subject=lambda r: r.credential_id,
            time=lambda r: r.at,
        ),
        Route(
            WebhookAttemptDue,
            WEBHOOK_DELIVERIES,
            lambda _: WEBHOOK_ATTEMPT_DUE_TYPE,
            key=lambda r: r.endpoint_id,
            event_id=lambda r: f"{r.delivery_id}#{r.attempt}",
            source=lambda _: "/webhooks",
            org_id=lambda r: r.org_id,
            subject=lambda r: r.delivery_id,
            topic_of=lambda r: webhook_topic(r.attempt),
        ),
    ]
}


def route_of(record: BaseModel) -> Route[Any]:
    """The table's row for the record's type; a type not in the table has no way onto Kafka."""
    try:
        return ROUTES[type(record)]
    except KeyError:
        raise TypeError(f"{type(record).__name__} is not in the topic table") from None


async def ensure_topics(
    bootstrap: Brokers,
    partitions: int,
    specs: Iterable[TopicSpec] = TOPICS,
    replication_factor: int = 1,
    min_insync_replicas: int = 1,
) -> None:
    """Creates missing topics; a second run finds them there and changes nothing (an existing
    topic keeps its replication: changing it is a cluster operator's reassignment)."""
    admin = AIOKafkaAdminClient(**client_options(bootstrap))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(
                name=spec.name,
                num_partitions=partitions if spec.partitioned else 1,
                replication_factor=replication_factor,
                topic_configs=_configs(spec, min_insync_replicas),
            )
            for spec in specs
            if spec.name not in existing
        ]
        if wanted:
            try:
                await admin.create_topics(wanted)
            except TopicAlreadyExistsError:
                pass
    finally:
        await admin.close()


def _configs(spec: TopicSpec, min_insync_replicas: int) -> dict[str, str]:
    """Compaction where the table says so; min.insync.replicas only when it differs from Kafka's
    default of 1 (acks=all then waits for that many copies)."""
    configs = {"cleanup.policy": "compact"} if spec.compacted else {}
    if min_insync_replicas != 1:
        configs["min.insync.replicas"] = str(min_insync_replicas)
    return configs


async def missing_topics(
    bootstrap: Brokers, specs: Iterable[TopicSpec] = TOPICS, timeout: float = 5
) -> list[str]:
    """The topics `cairn setup` makes that the broker lacks (the gateway's readiness check).
    Raises (KafkaError, TimeoutError) if the broker cannot be reached within `timeout`."""
    admin = AIOKafkaAdminClient(**client_options(bootstrap), request_timeout_ms=int(timeout * 1000))
    try:
        async with asyncio.timeout(timeout):
            await admin.start()
            existing = set(await admin.list_topics())
    finally:
        await admin.close()
    return [spec.name for spec in specs if spec.name not in existing]
