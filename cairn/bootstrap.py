"""The composition root: settings -> adapters -> use cases, once per entry point.

Every process is wired here and nowhere else: the services' __main__ modules ask for their
object and run it; tests build the same use cases on in-memory fakes (tests/service/). Each
function returns plain objects that own what they opened (close() releases it).
"""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import httpx
from aiokafka import AIOKafkaProducer
from pydantic import BaseModel

from cairn.adapters.kafka import bus
from cairn.adapters.smtp import Mailer
from cairn.adapters.store import Store, store_for
from cairn.crash_points import crash_point
from cairn.ports import SYSTEM_CLOCK, Clock, Publisher
from cairn.settings import Settings, get_settings
from cairn.usecases.issuing import issue_and_announce
from cairn.usecases.notifying import notify_earner
from cairn.usecases.provisioning import create_organisation
from schemas.activity import ActivityRecordValue
from schemas.admin import OrgCreateIn
from schemas.awards import AwardGranted, CredentialIssued
from schemas.envelope import CREDENTIAL_ISSUED_TYPE, CloudEvent

# ---- BRIDGE until the merge (lead: replace with cairn/adapters/kafka/publisher.py) ----


class BusPublisher:
    """The Publisher port over today's cairn.adapters.kafka.bus: topic, key and envelope per
    record type, as the call sites chose them before the port. The Kafka adapter with its one
    topic table replaces this class at merge."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self._producer = producer

    @staticmethod
    def _addressed(record: BaseModel) -> tuple[str, bytes, CloudEvent]:
        """(topic, key, envelope) of a record: a bare record, or one already in its envelope
        because it carries an id and organisation the record itself does not (activity)."""
        if isinstance(record, CloudEvent) and isinstance(record.data, ActivityRecordValue):
            return bus.ACTIVITY, f"{record.orgid}:{record.data.root.recipient_key}".encode(), record
        if isinstance(record, CredentialIssued):
            resend = record.claim_generation > 0  # a resend asks the notifier for a later generation
            envelope = CloudEvent[CredentialIssued](
                id=f"{record.credential_id}#resend-{record.claim_generation}"
                if resend
                else record.credential_id,
                source="/gateway" if resend else "/signer",
                type=CREDENTIAL_ISSUED_TYPE,
                subject=record.recipient_key,
                orgid=record.org_id,
                data=record,
            )
            return bus.CREDENTIALS, record.credential_id.encode(), envelope
        raise TypeError(f"no topic for {type(record).__name__}")

    async def publish(self, record: BaseModel) -> None:
        topic, key, envelope = self._addressed(record)
        await self._producer.send_and_wait(topic, key=key, value=bus.encode(envelope))

    async def publish_all(self, records: Sequence[BaseModel]) -> None:
        sends = []
        for record in records:
            topic, key, envelope = self._addressed(record)
            sends.append(await self._producer.send(topic, key=key, value=bus.encode(envelope)))
        await asyncio.gather(*sends)


# ---- end of the bridge ----


async def started_producer(settings: Settings) -> AIOKafkaProducer:
    producer = bus.producer(settings.kafka_bootstrap)
    await producer.start()
    return producer


@dataclass
class Signer:
    """Consumes cairn.awards.v1; issues each award's credential and announces it."""

    settings: Settings
    store: Store
    producer: AIOKafkaProducer
    publisher: Publisher
    clock: Clock = SYSTEM_CLOCK

    async def handle(self, event: CloudEvent[AwardGranted]) -> None:
        await issue_and_announce(self.store, self.publisher, event.data, self.settings.public_url, self.clock)
        crash_point("signer.credential_emitted")

    async def run(self, stopping: asyncio.Event) -> None:
        await bus.consume_forever(
            self.settings.kafka_bootstrap, "cairn-signer", bus.AWARDS, AwardGranted, self.handle, stopping
        )

    async def close(self) -> None:
        await self.producer.stop()
        await self.store.close()


async def signer(settings: Settings | None = None) -> Signer:
    settings = settings or get_settings()
    producer = await started_producer(settings)
    return Signer(settings, store_for(settings), producer, BusPublisher(producer))


@dataclass
class Notifier:
    """Consumes cairn.credentials.v1; emails each earner a claim link."""

    settings: Settings
    store: Store
    mailer: Mailer

    async def handle(self, event: CloudEvent[CredentialIssued]) -> None:
        await notify_earner(self.store, event.data, self.settings, self.mailer)

    async def run(self, stopping: asyncio.Event) -> None:
        await bus.consume_forever(
            self.settings.kafka_bootstrap,
            "cairn-notifier",
            bus.CREDENTIALS,
            CredentialIssued,
            self.handle,
            stopping,
        )

    async def close(self) -> None:
        await self.mailer.close()
        await self.store.close()


def notifier(settings: Settings | None = None) -> Notifier:
    settings = settings or get_settings()
    return Notifier(settings, store_for(settings), Mailer(settings))


@dataclass
class Gateway:
    """What the gateway's routes are given: the store, Kafka (raw producer for the records not yet
    behind the port, and the Publisher), the verifier's HTTP client and the mailer."""

    settings: Settings
    store: Store
    producer: AIOKafkaProducer
    publisher: Publisher
    http: httpx.AsyncClient
    mailer: Mailer

    async def close(self) -> None:
        await self.mailer.close()
        await self.http.aclose()
        await self.producer.stop()
        await self.store.close()


async def gateway(settings: Settings | None = None) -> Gateway:
    settings = settings or get_settings()
    producer = await started_producer(settings)
    return Gateway(
        settings, store_for(settings), producer, BusPublisher(producer), httpx.AsyncClient(), Mailer(settings)
    )


@dataclass
class StoreUser:
    """An entry point that needs only the settings and the store: the aggregator's worker (its
    Kafka is Faust's), the projector and the command line."""

    settings: Settings
    store: Store

    async def close(self) -> None:
        await self.store.close()


def aggregator(settings: Settings | None = None) -> StoreUser:
    settings = settings or get_settings()
    return StoreUser(settings, store_for(settings))


def projector(settings: Settings | None = None) -> StoreUser:
    settings = settings or get_settings()
    return StoreUser(settings, store_for(settings))


def cli(settings: Settings | None = None) -> StoreUser:
    settings = settings or get_settings()
    return StoreUser(settings, store_for(settings))


async def setup(settings: Settings) -> None:
    """`cairn setup`: the database schema and the Kafka topics, made once before the services
    start, so that no two services race to create the same tables or topics."""
    store = store_for(settings)
    try:
        await store.create_schema()
    finally:
        await store.close()
    await bus.ensure_topics(settings.kafka_bootstrap, settings.topic_partitions)


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
