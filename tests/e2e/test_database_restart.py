"""The whole system on PostgreSQL, and PostgreSQL stopped for ten seconds mid-stream (a fast
stop: open transactions rolled back, every connection cut), then started again: what an
operator's restart or a package upgrade does. Volunteers earn badges in batches before, during
and after; at the end each has exactly one credential and one email, nothing is in any
dead-letter topic, the gateway said 503 (not 500) while the database was away, and every
service is the process it was before (none died and was restarted)."""

import asyncio
import os
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from email.utils import parseaddr
from pathlib import Path

import httpx
import pytest

from cairn.adapters.kafka import topics
from devtools.postgres import Cluster, server_bin, start_cluster
from devtools.smtp_sink import read_mailbox
from devtools.topic_reader import read_dead_letters
from tests.conftest import Stopper, System, running_system, ten_hours_badge
from tests.e2e.volunteering import organisation, wait_for_mail, wait_until_consumed

pytestmark = pytest.mark.e2e

BATCH = 8  # volunteers per POST, each earning the badge with one 10-hour shift
DOWN_SECONDS = 10
SERVICES = ["gateway", "projector", "aggregator", "signer", "notifier", "webhooks"]


@pytest.fixture(scope="module")
def on_postgres(
    kafka_starting: str, tmp_path_factory: pytest.TempPathFactory, stopper: Stopper
) -> Iterator[tuple[System, Cluster]]:
    """`cairn dev` on a PostgreSQL cluster of its own (the test restarts it), removed after the
    system has stopped."""
    if server_bin() is None:
        pytest.skip("PostgreSQL server not installed (apt-get install postgresql)")
    cluster = start_cluster(Path(tempfile.mkdtemp(prefix="cairn-pg-e2e-")))
    try:
        env = {"CAIRN_DATABASE_URL": cluster.url, "CAIRN_API_BURST": "1000"}
        with running_system(kafka_starting, tmp_path_factory.mktemp("pg-restart"), env, stopper) as system:
            yield system, cluster
    finally:
        stopper.later(cluster.remove)


def batch(first: int) -> dict:
    return {
        "events": [
            {
                "id": f"v{n}-s1",
                "type": "volunteer_shift",
                "volunteer": {"email": f"v{n}@example.org", "name": f"Volunteer {n}"},
                "started_at": "2026-11-02T09:00:00Z",
                "hours": 10,
            }
            for n in range(first, first + BATCH)
        ]
    }


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_database_restart_loses_nothing_and_doubles_nothing(on_postgres):
    system, cluster = on_postgres
    client = organisation(system, "Restart Pantry", "restart-pantry")
    assert client.post("/v1/badge-classes", json=ten_hours_badge()).status_code == 201
    pids = {service: system.pid_of(service) for service in SERVICES}

    posted = 0
    for _ in range(3):  # the pipeline is busy with these when the database goes
        assert client.post("/v1/events", json=batch(posted)).status_code == 202
        posted += BATCH
    wait_for_mail(system.mail_dir, 1)  # the first emails are out; the rest are in flight

    stopped = threading.Event()
    back_at: list[float] = []

    def outage() -> None:
        cluster.stop()
        stopped.set()
        time.sleep(DOWN_SECONDS)
        cluster.start()
        back_at.append(time.monotonic())

    restart = threading.Thread(target=outage)
    restart.start()
    assert stopped.wait(30)
    during: Counter[int] = Counter()
    # the same batch, again and again, as a client retrying on 503 would; pg_ctl may say the
    # server is up a little after it already took a connection, so a 202 ends the outage too
    while (answer := client.post("/v1/events", json=batch(posted))).status_code != 202:
        assert answer.status_code == 503, answer.text
        assert answer.headers["Retry-After"] and "database is unavailable" in answer.json()["detail"]
        if not back_at:
            during[answer.status_code] += 1
        time.sleep(0.5 if not back_at else 0.1)
    accepted_at = time.monotonic()
    restart.join()
    first_202 = accepted_at - back_at[0]
    posted += BATCH
    for _ in range(2):
        assert client.post("/v1/events", json=batch(posted)).status_code == 202
        posted += BATCH

    earners = {f"v{n}@example.org" for n in range(posted)}
    mails = wait_for_mail(system.mail_dir, len(earners), timeout=60)
    last_email = time.monotonic() - back_at[0]
    wait_until_consumed(system)  # a duplicate a redelivery would make has been made by now
    mails = read_mailbox(system.mail_dir)
    print(
        f"\n{dict(during)} answers while PostgreSQL was down {DOWN_SECONDS}s; after it was back: "
        f"first 202 in {first_202:.2f}s, all {len(earners)} emails in {last_email:.1f}s "
        f"({len(mails)} messages)"
    )

    assert during[503] >= 1
    message_ids: dict[str, set[str]] = {}
    for mail in mails:
        message_ids.setdefault(parseaddr(str(mail["To"]))[1], set()).add(str(mail["Message-ID"]))
    assert set(message_ids) == earners
    assert all(len(ids) == 1 for ids in message_ids.values()), message_ids
    # and no second copy of one: the server had it when the database went, "sent" was not yet
    # recorded, and the notifier waited to record it rather than send it again
    assert len(mails) == len(earners)
    for email in earners:
        credentials = client.get("/v1/credentials", params={"email": email})
        assert credentials.status_code == 200
        assert [c["badge_class_id"] for c in credentials.json()] == ["ten-hours"], email

    bootstrap = system.env["CAIRN_KAFKA_BOOTSTRAP"]

    async def every_dlq() -> dict[str, list[dict]]:
        letters = await asyncio.gather(*(read_dead_letters(bootstrap, t) for t in topics.CONSUMED))
        return {t: found for t, found in zip(topics.CONSUMED, letters, strict=True) if found}

    assert asyncio.run(every_dlq()) == {}

    assert {service: system.pid_of(service) for service in SERVICES} == pids, "a service was restarted"
    assert all(alive(pid) for pid in pids.values())
    assert b"exited" not in (system.var_dir / "dev.log").read_bytes()
    assert httpx.get(f"{system.public_url}/readyz", timeout=10).status_code == 200
