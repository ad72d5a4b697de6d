"""The gateway over real Kafka and a real SQLite store: auth, validation, records on the log."""

import asyncio
import json
import uuid

import pytest
from aiokafka import AIOKafkaConsumer
from fastapi.testclient import TestClient

from cairn.adapters.kafka import topics
from cairn.bootstrap import create_org, setup
from cairn.settings import Settings
from schemas.admin import OrgCreateIn
from services.gateway.app import create_app
from tests.conftest import ten_hours_badge

pytestmark = pytest.mark.integration

SHIFT = {
    "type": "volunteer_shift",
    "volunteer": {"email": "Sam@Example.org", "name": "Sam"},
    "started_at": "2026-11-01T09:00:00Z",
    "hours": 3,
}


async def read_topic(bootstrap: str, topic: str) -> list:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        group_id=None,
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        batches = await consumer.getmany(timeout_ms=3000)
        return [record for records in batches.values() for record in records]
    finally:
        await consumer.stop()


@pytest.fixture(scope="module")
def gateway(kafka, tmp_path_factory):
    settings = Settings(var_dir=tmp_path_factory.mktemp("gw"), kafka_bootstrap=kafka, topic_partitions=3)
    asyncio.run(setup(settings))
    org_a = asyncio.run(create_org(settings, OrgCreateIn(name="A", slug="org-a")))
    org_b = asyncio.run(create_org(settings, OrgCreateIn(name="B", slug="org-b")))
    with TestClient(create_app(settings)) as client:
        yield client, kafka, org_a, org_b


def auth(org) -> dict:
    return {"Authorization": f"Bearer {org[1]}"}


def test_requests_without_a_valid_key_are_refused(gateway):
    client, *_ = gateway
    assert client.post("/v1/events", json=SHIFT).status_code == 401
    assert client.post("/v1/events", json=SHIFT, headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/v1/credentials", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_bad_event_gets_422_with_field_and_reason(gateway):
    client, _, org_a, _ = gateway
    response = client.post(
        "/v1/events", json={**SHIFT, "id": "x", "volunteer": {"email": "nope"}}, headers=auth(org_a)
    )
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"][-2:] == ["volunteer", "email"] and "valid email" in error["msg"]
    backwards = {**SHIFT, "id": "y", "hours": None, "ended_at": "2026-11-01T08:00:00Z"}
    response = client.post("/v1/events", json=backwards, headers=auth(org_a))
    assert response.status_code == 422
    assert "ended_at must be after started_at" in response.json()["detail"][0]["msg"]
    broken = client.post("/v1/events", content=b"{not json", headers=auth(org_a))
    assert broken.status_code == 422 and "invalid JSON" in broken.text


def test_batch_is_all_or_nothing_with_the_item_index(gateway):
    client, bootstrap, org_a, _ = gateway
    marker = uuid.uuid4().hex
    good = {**SHIFT, "id": f"{marker}-good"}
    bad = {**SHIFT, "id": f"{marker}-bad", "hours": 30}
    response = client.post("/v1/events", json={"events": [good, bad]}, headers=auth(org_a))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][:3] == ["events", 1, "volunteer_shift"]
    records = asyncio.run(read_topic(bootstrap, topics.ACTIVITY))
    assert not [r for r in records if marker.encode() in r.value]


def test_accepted_event_is_on_kafka_without_personal_data(gateway):
    client, bootstrap, org_a, _ = gateway
    event_id = f"shift-{uuid.uuid4().hex}"
    response = client.post("/v1/events", json={**SHIFT, "id": event_id}, headers=auth(org_a))
    assert response.status_code == 202 and response.json() == {"accepted": [event_id]}
    [record] = [
        r for r in asyncio.run(read_topic(bootstrap, topics.ACTIVITY)) if event_id.encode() in r.value
    ]
    envelope = json.loads(record.value)
    assert envelope["specversion"] == "1.0" and envelope["id"] == event_id and envelope["orgid"] == org_a[0]
    assert record.key == f"{org_a[0]}:{envelope['data']['recipient_key']}".encode()
    assert envelope["data"]["hours"] == 3
    assert b"sam@example.org" not in record.value.lower() and b"Sam" not in record.value


def test_badge_class_goes_to_the_compacted_topic(gateway):
    client, bootstrap, _, org_b = gateway
    body = ten_hours_badge(id="ten")
    assert client.post("/v1/badge-classes", json=body, headers=auth(org_b)).json() == {
        "id": "ten",
        "version": 1,
    }
    assert client.post("/v1/badge-classes", json=body, headers=auth(org_b)).json()["version"] == 2
    bad = client.post(
        "/v1/badge-classes",
        json={**body, "criteria": {"kind": "total_hours", "at_least": -1}},
        headers=auth(org_b),
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"][-1] == "at_least"
    records = [
        r
        for r in asyncio.run(read_topic(bootstrap, topics.BADGE_CLASSES))
        if r.key == f"{org_b[0]}:ten".encode()
    ]
    assert [json.loads(r.value)["data"]["version"] for r in records] == [1, 2]
    listed = client.get("/v1/badge-classes", headers=auth(org_b)).json()
    assert [(b["id"], b["version"]) for b in listed] == [("ten", 2)]
    assert client.get("/v1/badge-classes", headers={"Authorization": f"Bearer {gateway[2][1]}"}).json() == []


def test_topics_exist_with_compaction(gateway):
    _, bootstrap, *_ = gateway

    async def describe() -> dict:
        from aiokafka.admin import AIOKafkaAdminClient
        from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            await topics.ensure_topics(bootstrap, 3)  # a second run changes nothing
            [result] = await admin.describe_configs(
                [ConfigResource(ConfigResourceType.TOPIC, topics.BADGE_CLASSES)]
            )
            return {entry[0]: entry[1] for entry in result.resources[0][4]}
        finally:
            await admin.close()

    assert asyncio.run(describe())["cleanup.policy"] == "compact"


def test_openapi_references_all_resolve(gateway):
    client, *_ = gateway
    document = client.get("/openapi.json").json()
    refs = set()

    def walk(node):
        if isinstance(node, dict):
            refs.update(v for k, v in node.items() if k == "$ref")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    schemas = document["components"]["schemas"]
    assert {r.removeprefix("#/components/schemas/") for r in refs} <= set(schemas)
    assert {"VolunteerShiftIn", "WorkshopAttendanceIn", "ActivityVoidedIn", "EventBatchIn"} <= set(schemas)


def test_openapi_every_json_body_has_an_example_and_every_route_a_summary(gateway):
    """The document is how integrators learn the API: each JSON request body shows an example."""
    client, *_ = gateway
    document = client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]

    def has_example(schema: dict) -> bool:
        if "$ref" in schema:
            schema = schemas[schema["$ref"].removeprefix("#/components/schemas/")]
        if "examples" in schema or "example" in schema:
            return True
        alternatives = schema.get("oneOf") or schema.get("anyOf") or []
        if alternatives:
            return all(has_example(a) for a in alternatives)
        return any("examples" in p for p in schema.get("properties", {}).values())

    missing = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary"), f"{method} {path} has no summary"
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body and not has_example(body["schema"]):
                missing.append(f"{method.upper()} {path}")
    assert missing == []
