"""Claim emails on the running system: resend retires the old link, an expired link asks for a
fresh one, one-click unsubscribe stops the next email, and an SMTP outage loses none."""

import asyncio
import json
import re
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import update

from cairn.adapters.store import open_store
from cairn.adapters.store import tables as t
from devtools.smtp_sink import read_mailbox
from tests.conftest import ten_hours_badge
from tests.e2e.volunteering import (
    claim_link,
    organisation,
    shift,
    wait_for_mail,
    wait_until,
    wait_until_consumed,
)

pytestmark = pytest.mark.e2e


def earn(system, client, email: str) -> tuple[str, str]:
    """Posts 10 hours for `email`; returns the credential uuid and the claim link emailed."""
    before = len(read_mailbox(system.mail_dir))
    events = [shift(f"{email}-{day}", day, 5, email=email) for day in (1, 2)]
    assert client.post("/v1/events", json={"events": events}).status_code == 202
    link = claim_link(wait_for_mail(system.mail_dir, before + 1)[-1])
    page = httpx.get(link).text
    uuid = re.search(r'href="/credentials/([0-9a-f-]+)\.json"', page).group(1)
    return uuid, link


def expire_claim_links(system) -> None:
    """Time passes: every claim link's 30 days are over."""
    from cairn.adapters.secrets import load_or_create_master_key

    async def expire() -> None:
        store = open_store(
            f"sqlite+aiosqlite:///{system.var_dir / 'cairn.db'}",
            load_or_create_master_key(system.var_dir / "master.key"),
        )
        async with store.engine.begin() as conn:
            await conn.execute(update(t.ClaimToken).values(expires_at=datetime.now(UTC) - timedelta(days=1)))
        await store.close()

    asyncio.run(expire())


def test_resend_expiry_renewal_and_unsubscribe(system):
    client = organisation(system, "Riverside Food Bank", "riverside-mail")
    assert client.post("/v1/badge-classes", json=ten_hours_badge()).status_code == 201
    uuid, first_link = earn(system, client, "fay@example.org")
    [listed] = client.get("/v1/credentials").json()
    assert listed["email_status"] == "sent"

    # The organisation resends: a new email, a new link; the first link stops working.
    before = len(read_mailbox(system.mail_dir))
    resent = client.post(f"/v1/credentials/{uuid}/resend")
    assert resent.status_code == 202 and resent.json()["claim_generation"] == 1
    mail = wait_for_mail(system.mail_dir, before + 1)[-1]
    assert mail["Subject"] == "Your new link: Pantry volunteer: 10 hours"
    second_link = claim_link(mail)
    assert second_link != first_link
    assert httpx.get(first_link).status_code == 404
    assert httpx.get(second_link).status_code == 200
    other = organisation(system, "Elsewhere", "elsewhere-mail")
    assert other.post(f"/v1/credentials/{uuid}/resend").status_code == 404, "not another org's to resend"

    # Thirty days later the link has expired; the page offers a fresh one, to the same address.
    expire_claim_links(system)
    expired = httpx.get(second_link)
    assert expired.status_code == 410 and "Email me a fresh link" in expired.text
    before = len(read_mailbox(system.mail_dir))
    renewed = httpx.post(second_link + "/renew")
    assert renewed.status_code == 200 and 'id="renewed"' in renewed.text
    fresh = wait_for_mail(system.mail_dir, before + 1)[-1]
    assert fresh["To"] == mail["To"]
    assert httpx.get(claim_link(fresh)).status_code == 200

    # One-click unsubscribe (RFC 8058), then the next badge sends nothing.
    unsubscribe_url = fresh["List-Unsubscribe"].strip("<>")
    done = httpx.post(unsubscribe_url, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and 'id="unsubscribed"' in done.text
    forged = httpx.post(unsubscribe_url[:-4] + "0000")
    assert forged.status_code == 404
    assert (
        client.post(
            "/v1/badge-classes",
            json=ten_hours_badge(
                id="five", name="Five hours", criteria={"kind": "total_hours", "at_least": 5}
            ),
        ).status_code
        == 201
    )
    statuses = wait_until(
        lambda: {c["badge_class_id"]: c["email_status"] for c in client.get("/v1/credentials").json()},
        lambda found: found.get("five") == "suppressed",
        "the five-hour badge's email was never suppressed",
    )
    assert statuses == {"ten-hours": "sent", "five": "suppressed"}
    assert read_mailbox(system.mail_dir)[-1]["Message-ID"] == fresh["Message-ID"], (
        "no email after unsubscribing"
    )


def test_an_smtp_outage_then_thirty_percent_faults_each_claim_email_once(system):
    """The sink (as `cairn dev` runs it) refuses, drops and stalls every transaction for 4 s,
    then 30% for 6 s, while four volunteers earn a badge: the notifier rides it out, each claim
    email is stored exactly once (by Message-ID) and none is failed (issue 15)."""
    run_dir = system.var_dir / "run"
    kinds = ["refuse", "drop", "timeout"]

    def faults(rate: float, seconds: float) -> None:
        plan = {"rate": rate, "until": time.time() + seconds, "kinds": kinds, "timeout_seconds": 3}
        (run_dir / ".smtp-faults.json.tmp").write_text(json.dumps(plan))
        (run_dir / ".smtp-faults.json.tmp").replace(run_dir / "smtp-faults.json")

    client = organisation(system, "Hillside Pantry", "hillside-outage")
    assert client.post("/v1/badge-classes", json=ten_hours_badge()).status_code == 201
    before = len(read_mailbox(system.mail_dir))
    people = [f"outage{n}@example.org" for n in range(4)]
    try:
        faults(1.0, 4)
        started = time.monotonic()
        events = [shift(f"{email}-{day}", day, 5, email=email) for email in people for day in (1, 2)]
        assert client.post("/v1/events", json={"events": events}).status_code == 202
        time.sleep(max(0.0, 4 - (time.monotonic() - started)))
        assert len(read_mailbox(system.mail_dir)) == before, "nothing stored during the outage"
        faults(0.3, 6)
        wait_for_mail(system.mail_dir, before + len(people), timeout=90)
        wait_until_consumed(system)
    finally:
        faults(0.0, -1)
    mails = read_mailbox(system.mail_dir)[before:]
    ids = Counter(mail["Message-ID"] for mail in mails)
    assert len(ids) == len(people) and set(ids.values()) == {1}, ids
    assert sorted(mail["To"].addresses[0].addr_spec for mail in mails) == people
    statuses = [c["email_status"] for c in client.get("/v1/credentials").json()]
    assert statuses == ["sent"] * len(people)
    injected = json.loads((run_dir / "smtp-faults-injected.json").read_text())
    assert sum(injected.values()) >= 1, injected
