"""A service that keeps dying is restarted with growing pauses and reported, and never takes
the healthy ones down with it. Here the notifier is killed every time it starts; before, `cairn
dev` gave up after five deaths in a minute ("notifier keeps dying") and stopped every service."""

import re

import pytest

from tests.conftest import system_with, ten_hours_badge
from tests.e2e.volunteering import organisation, shift, wait_for_progress, wait_until

pytestmark = pytest.mark.e2e

crashing_system = system_with("cairn-crashing", CAIRN_CRASH_ALWAYS="notifier.started")


def test_a_crashing_service_is_restarted_with_backoff_and_the_others_keep_working(crashing_system):
    system = crashing_system
    log = system.var_dir / "dev.log"
    reported = wait_until(
        log.read_text,
        lambda text: "notifier exited (-9); restart 6 in 16s" in text,
        "the notifier's sixth restart reported",
        120,
        1,
    )
    delays = [int(d) for d in re.findall(r"notifier exited \(-9\); restart \d+ in (\d+)s", reported)]
    assert delays[:6] == [0, 1, 2, 4, 8, 16]

    client = organisation(system, "Steady Food Bank", "steady")
    assert client.post("/v1/badge-classes", json=ten_hours_badge()).status_code == 201
    events = [shift(f"s-{day}", day, 5, email="sol@example.org") for day in (1, 2)]
    assert client.post("/v1/events", json={"events": events}).status_code == 202
    wait_for_progress(client, "sol@example.org", lambda b: b and b[0]["awarded"])
    [credential] = wait_until(
        lambda: client.get("/v1/credentials").json(), lambda found: len(found) == 1, "the credential issued"
    )
    assert credential["email_status"] == "pending"

    assert system.process.poll() is None, "cairn dev is still running"
    text = log.read_text()
    assert "keeps dying" not in text
    for healthy in ("gateway", "projector", "aggregator", "signer", "smtp-sink"):
        assert f"\n{healthy} exited" not in text, text
