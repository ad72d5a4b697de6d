"""Records acknowledged (and so committed) without the agent processing them are read again.

faust-streaming 0.15.3 did this in the two-worker kill test: one volunteer's records were
committed, never processed, and the award never came. Here a fault point makes the agent drop
its first batch, which Faust then acknowledges; the watchdog sees the commit ahead of what the
table says was processed, seeks back, and the awards come."""

import pytest

from tests.conftest import system_with, ten_hours_badge
from tests.e2e.volunteering import organisation, shift, wait_for_mail, wait_until

pytestmark = pytest.mark.e2e


dropping_system = system_with("cairn-drop", CAIRN_CRASH_POINTS="aggregator.drop_batch")


def test_a_batch_committed_unprocessed_is_read_again(dropping_system):
    system = dropping_system
    client = organisation(system, "Dropped Batch Food Bank", "dropped")
    assert client.post("/v1/badge-classes", json=ten_hours_badge()).status_code == 201
    log = system.var_dir / "logs" / "aggregator.log"
    # the class is in the catalog first: only the dropped batch stands between the shifts and the awards
    wait_until(log.read_text, lambda text: "class ten-hours v1 loaded" in text, "the class never loaded")
    # The first batch (one volunteer's shifts) is dropped; then more volunteers follow, most of
    # them on the same partition, so the partition's processing moves on past the dropped records.
    dropped = "d0@example.org"
    assert client.post("/v1/events", json={"events": two_shifts(dropped)}).status_code == 202
    marker = system.var_dir / "run" / "faulted-aggregator.drop_batch"
    wait_until(marker.exists, bool, "the aggregator never took a batch")
    later = [f"d{n}@example.org" for n in range(1, 9)]
    shifts = [s for email in later for s in two_shifts(email)]
    assert client.post("/v1/events", json={"events": shifts}).status_code == 202

    mails = wait_for_mail(system.mail_dir, 9, timeout=90)
    assert sorted(m["To"].addresses[0].addr_spec for m in mails) == sorted([dropped, *later])
    assert "was committed past what was processed" in log.read_text()


def two_shifts(email: str) -> list[dict]:
    return [shift(f"{email}-{day}", day, 5, email=email) for day in (1, 2)]
