"""One badge from logged shifts to a claimed, verified credential, on the real broker and SMTP."""

import asyncio
import json
import re
import time
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from cairn.adapters.kafka import topics
from devtools.smtp_sink import read_mailbox
from tests.conftest import ten_hours_badge
from tests.e2e.volunteering import shift, wait_for_mail, wait_for_progress, wait_until, wait_until_consumed

pytestmark = pytest.mark.e2e


def test_shifts_to_verified_credential(system, tmp_path):
    created = system.cairn("org", "create", "Riverside Food Bank", "--slug", "riverside").stdout
    api_key = re.search(r"api key (\S+)", created).group(1)
    client = httpx.Client(
        base_url=system.public_url, headers={"Authorization": f"Bearer {api_key}"}, timeout=30
    )

    assert client.post("/v1/badge-classes", json=ten_hours_badge()).status_code == 201

    # 4 + 3 + 2 = 9 distinct hours; shift-a is posted twice and must count once.
    for event_id, day, hours in [("shift-a", 1, 4), ("shift-a", 1, 4), ("shift-b", 2, 3), ("shift-c", 3, 2)]:
        response = client.post("/v1/events", json=shift(event_id, day, hours))
        assert response.status_code == 202, response.text
        assert response.json() == {"accepted": [event_id]}
    # the aggregator has folded all four (9 hours, the repeat counted once) and awarded nothing
    [badge] = wait_for_progress(client, "Sam@example.org", lambda b: b[0]["figures"][0]["achieved"] == 9)
    assert badge["figures"] == [{"measure": "hours", "achieved": 9.0, "required": 10.0, "seconds": 9 * 3600}]
    assert badge["awarded"] is False and badge["name"] == "Pantry volunteer: 10 hours"
    assert read_mailbox(system.mail_dir) == [], "9 distinct hours must not earn a 10-hour badge"

    last_posted = time.monotonic()
    assert client.post("/v1/events", json={"events": [shift("shift-d", 4, 1)]}).status_code == 202
    [mail] = wait_for_mail(system.mail_dir, 1)
    latency = time.monotonic() - last_posted
    print(f"\nlast shift posted -> claim email received: {latency:.2f}s")

    assert mail["To"] == "Sam Okafor <sam@example.org>"
    assert "Pantry volunteer: 10 hours" in mail["Subject"]
    text = mail.get_body(("plain",)).get_content()
    claim_url = re.search(r"(http://\S+/claim/\S+)", text).group(1)

    # The earner follows the link, sees the badge, downloads the credential.
    page = httpx.get(claim_url)
    assert page.status_code == 200
    assert "Pantry volunteer: 10 hours" in page.text and "Riverside Food Bank" in page.text
    download = re.search(r'id="download" href="([^"]+)"', page.text).group(1)
    credential = httpx.get(system.public_url + download).json()
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    assert credential["evidence"][0]["description"] == "10 hours (10 needed), earned on 4 November 2026."
    assert "- 10 hours (10 needed), earned on 4 November 2026." in text
    assert "sam@example.org" not in json.dumps(credential), "the subject is a salted hash, not the email"
    [badge] = wait_for_progress(client, "sam@example.org", lambda b: b[0]["awarded"])
    assert badge["figures"][0]["achieved"] == 10

    saved = tmp_path / "badge.json"
    saved.write_text(json.dumps(credential))
    host = system.public_url.removeprefix("http://")
    verified = system.cairn("verify", "--allow-host", host, str(saved), check=False)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.strip() == f"{saved}: valid"

    tampered = tmp_path / "tampered.json"
    credential["credentialSubject"]["achievement"]["name"] = "Pantry volunteer: 100 hours"
    tampered.write_text(json.dumps(credential))
    rejected = system.cairn("verify", "--allow-host", host, str(tampered), check=False)
    assert rejected.returncode == 1
    assert "signature does not match" in rejected.stdout

    # Posting the last shift again changes nothing: still one credential, one email (once every
    # stage has committed past the repeat, so a duplicate would have been made by now).
    assert client.post("/v1/events", json=shift("shift-d", 4, 1)).status_code == 202
    wait_until_consumed(system)
    assert len(read_mailbox(system.mail_dir)) == 1
    assert len(client.get("/v1/credentials").json()) == 1


def test_workshop_series_badge_then_a_void_questions_it(system):
    created = system.cairn("org", "create", "Northside Makers", "--slug", "northside").stdout
    api_key = re.search(r"api key (\S+)", created).group(1)
    client = httpx.Client(
        base_url=system.public_url, headers={"Authorization": f"Bearer {api_key}"}, timeout=30
    )
    badge = {
        "id": "bike-repair",
        "name": "Bike repair: 3 of 4 sessions",
        "description": "Came to three of the four autumn bike repair sessions.",
        "criteria_narrative": "Attend at least 3 of the 4 sessions of the autumn series.",
        "criteria": {"kind": "distinct", "field": "session", "at_least": 3, "of": ["1", "2", "3", "4"]},
    }
    refused = client.patch("/v1/org", json={"timezone": "Chicago"})
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "timezone"]
    assert (
        client.patch("/v1/org", json={"timezone": "America/Chicago"}).json()["timezone"] == "America/Chicago"
    )
    assert client.post("/v1/badge-classes", json=badge).status_code == 201
    [published] = client.get("/v1/badge-classes").json()
    assert published["timezone"] == "America/Chicago", "the class carries the organisation's time zone"
    before = len(read_mailbox(system.mail_dir))
    attendance = [
        {
            "id": f"kim-{n}",
            "type": "workshop_attendance",
            "attendee": {"email": "kim@example.org", "name": "Kim"},
            "series": "bike-repair",
            "session": str(n),
            "attended_at": f"2026-10-{n * 7:02d}T18:00:00Z",
        }
        for n in (1, 2, 4)
    ]
    assert client.post("/v1/events", json={"events": attendance}).status_code == 202
    mail = wait_for_mail(system.mail_dir, before + 1)[-1]
    assert mail["To"] == "Kim <kim@example.org>" and "Bike repair" in mail["Subject"]

    void = {
        "id": "void-kim-2",
        "type": "activity_voided",
        "voids": "kim-2",
        "reason": "signed in by mistake",
        "volunteer": {"email": "kim@example.org"},
    }
    assert client.post("/v1/events", json=void).status_code == 202
    mistyped = {**void, "id": "void-kim-9", "voids": "kim-9"}  # no such attendance was posted
    assert client.post("/v1/events", json=mistyped).status_code == 202
    progress = wait_until(
        lambda: client.get("/v1/recipients/kim@example.org/progress").json(),
        lambda body: body.get("pending_voids"),
        "the waiting void was never listed",
    )
    assert progress["pending_voids"] == ["kim-9"]
    questions = asyncio.run(read_questions(system.env["CAIRN_KAFKA_BOOTSTRAP"]))
    [question] = [q for q in questions if q["data"]["badge_class_id"] == "bike-repair"]
    assert question["data"]["evidence"] == [
        {"measure": "distinct sessions", "achieved": 2.0, "required": 3.0}
    ]
    assert [c["status"] for c in client.get("/v1/credentials").json()] == [
        "active"
    ]  # questioned, not revoked
    # The organisation sees the question through the API (and the dashboard) and decides.
    [open_question] = wait_until(
        lambda: client.get("/v1/award-questions").json(), bool, "the question never reached the store"
    )
    assert open_question["email"] == "kim@example.org" and open_question["decision"] is None
    assert open_question["credential_id"] == client.get("/v1/credentials").json()[0]["id"]
    kept = client.post(f"/v1/award-questions/{open_question['award_id']}/keep")
    assert kept.status_code == 204
    assert client.get("/v1/award-questions").json()[0]["decision"] == "kept"
    dashboard = httpx.Client(base_url=system.public_url, follow_redirects=True)
    assert dashboard.post("/dashboard/sign-in", data={"api_key": api_key}).status_code == 200
    page = dashboard.get("/dashboard/questions").text
    assert 'class="decision">kept<' in page and "2 of 3 distinct sessions" in page
    # This organisation's key learns nothing about Sam, who volunteers at the other one.
    assert client.get("/v1/recipients/sam@example.org/progress").status_code == 404


async def read_questions(bootstrap: str, timeout: float = 30) -> list[dict]:
    consumer = AIOKafkaConsumer(
        topics.AWARD_QUESTIONS,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        deadline = time.monotonic() + timeout
        found: list[dict] = []
        while not found and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=1000)
            found += [json.loads(r.value) for records in batches.values() for r in records]
        return found
    finally:
        await consumer.stop()


def test_badges_import_publishes_a_file_of_classes(system):
    api_key = re.search(r"api key (\S+)", system.cairn("org", "create", "Eastside Bikes").stdout).group(1)
    data = Path(__file__).parent.parent / "data" / "criteria" / "bike-repair.yaml"
    key = {"CAIRN_API_KEY": api_key}
    imported = system.cairn("badges", "import", str(data), check=False, env=key)
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.splitlines() == ["bike-repair: version 1", "fixer: version 1"]
    listed = httpx.get(
        f"{system.public_url}/v1/badge-classes", headers={"Authorization": f"Bearer {api_key}"}
    )
    assert sorted(b["id"] for b in listed.json()) == ["bike-repair", "fixer"]

    bad = data.parent / "not-there.yaml"
    refused = system.cairn("badges", "import", str(bad), check=False, env=key)
    assert refused.returncode == 1 and "not-there.yaml" in refused.stderr
