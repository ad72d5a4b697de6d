"""One bad record never stops the pipeline, on the real broker: the signer, the notifier and
the gateway's projections each meet a record they can never process (poison put where it can
still arrive: straight into the store or onto the topic), send it to the topic's .dlq with its
cause after a bounded number of attempts, and go on with the next records. No service exits.

Before: the notifier crash-looped on a CR/LF name until `cairn dev` stopped every service, the
signer on an award it could not sign, and a projection's consumer task died for good."""

import sqlite3
from datetime import UTC, datetime

import httpx
import pytest

from cairn.adapters.kafka import codec, topics
from cairn.adapters.kafka.topics import AWARD_QUESTIONED_TYPE, PROGRESS_UPDATED_TYPE
from devtools.topic_reader import dead_letters, write_raw
from schemas.awards import AwardQuestioned, ProgressUpdated
from schemas.envelope import CloudEvent
from tests.conftest import System, ten_hours_badge
from tests.e2e.volunteering import organisation, shift, wait_for_mail, wait_for_progress, wait_until

pytestmark = pytest.mark.e2e

A_KEY = "a" * 64


def _database(system: System) -> sqlite3.Connection:
    return sqlite3.connect(system.var_dir / "cairn.db", timeout=30)


def _earn(client: httpx.Client, email: str, prefix: str, name: str | None = "Sam Okafor") -> None:
    events = [shift(f"{prefix}-{day}", day, 5, email=email) for day in (1, 2)]
    for event in events:
        event["volunteer"]["name"] = name
    assert client.post("/v1/events", json={"events": events}).status_code == 202


def _letter_for(bootstrap: str, topic: str, needle: str, timeout: float = 60) -> dict:
    letters = wait_until(
        lambda: dead_letters(bootstrap, topic),
        lambda found: any(needle in letter["value"] for letter in found),
        f"a record with {needle} in {topics.dlq(topic)}",
        timeout,
        1,
    )
    return next(letter for letter in letters if needle in letter["value"])


def _no_service_exited(system: System) -> None:
    log = (system.var_dir / "dev.log").read_text()
    assert "exited" not in log, log
    assert system.process.poll() is None


def test_a_recipient_name_with_a_line_break_goes_to_the_dlq_and_mail_goes_on(system, kafka):
    client = organisation(system, "Harbour Pantry", "harbour")
    assert client.post("/v1/badge-classes", json=ten_hours_badge()).status_code == 201
    assert client.post("/v1/events", json=shift("m-1", 1, 9, email="mallory@example.org")).status_code == 202
    wait_for_progress(client, "mallory@example.org", lambda b: b and b[0]["figures"][0]["achieved"] == 9)
    with _database(system) as db:  # the API refuses such a name; an older row may still hold one
        db.execute(
            "UPDATE recipients SET name = ? WHERE email = ?",
            ("Mallory\r\nBcc: evil@example.org", "mallory@example.org"),
        )
    last = shift("m-2", 2, 1, email="mallory@example.org")
    del last["volunteer"]["name"]  # a shift without a name leaves the stored one as it is
    assert client.post("/v1/events", json=last).status_code == 202

    [credential] = wait_until(
        lambda: client.get("/v1/credentials", params={"email": "mallory@example.org"}).json(),
        lambda found: len(found) == 1 and found[0]["email_status"] == "failed",
        "mallory's claim email recorded as failed",
        60,
        0.5,
    )
    assert "CR or LF" in credential["email_error"], credential
    letter = _letter_for(kafka, topics.CREDENTIALS, credential["id"])
    assert letter["error"].startswith("UnsafeHeader: To:") and "CR or LF" in letter["error"], letter
    assert letter["topic"] == topics.CREDENTIALS and letter["attempts"] == 1

    _earn(client, "grace@example.org", "g")
    mails = wait_for_mail(system.mail_dir, 1)
    assert [m["To"].addresses[0].addr_spec for m in mails] == ["grace@example.org"]
    assert all(m["Bcc"] is None for m in mails)
    assert b"evil@example.org" not in b"".join(p.read_bytes() for p in system.mail_dir.glob("*.eml"))
    _no_service_exited(system)


def test_an_award_the_signer_keeps_failing_on_goes_to_the_dlq_and_awards_go_on(system, kafka):
    broken = organisation(system, "Keyless Kitchen", "keyless")
    assert broken.post("/v1/badge-classes", json=ten_hours_badge()).status_code == 201
    with _database(system) as db:  # its signing key is gone: every award of it fails alike
        db.execute(
            "UPDATE issuer_keys SET active = 0 WHERE org_id = (SELECT id FROM organisations WHERE slug = ?)",
            ("keyless",),
        )
    _earn(broken, "kai@example.org", "k")
    letter = _letter_for(kafka, topics.AWARDS, '"badge_class_id":"ten-hours"')
    assert "LookupError" in letter["error"] and "no active issuer key" in letter["error"], letter
    assert letter["attempts"] == 3, "dead-lettered after the bounded attempts, not at the first"

    good = organisation(system, "Quay Soup Kitchen", "quay")
    assert good.post("/v1/badge-classes", json=ten_hours_badge()).status_code == 201
    before = len(wait_for_mail(system.mail_dir, 0))
    _earn(good, "quinn@example.org", "q")
    mails = wait_for_mail(system.mail_dir, before + 1)
    assert "quinn@example.org" in [m["To"].addresses[0].addr_spec for m in mails]
    assert broken.get("/v1/credentials").json() == []
    _no_service_exited(system)


def test_a_projection_record_the_store_refuses_goes_to_the_dlq_and_projections_go_on(system, kafka):
    nowhere = dict(org_id="no-such-org", recipient_key=A_KEY)
    progress = CloudEvent[ProgressUpdated](
        id="poison-progress",
        source="/test",
        type=PROGRESS_UPDATED_TYPE,
        orgid="no-such-org",
        data=ProgressUpdated(**nowhere, as_of=datetime.now(UTC), badges=[]),
    )
    question = CloudEvent[AwardQuestioned](
        id="poison-question",
        source="/test",
        type=AWARD_QUESTIONED_TYPE,
        orgid="no-such-org",
        data=AwardQuestioned(**nowhere, award_id="poison-award", badge_class_id="b", reason="r", evidence=[]),
    )
    write_raw(kafka, topics.PROGRESS, b"no-such-org:" + A_KEY.encode(), codec.encode(progress))
    write_raw(kafka, topics.AWARD_QUESTIONS, b"poison-award", codec.encode(question))

    for topic in (topics.PROGRESS, topics.AWARD_QUESTIONS):
        letter = _letter_for(kafka, topic, "no-such-org")
        assert "IntegrityError" in letter["error"] and letter["attempts"] == 3, letter

    client = organisation(system, "Dockside Pantry", "dockside")
    assert client.post("/v1/badge-classes", json=ten_hours_badge()).status_code == 201
    assert client.post("/v1/events", json=shift("d-1", 3, 2, email="dee@example.org")).status_code == 202
    wait_for_progress(client, "dee@example.org", lambda b: b and b[0]["figures"][0]["achieved"] == 2)
    _no_service_exited(system)
