"""A Kafka broker SIGKILLed mid-run on a three-node cluster loses no award and sends no email twice.

The topics are replicated three times with min.insync.replicas 2 and every producer uses acks=all,
so with one node down the gateway still acknowledges events (two copies are enough), and the
services carry on once their partitions have new leaders. The killed node then restarts on its own
log dir and must catch up into every partition's in-sync replica set.
"""

import asyncio
import sys
import time
from collections import Counter
from collections.abc import Iterator

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from cairn.adapters.kafka import topics
from cairn.settings import REPO_ROOT
from devtools import kafka_broker
from devtools.dev import free_port
from devtools.smtp_sink import read_mailbox
from tests.conftest import Stopper, System, running_system, ten_hours_badge
from tests.e2e.volunteering import organisation, wait_until, wait_until_consumed

pytestmark = pytest.mark.e2e

VOLUNTEERS = 12
VAR = REPO_ROOT / "var"


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory, stopper: Stopper
) -> Iterator[list[kafka_broker.Broker]]:
    """Three combined broker+controller nodes on loopback; all stopped in the background after the
    module (after its system), even if the test or a start failed."""
    nodes = [(free_port(), free_port()) for _ in range(3)]
    brokers = kafka_broker.prepare_cluster(VAR, tmp_path_factory.mktemp("kafka-cluster"), nodes, 3)
    try:
        for broker in brokers:
            kafka_broker.start(broker, VAR, short_lived=True)
        yield brokers
    finally:
        # SIGKILL, not a clean stop: the data is thrown away, and the last node's controlled
        # shutdown would wait out its timeout for a quorum that left with the others.
        stopper.later(lambda: [kafka_broker.kill(broker) for broker in brokers])


@pytest.fixture(scope="module")
def clustered_system(
    cluster: list[kafka_broker.Broker], tmp_path_factory: pytest.TempPathFactory, stopper: Stopper
) -> Iterator[System]:
    # Its stop is queued before the cluster's, so the system stops before the brokers under it.
    env = {"CAIRN_TOPIC_REPLICATION_FACTOR": "3", "CAIRN_TOPIC_MIN_INSYNC_REPLICAS": "2"}
    bootstrap = kafka_broker.cluster_bootstrap(cluster)
    with running_system(bootstrap, tmp_path_factory.mktemp("cairn-failover"), env, stopper) as running:
        yield running


async def _partitions(bootstrap: str, names: list[str] | None = None) -> list[dict]:
    """Every partition of these topics (all topics if None): leader, replicas, isr."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
    await admin.start()
    try:
        described = await admin.describe_topics(names)
        return [
            {"topic": t["topic"], **p}
            for t in described
            for p in t["partitions"]
            if not t["topic"].startswith("__")
        ]
    finally:
        await admin.close()


def shifts(volunteer: int, hours: list[float], first_day: int = 1) -> list[dict]:
    return [
        {
            "id": f"v{volunteer}-s{first_day + n}",
            "type": "volunteer_shift",
            "volunteer": {"email": f"v{volunteer}@example.org"},
            "started_at": f"2026-11-{first_day + n:02d}T09:00:00Z",
            "hours": h,
        }
        for n, h in enumerate(hours)
    ]


def test_a_killed_broker_loses_nothing_and_duplicates_nothing(cluster, clustered_system):
    system = clustered_system
    bootstrap = kafka_broker.cluster_bootstrap(cluster)
    client = organisation(system, "Failover Food Bank", "failover")
    assert client.post("/v1/badge-classes", json=ten_hours_badge()).status_code == 201

    def post(events: list[dict]) -> None:
        response = client.post("/v1/events", json={"events": events})
        assert response.status_code == 202, response.text

    third = VOLUNTEERS // 3
    for v in range(third):  # before the kill: some finish, some are half way
        post(shifts(v, [6, 4] if v % 2 else [6]))

    # The node leading most activity partitions (not the first bootstrap address), SIGKILLed.
    leaders = Counter(p["leader"] for p in asyncio.run(_partitions(bootstrap, [topics.ACTIVITY])))
    victim_id = max((n for n in leaders if n != 1), key=leaders.__getitem__, default=2)
    victim = cluster[victim_id - 1]
    killed_at = time.monotonic()
    kafka_broker.kill(victim)

    post(shifts(0, [4], first_day=3))  # the first answer after the kill
    first_202 = time.monotonic() - killed_at
    for v in range(1, third):
        if not v % 2:
            post(shifts(v, [4], first_day=3))
    for v in range(third, 2 * third):
        post(shifts(v, [5, 5]))

    restarted_at = time.monotonic()
    kafka_broker.start(victim, VAR, short_lived=True)
    for v in range(2 * third, VOLUNTEERS):
        post(shifts(v, [2, 3, 5]))
    post(shifts(0, [6, 4]))  # a retry of a batch already accepted: no second award

    def rejoined(partitions: list[dict]) -> bool:
        return bool(partitions) and all(victim_id in p["isr"] for p in partitions)

    wait_until(
        lambda: asyncio.run(_partitions(bootstrap)),
        rejoined,
        f"node {victim_id} not back in every in-sync replica set",
        timeout=60,
        every=0.5,
    )
    isr_back = time.monotonic() - restarted_at
    print(
        f"\nkilled node {victim_id}; first 202 after the kill in {first_202:.1f}s; "
        f"restarted node back in every ISR after {isr_back:.1f}s",
        file=sys.stderr,
    )

    wait_until(
        lambda: read_mailbox(system.mail_dir),
        lambda mails: len(mails) >= VOLUNTEERS,
        f"expected {VOLUNTEERS} emails",
        timeout=120,
        every=0.5,
    )
    all_mail = time.monotonic() - killed_at
    wait_until_consumed(system)  # anything in flight that would be a duplicate has arrived by now
    mails = read_mailbox(system.mail_dir)
    assert Counter(m["To"] for m in mails) == Counter({f"v{v}@example.org": 1 for v in range(VOLUNTEERS)})
    assert len({m["Message-ID"] for m in mails}) == len(mails) == VOLUNTEERS
    credentials = client.get("/v1/credentials").json()
    assert len(credentials) == VOLUNTEERS == len({c["id"] for c in credentials})
    print(f"every email sent {all_mail:.1f}s after the kill", file=sys.stderr)
