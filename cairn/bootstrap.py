"""The composition root: settings -> adapters -> use cases, once per entry point.

Every process is wired here and nowhere else: the services' __main__ modules ask for their
object and run it; tests build the same use cases on in-memory fakes (tests/service/). Each
function returns plain objects that own what they opened (close() releases it).
"""

import asyncio
import logging
from dataclasses import dataclass, field
from weakref import WeakValueDictionary

import httpx

from cairn.adapters.kafka import topics
from cairn.adapters.kafka.consume import consume_forever, record_written_at
from cairn.adapters.kafka.publisher import KafkaPublisher
from cairn.adapters.kafka.rebalancing import sleep_unless_handed_over
from cairn.adapters.metrics import (
    AWARD_TO_CREDENTIAL,
    CREDENTIAL_TO_EMAIL,
    CREDENTIALS_SIGNED,
    EMAILS,
    seconds_since,
)
from cairn.adapters.smtp import Mailer
from cairn.adapters.store import Store, store_for
from cairn.adapters.webhook_http import HttpPoster
from cairn.crash_points import crash_point
from cairn.domain.failures import Failure, Transient, backoff, classify
from cairn.domain.records import NotificationRecord
from cairn.domain.webhooks import UrlPolicy
from cairn.ports import SYSTEM_CLOCK, Clock
from cairn.settings import Settings, get_settings
from cairn.usecases.issuing import issue_and_announce
from cairn.usecases.notifying import NotTakenHere, notify_earner
from cairn.usecases.provisioning import create_organisation
from cairn.usecases.webhooks import attempt_delivery, fan_out
from schemas.admin import OrgCreateIn
from schemas.awards import AwardGranted, AwardQuestioned, ClaimEmailResendRequested, CredentialIssued
from schemas.envelope import CloudEvent
from schemas.webhooks import CredentialChanged, WebhookAttemptDue

log = logging.getLogger("cairn.pipeline")


async def started_publisher(settings: Settings) -> KafkaPublisher:
    publisher = KafkaPublisher.for_broker(settings)
    await publisher.start()
    return publisher


def batched(settings: Settings) -> dict[str, int]:
    """The signer's and notifier's consume loops take batches and handle records of different
    keys side by side: at one record at a time they were the queue behind event-to-email."""
    return {"concurrency": settings.consumer_concurrency, "batch_records": settings.consumer_batch_records}


def emails_side_by_side(settings: Settings) -> dict[str, int]:
    """The notifier handles records of different credentials side by side (over up to
    `smtp_connections` SMTP connections). A kill cannot send an email twice: the row is marked
    handed over before the end of DATA (cairn.usecases.notifying).

    It may hold one record while the relay is in trouble (`smtp_give_up_after_rounds` rounds:
    45 to 90 minutes, hours if every attempt times out): past max.poll.interval the group would
    hand the record to the other notifier while this one still tries it, and both would send
    it when the relay is back. A killed notifier is still noticed by its heartbeats stopping."""
    return {**batched(settings), "max_poll_interval_ms": 24 * 3600 * 1000}


@dataclass
class Signer:
    """Consumes cairn.awards.v1; issues each award's credential and announces it."""

    settings: Settings
    store: Store
    publisher: KafkaPublisher
    clock: Clock = SYSTEM_CLOCK

    async def handle(self, event: CloudEvent[AwardGranted]) -> None:
        award = event.data
        issued = await issue_and_announce(
            self.store, self.publisher, award, self.settings.public_url, self.clock
        )
        CREDENTIALS_SIGNED.inc()
        AWARD_TO_CREDENTIAL.observe(seconds_since(record_written_at() or event.time))
        log.info(
            "credential %s signed for award %s",
            issued.credential_id,
            award.award_id,
            extra={"award_id": award.award_id, "credential_id": issued.credential_id, "org_id": award.org_id},
        )
        crash_point("signer.credential_emitted")

    async def run(self, stopping: asyncio.Event) -> None:
        await consume_forever(
            self.settings,
            "cairn-signer",
            topics.AWARDS,
            AwardGranted,
            self.handle,
            stopping,
            **batched(self.settings),
        )

    async def close(self) -> None:
        await self.publisher.stop()
        await self.store.close()


# How long a service starting while the database is away waits for it before giving up (and
# being restarted by its supervisor): longer than a restart of the database takes.
DATABASE_WAIT_SECONDS = 120.0


async def current_store(settings: Settings, wait: float = DATABASE_WAIT_SECONDS) -> Store:
    """The store, its database first brought to this Cairn's schema: every service does this at
    start (under a lock, so services starting together upgrade it once). A database that is down
    or restarting is waited for (up to `wait` seconds), so a service started meanwhile does not
    exit and restart in a loop."""
    store = store_for(settings)
    deadline = asyncio.get_running_loop().time() + wait
    tries = 0
    try:
        while True:
            try:
                await store.create_schema()
                return store
            except Exception as error:
                tries += 1
                left = deadline - asyncio.get_running_loop().time()
                if classify(error) is not Failure.TRANSIENT or left <= 0:
                    raise
                pause = min(left, backoff(tries, 0.5, 5.0))
                why = str(error).split("\n")[0]
                log.warning("database unavailable at start (%s); trying again in %.1fs", why, pause)
                await asyncio.sleep(pause)
    except BaseException:
        await store.close()
        raise


async def signer(settings: Settings | None = None) -> Signer:
    settings = settings or get_settings()
    return Signer(settings, await current_store(settings), await started_publisher(settings))


@dataclass
class Notifier:
    """Consumes cairn.credentials.v1 and cairn.claim-email-resends.v1; emails each earner a claim
    link, and a new one for each resend asked for."""

    settings: Settings
    store: Store
    mailer: Mailer
    # One claim email at a time per credential: an issue and a resend of one credential must not
    # both pass the notification check before either is sent. Other credentials' go on meanwhile.
    locks: WeakValueDictionary[str, asyncio.Lock] = field(default_factory=WeakValueDictionary)
    not_taken_here: NotTakenHere = field(default_factory=set)

    async def handle(
        self, event: CloudEvent[CredentialIssued] | CloudEvent[ClaimEmailResendRequested]
    ) -> None:
        lock = self.locks.setdefault(event.data.credential_id, asyncio.Lock())
        async with lock:
            before = await self.store.notification(event.data.credential_id)
            await notify_earner(self.store, event.data, self.settings, self.mailer, self.not_taken_here)
            after = await self.store.notification(event.data.credential_id)
        self.report(event, before, after)

    def report(
        self, event: CloudEvent, before: NotificationRecord | None, after: NotificationRecord | None
    ) -> None:
        """Counts and logs what this record changed in the credential's notification row (a
        redelivered record that changed nothing counts nothing)."""
        if after is None or after == before:
            return
        EMAILS.labels(after.status).inc()
        issued = event.data
        if after.status == "sent" and isinstance(issued, CredentialIssued):
            CREDENTIAL_TO_EMAIL.observe(seconds_since(record_written_at() or event.time))
        log.info(
            "claim email %s for credential %s: %s",
            after.message_id,
            issued.credential_id,
            after.status,
            extra={
                "credential_id": issued.credential_id,
                "award_id": getattr(issued, "award_id", None),
                "message_id": after.message_id,
                "status": after.status,
                "smtp_answer": after.last_error,
            },
        )

    async def run(self, stopping: asyncio.Event) -> None:
        await asyncio.gather(
            consume_forever(
                self.settings,
                "cairn-notifier",
                topics.CREDENTIALS,
                CredentialIssued,
                self.handle,
                stopping,
                **emails_side_by_side(self.settings),
            ),
            consume_forever(
                self.settings,
                "cairn-notifier-resends",
                topics.CLAIM_EMAIL_RESENDS,
                ClaimEmailResendRequested,
                self.handle,
                stopping,
                **emails_side_by_side(self.settings),
            ),
        )

    async def close(self) -> None:
        await self.mailer.close()
        await self.store.close()


async def notifier(settings: Settings | None = None) -> Notifier:
    settings = settings or get_settings()
    # its SMTP retries stop when the record's partition moves to another notifier mid-send
    mailer = Mailer(settings, sleep=sleep_unless_handed_over)
    return Notifier(settings, await current_store(settings), mailer)


def url_policy(settings: Settings) -> UrlPolicy:
    return UrlPolicy(settings.webhook_allow_loopback, settings.webhook_allow_private_networks)


@dataclass
class Webhooks:
    """Consumes the events organisations can subscribe to (credentials issued, changed, awards
    questioned) and fans each out to its endpoints; consumes the first attempts and one retry
    tier per delay, and POSTs each attempt when it is due. Its own service: an attempt can wait
    on a slow endpoint and a retry tier waits hours, neither of which may hold up claim emails."""

    settings: Settings
    store: Store
    publisher: KafkaPublisher
    http: httpx.AsyncClient
    clock: Clock = SYSTEM_CLOCK
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    async def fan_out(
        self,
        event: CloudEvent[CredentialIssued] | CloudEvent[CredentialChanged] | CloudEvent[AwardQuestioned],
    ) -> None:
        queued = await fan_out(self.store, self.publisher, event.data, self.settings.public_url, self.clock)
        for delivery in queued:
            log.info(
                "webhook %s queued for endpoint %s",
                delivery.event_type,
                delivery.endpoint_id,
                extra={"delivery_id": delivery.id, "org_id": delivery.org_id},
            )

    async def attempt(self, event: CloudEvent[WebhookAttemptDue]) -> None:
        due = event.data
        wait = (due.due_at - self.clock.now()).total_seconds()
        if wait > 0:
            try:
                await asyncio.wait_for(self.stopping.wait(), timeout=wait)
            except TimeoutError:
                pass
            else:
                raise Transient("stopping before the attempt was due")  # left uncommitted
        poster = HttpPoster(self.http, url_policy(self.settings), self.settings.webhook_timeout_seconds)
        done = await attempt_delivery(
            self.store,
            self.publisher,
            poster,
            due,
            self.clock,
            tuple(self.settings.webhook_retry_delays),
        )
        if done is not None:
            log.info(
                "webhook delivery %s attempt %d: %s",
                due.delivery_id,
                done.attempt,
                done.status_code or "no answer",
                extra={"delivery_id": due.delivery_id, "org_id": due.org_id, "status": done.status_code},
            )

    async def run(self, stopping: asyncio.Event) -> None:
        self.stopping = stopping
        longest_wait_ms = int(max(self.settings.webhook_retry_delays, default=0) * 1000) + 600_000
        sources = [
            ("credentials", topics.CREDENTIALS, CredentialIssued),
            ("changes", topics.CREDENTIAL_CHANGES, CredentialChanged),
            ("questions", topics.AWARD_QUESTIONS, AwardQuestioned),
        ]
        await asyncio.gather(
            *(
                consume_forever(self.settings, f"cairn-webhooks-{name}", topic, kind, self.fan_out, stopping)
                for name, topic, kind in sources
            ),
            *(
                consume_forever(
                    self.settings,
                    f"cairn-webhooks-{topic.removeprefix('cairn.webhook-')}",
                    topic,
                    WebhookAttemptDue,
                    self.attempt,
                    stopping,
                    max_poll_interval_ms=max(300_000, longest_wait_ms),
                    hand_over_seconds=0,  # its handler waits for the attempt's time: hand over now
                )
                for topic in (topics.WEBHOOK_DELIVERIES, *topics.WEBHOOK_RETRIES)
            ),
        )

    async def close(self) -> None:
        await self.http.aclose()
        await self.publisher.stop()
        await self.store.close()


async def webhooks(settings: Settings | None = None) -> Webhooks:
    settings = settings or get_settings()
    return Webhooks(
        settings, await current_store(settings), await started_publisher(settings), httpx.AsyncClient()
    )


@dataclass
class Gateway:
    """What the gateway's routes are given: the store, the publisher, the verifier's HTTP client
    and the mailer (sign-in links)."""

    settings: Settings
    store: Store
    publisher: KafkaPublisher
    http: httpx.AsyncClient
    mailer: Mailer

    async def close(self) -> None:
        await self.mailer.close()
        await self.http.aclose()
        await self.publisher.stop()
        await self.store.close()


async def gateway(settings: Settings | None = None) -> Gateway:
    settings = settings or get_settings()
    store = await current_store(settings)
    publisher = await started_publisher(settings)
    return Gateway(settings, store, publisher, httpx.AsyncClient(), Mailer(settings))


@dataclass
class StoreUser:
    """An entry point that needs only the settings and the store: the projector (its consumers
    are wired in services/projector) and the command line. The aggregator is wired by
    services/aggregator/app.build: Faust makes its Kafka clients itself."""

    settings: Settings
    store: Store

    async def close(self) -> None:
        await self.store.close()


async def projector(settings: Settings | None = None) -> StoreUser:
    settings = settings or get_settings()
    return StoreUser(settings, await current_store(settings))


def cli(settings: Settings | None = None) -> StoreUser:
    settings = settings or get_settings()
    return StoreUser(settings, store_for(settings))


async def setup(settings: Settings) -> None:
    """`cairn setup`: the database schema and the Kafka topics, made once before the services
    start, so that no two services race to create the same tables or topics."""
    await (await current_store(settings)).close()
    await topics.ensure_topics(
        settings,
        settings.topic_partitions,
        replication_factor=settings.topic_replication_factor,
        min_insync_replicas=settings.topic_min_insync_replicas,
    )


async def create_org(settings: Settings, new: OrgCreateIn) -> tuple[str, str]:
    """`cairn org create` and the demo: the new organisation's id and its first API key (shown
    once, stored hashed). Raises OrgExists for a taken slug."""
    parts = cli(settings)
    try:
        await parts.store.create_schema()
        org, api_key = await create_organisation(parts.store, new)
        return org.id, api_key
    finally:
        await parts.close()
