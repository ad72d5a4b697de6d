"""A badge class that arrives while the aggregator is between settling a batch (without it) and
storing that batch's progress still reaches those recipients. The gap is widened by a fault
point; before the fix the re-evaluation scan ran in it, missed them, and the award never came
(found by the kill test in CI)."""

import pytest

from tests.conftest import system_with, ten_hours_badge
from tests.e2e.volunteering import organisation, shift, wait_for_mail, wait_until

pytestmark = pytest.mark.e2e


slow_storing_system = system_with("cairn-mid-batch", CAIRN_CRASH_POINTS="aggregator.slow_store")


def test_a_class_published_mid_batch_still_awards(slow_storing_system):
    system = slow_storing_system
    client = organisation(system, "Late Class Food Bank", "late-class")
    shifts = [shift("m1", 1, 6, email="noor@example.org"), shift("m2", 2, 4, email="noor@example.org")]
    assert client.post("/v1/events", json={"events": shifts}).status_code == 202

    marker = system.var_dir / "run" / "faulted-aggregator.slow_store"
    # the batch is settled without any class, not yet stored
    wait_until(marker.exists, bool, "the aggregator never settled the batch", 60, 0.05)
    assert client.post("/v1/badge-classes", json=ten_hours_badge()).status_code == 201

    mails = wait_for_mail(system.mail_dir, 1, timeout=60)
    assert len(mails) == 1 and "<noor@example.org>" in mails[0]["To"]
