"""The aggregator notices assigned partitions it never processes (a faust-streaming 0.15.3 defect,
upstream #471 and #629) and exits to be restarted; nothing is lost. The stall is injected: the
worker pauses its own activity partitions after its first batch."""

import pytest

from tests.conftest import system_with, ten_hours_badge
from tests.e2e.test_crash_recovery import shifts
from tests.e2e.volunteering import organisation, wait_for_mail, wait_until

pytestmark = pytest.mark.e2e


stalling_system = system_with(
    "cairn-stall", CAIRN_CRASH_POINTS="aggregator.stop_fetching", CAIRN_AGGREGATOR_STALL_SECONDS="5"
)


def test_a_stuck_worker_restarts_itself_and_loses_nothing(stalling_system):
    system = stalling_system
    client = organisation(system, "Stuck Food Bank", "stuck")
    assert client.post("/v1/badge-classes", json=ten_hours_badge()).status_code == 201
    assert client.post("/v1/events", json={"events": shifts(0, [6, 4])}).status_code == 202
    marker = system.var_dir / "run" / "faulted-aggregator.stop_fetching"
    wait_until(marker.exists, bool, "the aggregator never processed a batch", 60)
    later = [s for v in range(1, 5) for s in shifts(v, [5, 5])]
    assert client.post("/v1/events", json={"events": later}).status_code == 202

    mails = wait_for_mail(system.mail_dir, 5, timeout=120)
    assert sorted(m["To"] for m in mails) == [f"v{v}@example.org" for v in range(5)]
    assert "aggregator exited (70); restart 1 in" in (system.var_dir / "dev.log").read_text()
    logs = system.var_dir / "logs"
    assert "unprocessed; exiting to be restarted" in (logs / "aggregator.log").read_text()
