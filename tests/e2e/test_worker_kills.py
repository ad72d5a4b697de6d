"""Two signers and two notifiers share their topics' partitions; each is SIGKILLed, twice, at
staggered moments while volunteers earn a badge in batches. `cairn dev` restarts them, the
group hands a dead worker's partitions to the other, and at the end every earner has exactly
one credential and exactly one email (counted at the SMTP server), and every worker did work.
"""

import json
import os
import signal
import time
from collections import Counter

import httpx
import pytest

from devtools.smtp_sink import read_mailbox
from tests.conftest import System, system_with, ten_hours_badge
from tests.e2e.volunteering import organisation, wait_until, wait_until_consumed

pytestmark = pytest.mark.e2e

PER_BATCH = 9
LAST_BATCH = 18  # once every worker is back: each then holds a partition, and gets awards on it
EARNERS = 4 * PER_BATCH + LAST_BATCH
WORKERS = ["signer", "signer-2", "notifier", "notifier-2"]
# after each batch, two workers die, staggered: every worker twice over the run
KILLS = [
    ("signer", "notifier-2"),
    ("notifier", "signer-2"),
    ("signer-2", "notifier"),
    ("notifier-2", "signer"),
]

workers_system = system_with(
    "cairn-workers", CAIRN_SIGNER_WORKERS="2", CAIRN_NOTIFIER_WORKERS="2", CAIRN_TOPIC_PARTITIONS="3"
)


def earner_shifts(batch: int, volunteers: int = PER_BATCH) -> list[dict]:
    """Two shifts (6 h and 4 h) for each volunteer of the batch: the ten-hour badge each."""
    return [
        {
            "id": f"b{batch}-v{v}-s{n}",
            "type": "volunteer_shift",
            "volunteer": {"email": f"w{batch}-{v}@example.org"},
            "started_at": f"2026-11-{n + 1:02d}T09:00:00Z",
            "hours": hours,
        }
        for v in range(volunteers)
        for n, hours in enumerate([6, 4])
    ]


def kill(system: System, worker: str) -> None:
    os.kill(system.pid_of(worker), signal.SIGKILL)


def ready(system: System, worker: str) -> bool:
    """The worker's /readyz (on its own metrics port, +100 for worker 2): its consumers joined."""
    service, _, n = worker.partition("-")
    port = int(system.env[f"CAIRN_METRICS_PORT_{service.upper()}"]) + (100 if n else 0)
    try:
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def log_messages(system: System, worker: str) -> list[str]:
    """The messages of a worker's JSON log lines, over all its restarts."""
    messages = []
    for line in (system.var_dir / "logs" / f"{worker}.log").read_text().splitlines():
        try:
            messages.append(json.loads(line)["message"])
        except (ValueError, KeyError, TypeError):
            continue
    return messages


def test_signers_and_notifiers_killed_mid_stream_lose_nothing_and_send_nothing_twice(workers_system):
    system = workers_system
    started = time.monotonic()
    client = organisation(system, "Many Hands Pantry", "many-hands")
    assert client.post("/v1/badge-classes", json=ten_hours_badge()).status_code == 201

    for batch, (first, second) in enumerate(KILLS):
        assert client.post("/v1/events", json={"events": earner_shifts(batch)}).status_code == 202
        time.sleep(1.0)  # awards on their way to the signers, credentials to the notifiers
        kill(system, first)
        time.sleep(0.7)
        kill(system, second)
        time.sleep(1.5)
    for worker in WORKERS:
        wait_until(lambda w=worker: ready(system, w), bool, f"{worker} ready again", 120, 0.5)
    last = earner_shifts(len(KILLS), LAST_BATCH)
    assert client.post("/v1/events", json={"events": last}).status_code == 202

    mails = wait_until(
        lambda: read_mailbox(system.mail_dir), lambda m: len(m) >= EARNERS, f"{EARNERS} emails", 300, 0.5
    )
    wait_until_consumed(system)  # anything in flight that would be a duplicate has arrived by now
    print(f"\nall {EARNERS} earners emailed {time.monotonic() - started:.1f}s after the first batch")

    mails = read_mailbox(system.mail_dir)
    expected = {f"w{b}-{v}@example.org": 1 for b in range(len(KILLS)) for v in range(PER_BATCH)}
    expected |= {f"w{len(KILLS)}-{v}@example.org": 1 for v in range(LAST_BATCH)}
    assert Counter(m["To"].addresses[0].addr_spec for m in mails) == Counter(expected)
    assert len({m["Message-ID"] for m in mails}) == len(mails) == EARNERS
    credentials = client.get("/v1/credentials").json()
    assert len(credentials) == EARNERS == len({c["id"] for c in credentials})

    dev_log = (system.var_dir / "dev.log").read_text()
    for worker in WORKERS:
        assert dev_log.count(f"{worker} exited (-9)") == 2, f"{worker} was not killed twice"
    for signer in ("signer", "signer-2"):
        assert any("signed for award" in m for m in log_messages(system, signer)), f"{signer} signed nothing"
    for notifier in ("notifier", "notifier-2"):
        sent = [
            m for m in log_messages(system, notifier) if m.startswith("claim email") and m.endswith(": sent")
        ]
        assert sent, f"{notifier} sent no claim email"
