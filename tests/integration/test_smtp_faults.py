"""The notifier and Mailer against the real dev sink in fault mode (issue 15): while the sink
refuses, drops and stalls transactions, every claim email is stored exactly once (counted by
Message-ID in the mail dir), none is recorded failed, and the faults were really injected."""

import asyncio
import json
import secrets
import time
from collections import Counter
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest

from cairn.adapters.smtp import Mailer, TemporaryFailure
from cairn.adapters.store import open_store
from cairn.settings import Settings
from cairn.usecases.notifying import notify_earner
from devtools.dev import free_port
from devtools.smtp_faults import COUNTS_FILE, SWITCH_FILE, FaultPlan, FaultSwitch
from devtools.smtp_sink import read_mailbox, start_sink
from schemas.awards import CredentialIssued

pytestmark = pytest.mark.integration

CLIENT_TIMEOUT, SINK_TIMEOUT = 2.0, 3.0  # the client gives up before the stalled sink answers


def switch(run_dir: Path, rate: float, seconds: float, kinds: list[str]) -> None:
    """What the chaos driver writes (atomically, so the sink never reads half a file)."""
    plan = {"rate": rate, "until": time.time() + seconds, "kinds": kinds, "timeout_seconds": SINK_TIMEOUT}
    partial = run_dir / f".{SWITCH_FILE}.tmp"
    partial.write_text(json.dumps(plan))
    partial.replace(run_dir / SWITCH_FILE)


def injected(run_dir: Path) -> dict[str, int]:
    path = run_dir / COUNTS_FILE
    return json.loads(path.read_text()) if path.exists() else {}


@pytest.fixture
async def faulty(tmp_path):
    """A sink with faults switchable in tmp_path/run, a store with six credentials to email, and
    a Mailer with the real retry loop (short delays and timeouts, so the test is quick)."""
    run_dir, port = tmp_path / "run", free_port()
    run_dir.mkdir()
    sink = start_sink(tmp_path / "mail", "127.0.0.1", port, run_dir)
    settings = Settings(
        var_dir=tmp_path,
        smtp_port=port,
        smtp_timeout_seconds=CLIENT_TIMEOUT,
        public_url="https://cairn.example",
    )
    store = open_store(settings.resolved_database_url, secrets.token_bytes(32))
    await store.create_schema()
    org, _ = await store.create_org("Riverside Food Bank", "riverside")
    await store.upsert_recipients(org.id, {"r" * 64: ("sam@example.org", "Sam")})
    document = {"credentialSubject": {"achievement": {"name": "Pantry: 10 hours", "description": "Ten."}}}
    issued = []
    for n in range(1, 7):
        await store.insert_credential(
            credential_id=f"urn:uuid:c{n}",
            award_id=f"a{n}",
            org_id=org.id,
            badge_class_id="ten",
            recipient_key="r" * 64,
            document=document,
            issued_at=datetime.now(UTC),
        )
        issued.append(
            CredentialIssued(
                credential_id=f"urn:uuid:c{n}",
                award_id=f"a{n}",
                org_id=org.id,
                badge_class_id="ten",
                recipient_key="r" * 64,
                issued_at=datetime.now(UTC),
            )
        )
    mailer = Mailer(settings, base_delay=0.1, max_delay=0.5)
    yield store, settings, issued, run_dir, mailer
    await mailer.close()
    sink.stop()
    await store.close()


async def deliver(store, settings, issued, mailer) -> bool:
    """What the consumer does with the record: a relay in trouble raises, and the same record is
    tried again after a pause, until notify_earner is through."""
    while True:
        try:
            return await notify_earner(store, issued, settings, mailer)
        except TemporaryFailure as trouble:
            assert trouble.unreachable, f"every sink fault is the relay's trouble: {trouble}"
            await asyncio.sleep(0.2)


@pytest.mark.parametrize("kind", ["refuse", "drop", "timeout"])
async def test_each_fault_kind_fails_the_attempt_and_stores_nothing(faulty, kind):
    """Rate 1.0: every transaction fails, the Mailer says the relay is in trouble, nothing is
    kept; the first attempt after the switch goes off delivers."""
    store, settings, issued, run_dir, _ = faulty
    switch(run_dir, 1.0, 60, [kind])
    once = Mailer(settings.model_copy(update={"smtp_max_attempts": 2}), base_delay=0.01, max_delay=0.01)
    started = time.monotonic()
    with pytest.raises(TemporaryFailure) as trouble:
        await notify_earner(store, issued[0], settings, once)
    assert trouble.value.unreachable and injected(run_dir)[kind] == 2
    assert read_mailbox(settings.resolved_mail_dir) == []
    if kind == "timeout":
        assert time.monotonic() - started >= 2 * CLIENT_TIMEOUT, "no answer until the client gave up"
    switch(run_dir, 1.0, -1, [kind])  # until in the past: off
    assert await notify_earner(store, issued[0], settings, once) is True
    assert injected(run_dir)[kind] == 2
    assert len(read_mailbox(settings.resolved_mail_dir)) == 1
    await once.close()


async def test_an_outage_then_thirty_percent_faults_every_email_sent_exactly_once(faulty):
    """A full outage (rate 1.0) for 3 s, then 30% of transactions faulted, every kind: each
    credential's email is stored once, none is failed; more messages go through the Mailer until
    the 30% phase has injected at least three faults, and each of those is stored once too."""
    store, settings, issued, run_dir, mailer = faulty
    kinds = ["refuse", "drop", "timeout"]
    switch(run_dir, 1.0, 3, kinds)
    in_outage: dict[str, int] = {}

    async def then_thirty_percent() -> None:
        await asyncio.sleep(3)
        in_outage.update(injected(run_dir))
        switch(run_dir, 0.3, 60, kinds)

    change = asyncio.create_task(then_thirty_percent())
    for credential in issued:
        assert await deliver(store, settings, credential, mailer) is True
    await change
    assert sum(in_outage.values()) >= 2, f"the outage refused every attempt: {in_outage}"
    extra = 0
    while sum(injected(run_dir).values()) - sum(in_outage.values()) < 3 and extra < 60:
        extra += 1
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "a@example.org", "b@example.org", "x"
        message["Message-ID"] = f"<extra{extra}@test>"
        message.set_content("hello")
        while True:
            try:
                await mailer.send(message)
                break
            except TemporaryFailure as trouble:
                assert trouble.unreachable
    switch(run_dir, 0.0, -1, kinds)
    stored = Counter(mail["Message-ID"] for mail in read_mailbox(settings.resolved_mail_dir))
    expected = {f"<c{n}@claim.cairn>" for n in range(1, 7)} | {
        f"<extra{n}@test>" for n in range(1, extra + 1)
    }
    assert set(stored) == expected and set(stored.values()) == {1}, stored
    for credential in issued:
        assert (await store.notification(credential.credential_id)).status == "sent"
    assert await deliver(store, settings, issued[0], mailer) is False, "a redelivery sends nothing"


async def test_the_switch_is_read_again_when_the_file_changes(tmp_path):
    path = tmp_path / SWITCH_FILE
    faults = FaultSwitch(path)
    assert faults.plan() is None
    path.write_text(json.dumps({"rate": 0.3, "until": 100}))
    assert faults.plan() == FaultPlan(0.3, 100.0)
    path.write_text(json.dumps({"rate": 0.5, "until": 100}))
    assert faults.plan() == FaultPlan(0.5, 100.0), "the next transaction sees the change"
    path.write_text("not json")
    assert faults.plan() is None, "a broken file means no faults"
    path.unlink()
    assert faults.plan() is None


async def test_a_plain_sink_never_faults(tmp_path):
    """Without a run dir (as the other tests start it) the switch file is never read."""
    port = free_port()
    (tmp_path / "run").mkdir()
    switch(tmp_path / "run", 1.0, 60, ["refuse"])
    sink = start_sink(tmp_path / "mail", "127.0.0.1", port)
    mailer = Mailer(Settings(var_dir=tmp_path, smtp_port=port, smtp_max_attempts=1))
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@example.org", "b@example.org", "hello"
    message.set_content("hello")
    await mailer.send(message)
    await mailer.close()
    sink.stop()
    assert len(read_mailbox(tmp_path / "mail")) == 1
