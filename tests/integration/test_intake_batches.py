"""Group commit of POST /v1/events against a real broker (acks=all) and real stores (SQLite and
PostgreSQL): requests in flight together share one batch and are all acknowledged; a batch the
broker refuses fails every request in it, and none of its events is recorded as accepted."""

import asyncio
import secrets
import uuid

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError
from sqlalchemy import text

from cairn import bootstrap
from cairn.adapters.kafka import codec, topics
from cairn.adapters.kafka.publisher import KafkaPublisher
from cairn.adapters.store import open_store
from cairn.domain.identity import recipient_key
from cairn.settings import Settings
from cairn.usecases.intake_batches import IntakeBatcher
from schemas.activity import ActivityRecordValue
from schemas.admin import OrgCreateIn
from services.gateway.app import create_app
from tests.service.flow import shift

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def activity_topic(kafka: str) -> str:
    asyncio.run(topics.ensure_topics(kafka, 3))
    return kafka


@pytest.fixture(params=["sqlite", "postgresql"])
async def parts(request, activity_topic, tmp_path):
    """A real store (the param's database) and a started publisher on the module's broker."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'cairn.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    store = open_store(url, secrets.token_bytes(32))
    await store.create_schema()
    publisher = KafkaPublisher.for_broker(activity_topic)
    await publisher.start()
    yield store, publisher, activity_topic
    await publisher.stop()
    if request.param == "postgresql":
        async with store.engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    await store.close()


async def on_kafka(bootstrap: str, prefix: str) -> list[tuple[str, str, str]]:
    """(event id, org id, recipient key) of the activity records whose event ids start with
    `prefix` (each test its own)."""
    consumer = AIOKafkaConsumer(
        topics.ACTIVITY, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    found = []
    try:
        while batches := await consumer.getmany(timeout_ms=1500):
            for records in batches.values():
                for record in records:
                    event = codec.decode(record.value, ActivityRecordValue)
                    found += [(event.id, event.orgid, event.subject)] if event.id.startswith(prefix) else []
    finally:
        await consumer.stop()
    return found


async def two_orgs(store):
    return [(await store.create_org(name, f"{name}-{uuid.uuid4().hex[:8]}"))[0] for name in ("a", "b")]


async def test_requests_in_flight_together_share_a_batch_and_are_all_acknowledged(parts):
    store, publisher, bootstrap = parts
    org_a, org_b = await two_orgs(store)
    intake = IntakeBatcher(store, publisher)
    prefix = f"ok-{uuid.uuid4().hex[:6]}-"
    requests = [
        (org_a if n % 2 else org_b, [shift(f"{prefix}{n}", f"p{n % 5}@example.org", n % 20, 2)])
        for n in range(20)
    ]

    answers = await asyncio.gather(*(intake.accept(org, events) for org, events in requests))

    assert answers == [[events[0].id] for _, events in requests]
    assert intake.batches == 1, "the twenty requests went in one batch"
    records = await on_kafka(bootstrap, prefix)
    assert sorted(r[0] for r in records) == sorted(f"{prefix}{n}" for n in range(20))
    for org in (org_a, org_b):
        secret = await store.org_secret(org.id)
        mine = [r for r in records if r[1] == org.id]
        assert len(mine) == 10
        emails = {f"p{n % 5}@example.org" for n in range(20) if (n % 2) == (org is org_a)}
        people = {recipient_key(secret, email) for email in emails}
        assert {r[2] for r in mine} == people, "keyed with the org's own secret"
        assert {r.recipient_key for r in await store.recipients(org.id)} == people, "each org its own"
        for key in people:
            assert await store.activity_history(org.id, key), "the accepted activity is in the history"


async def test_a_batch_the_broker_refuses_fails_every_request_in_it(parts):
    store, publisher, bootstrap = parts
    [org, _] = await two_orgs(store)
    intake = IntakeBatcher(store, publisher)
    prefix = f"no-{uuid.uuid4().hex[:6]}-"
    await max_message_bytes(bootstrap, "64")  # every record batch is bigger: the broker refuses it
    try:
        answers = await asyncio.gather(
            *(intake.accept(org, [shift(f"{prefix}{n}", f"q{n}@example.org", n, 1)]) for n in range(8)),
            return_exceptions=True,
        )
    finally:
        await max_message_bytes(bootstrap, "1048588")
    assert intake.batches == 0
    assert all(isinstance(answer, KafkaError) for answer in answers), answers
    assert await on_kafka(bootstrap, prefix) == []
    secret = await store.org_secret(org.id)
    for n in range(8):
        assert await store.activity_history(org.id, recipient_key(secret, f"q{n}@example.org")) == []

    assert await intake.accept(org, [shift(f"{prefix}later", "q0@example.org", 9, 1)]) == [f"{prefix}later"]
    assert [r[0] for r in await on_kafka(bootstrap, prefix)] == [f"{prefix}later"]


async def max_message_bytes(bootstrap: str, value: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        resource = ConfigResource(ConfigResourceType.TOPIC, topics.ACTIVITY, {"max.message.bytes": value})
        await admin.alter_configs([resource])
    finally:
        await admin.close()


async def test_concurrent_posts_are_all_answered_202_with_fewer_batches(activity_topic, tmp_path):
    """Through the gateway itself (its lifespan: real SQLite, real Kafka)."""
    settings = Settings(var_dir=tmp_path, kafka_bootstrap=activity_topic, topic_partitions=3)
    await bootstrap.setup(settings)
    _, api_key = await bootstrap.create_org(settings, OrgCreateIn(name="C", slug="org-c"))
    app = create_app(settings)
    prefix = f"http-{uuid.uuid4().hex[:6]}-"
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://cairn.test") as client:
            headers = {"Authorization": f"Bearer {api_key}"}
            body = lambda n: shift(f"{prefix}{n}", f"h{n}@example.org", n, 1).model_dump(mode="json")  # noqa: E731
            answers = await asyncio.gather(
                *(client.post("/v1/events", json=body(n), headers=headers) for n in range(24))
            )
            bad = await client.post("/v1/events", json={**body(99), "hours": -1}, headers=headers)
        batches = app.state.intake.batches
    assert [a.status_code for a in answers] == [202] * 24
    assert [a.json()["accepted"] for a in answers] == [[f"{prefix}{n}"] for n in range(24)]
    assert batches < 24, "requests in flight together were batched"
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "hours"
    assert len(await on_kafka(activity_topic, prefix)) == 24
