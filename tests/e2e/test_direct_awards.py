"""Direct awards on the running system: a coordinator's award to three people becomes three
signed credentials and three claim emails through the same topics as earned badges; posting it
again, also after the gateway was killed and restarted, issues nothing more."""

import os
import re
import signal

import httpx
import pytest

from devtools.smtp_sink import read_mailbox
from tests.e2e.volunteering import organisation, wait_for_mail, wait_until, wait_until_consumed

pytestmark = pytest.mark.e2e

MANUAL = {
    "id": "volunteer-of-the-year",
    "name": "Volunteer of the year",
    "description": "Chosen by the coordinators.",
    "criteria_narrative": "Awarded by the coordinators each December.",
    "manual_only": True,
}
PEOPLE = [
    {"email": "ada@example.org", "name": "Ada Obi"},
    {"email": "bo@example.org", "name": "Bo Lund"},
    {"email": "cy@example.org", "name": "Cy Park"},
]
AWARD = {
    "recipients": PEOPLE,
    "narrative": "Kept the pantry open all winter.",
    "idempotency_key": "voty-2026",
}


def my_badges_page(system, email: str) -> str:
    before = len(read_mailbox(system.mail_dir))
    assert httpx.post(f"{system.public_url}/my-badges", data={"email": email}).status_code == 200
    mail = wait_for_mail(system.mail_dir, before + 1)[-1]
    return httpx.get(
        re.search(r"(http://\S+/my-badges/\S+)", mail.get_body(("plain",)).get_content())[1]
    ).text


def test_a_direct_award_to_three_issues_three_once_even_across_a_gateway_restart(system):
    client = organisation(system, "Riverside Food Bank", "riverside-direct")
    assert client.post("/v1/badge-classes", json=MANUAL).status_code == 201
    assert (
        client.post(
            "/v1/badge-classes", json={**MANUAL, "criteria": {"kind": "count", "at_least": 1}}
        ).status_code
        == 422
    )
    mails_before = len(read_mailbox(system.mail_dir))

    first = client.post("/v1/badge-classes/volunteer-of-the-year/awards", json=AWARD)
    assert first.status_code == 202 and first.json()["replayed"] is False
    mails = wait_for_mail(system.mail_dir, mails_before + 3)[mails_before:]
    assert sorted(m["To"] for m in mails) == sorted(f"{p['name']} <{p['email']}>" for p in PEOPLE)
    assert {m["Subject"] for m in mails} == {"You earned a badge: Volunteer of the year"}

    again = client.post("/v1/badge-classes/volunteer-of-the-year/awards", json=AWARD)
    assert again.status_code == 202 and again.json() == {**first.json(), "replayed": True}

    gateway = system.pid_of("gateway")
    os.kill(gateway, signal.SIGKILL)
    wait_until(
        lambda: _status(system) if system.pid_of("gateway") != gateway else 0,
        lambda status: status == 200,
        "the gateway was not restarted",
        timeout=60,
    )
    after_restart = client.post("/v1/badge-classes/volunteer-of-the-year/awards", json=AWARD)
    assert after_restart.status_code == 202 and after_restart.json()["replayed"] is True
    reused = client.post(
        "/v1/badge-classes/volunteer-of-the-year/awards", json={**AWARD, "narrative": "Other."}
    )
    assert reused.status_code == 409
    wait_until_consumed(system)

    issued = client.get("/v1/credentials", params={"badge": "volunteer-of-the-year"}).json()
    assert len(issued) == 3, issued
    assert sorted(c["id"] for c in issued) == sorted(a["credential_id"] for a in first.json()["awards"])
    assert len(read_mailbox(system.mail_dir)) == mails_before + 3, "one email each, never a second"

    document = httpx.get(f"{system.public_url}/credentials/{issued[0]['id']}.json").json()
    assert [e.get("narrative") for e in document["evidence"]] == [AWARD["narrative"]]
    verdict = httpx.post(f"{system.public_url}/v1/verify", json=document).json()
    assert verdict["outcome"] == "valid", verdict
    assert "Volunteer of the year" in my_badges_page(system, "bo@example.org")


def _status(system) -> int:
    try:
        return httpx.get(f"{system.public_url}/healthz", timeout=2).status_code
    except httpx.HTTPError:
        return 0
