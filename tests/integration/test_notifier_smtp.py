"""The notifier against a real SMTP server on loopback and a real SQLite store."""

import secrets
from datetime import UTC, datetime

import pytest

from cairn.dev import free_port
from cairn.notifying import notify_earner
from cairn.settings import Settings
from cairn.smtp import read_mailbox, start_sink
from cairn.store import open_store
from schemas.awards import CredentialIssued

pytestmark = pytest.mark.integration


@pytest.fixture
async def setup(tmp_path):
    port = free_port()
    sink = start_sink(tmp_path / "mail", "127.0.0.1", port)
    settings = Settings(var_dir=tmp_path, smtp_port=port, public_url="https://cairn.example")
    store = open_store(settings.resolved_database_url, secrets.token_bytes(32))
    await store.create_schema()
    org, _ = await store.create_org("Riverside Food Bank", "riverside")
    await store.upsert_recipients(org.id, {"r" * 64: ("sam@example.org", "Sam")})
    document = {
        "credentialSubject": {"achievement": {"name": "Pantry: 10 hours", "description": "Ten hours."}}
    }
    await store.insert_credential(
        credential_id="urn:uuid:c1",
        award_id="a1",
        org_id=org.id,
        badge_class_id="ten",
        recipient_key="r" * 64,
        document=document,
        issued_at=datetime.now(UTC),
    )
    issued = CredentialIssued(
        credential_id="urn:uuid:c1",
        award_id="a1",
        org_id=org.id,
        badge_class_id="ten",
        recipient_key="r" * 64,
        issued_at=datetime.now(UTC),
    )
    sinks = [sink]
    yield store, settings, issued, sinks
    sinks[-1].stop()
    await store.close()


async def test_claim_email_sent_once(setup):
    store, settings, issued, _ = setup
    assert await notify_earner(store, issued, settings) is True
    assert await notify_earner(store, issued, settings) is False
    [mail] = read_mailbox(settings.resolved_mail_dir)
    assert mail["To"] == "Sam <sam@example.org>"
    assert mail["Message-ID"] == "<c1@claim.cairn>"
    token = store.claim_token_for("urn:uuid:c1")
    assert f"https://cairn.example/claim/{token}" in mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "Claim your badge" in html and "Riverside Food Bank" in html
    assert (await store.claim(token)).id == "urn:uuid:c1"
    assert (await store.notification("urn:uuid:c1")).status == "sent"


async def test_smtp_down_raises_and_records_nothing_sent(setup):
    store, settings, issued, sinks = setup
    sinks.pop().stop()
    with pytest.raises(OSError):
        await notify_earner(store, issued, settings)
    assert (await store.notification("urn:uuid:c1")).status == "sending"
    # the consumer does not commit, so the retry after restart sends it
    sinks.append(start_sink(settings.resolved_mail_dir, "127.0.0.1", settings.smtp_port))
    assert await notify_earner(store, issued, settings) is True
    assert len(read_mailbox(settings.resolved_mail_dir)) == 1
