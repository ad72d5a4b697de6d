"""The hand-over mark against a real SMTP server (aiosmtpd on loopback) and a real SQLite store:
what the row says while the server holds DATA decides whether a notifier killed there is
followed by a second copy (cairn.usecases.notifying)."""

import asyncio
import secrets
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from cairn.adapters.smtp import Mailer
from cairn.adapters.store import open_store
from cairn.ports import HandOverFailed
from cairn.settings import Settings
from cairn.usecases.notifying import notify_earner
from devtools.dev import free_port
from schemas.awards import CredentialIssued
from tests.integration.test_notifier_smtp import stored_credential

pytestmark = pytest.mark.integration


class Relay:
    """Answers each DATA with the next of `answers` (after `pause` seconds), reading the email's
    row straight from the database file the moment DATA arrives, as a second process would."""

    def __init__(self, database: Path, answers: list[str], pause: float = 0.0) -> None:
        self.database, self.answers, self.pause = database, answers, pause
        self.rows_at_data: list[str] = []
        self.taken: list[bytes] = []
        self.data_commands = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with sqlite3.connect(self.database) as db:
            [(status,)] = db.execute("SELECT status FROM notifications WHERE credential_id = 'urn:uuid:c1'")
        self.rows_at_data.append(status)
        await asyncio.sleep(self.pause)
        answer = self.answers.pop(0) if self.answers else "250 OK"
        if answer.startswith("250"):
            self.taken.append(envelope.content)
        return answer


class WatchedSMTP(SMTP):
    """aiosmtpd's server, noting when the DATA command itself arrives (before the content)."""

    async def smtp_DATA(self, arg: str) -> None:
        self.event_handler.data_commands += 1
        await super().smtp_DATA(arg)


class WatchedController(Controller):
    def factory(self) -> SMTP:
        return WatchedSMTP(self.handler, **self.SMTP_kwargs)


@pytest.fixture
async def world(tmp_path):
    settings = Settings(var_dir=tmp_path, smtp_port=free_port(), public_url="https://cairn.example")
    store = open_store(settings.resolved_database_url, secrets.token_bytes(32))
    await store.create_schema()
    org, _ = await store.create_org("Riverside Food Bank", "riverside")
    await store.upsert_recipients(org.id, {"r" * 64: ("sam@example.org", "Sam")})
    document = {"credentialSubject": {"achievement": {"name": "Pantry: 10 hours", "description": "Ten."}}}
    await stored_credential(store, org.id, "1", document)
    issued = CredentialIssued(
        credential_id="urn:uuid:c1",
        award_id="a1",
        org_id=org.id,
        badge_class_id="ten",
        recipient_key="r" * 64,
        issued_at=datetime.now(UTC),
    )
    database = Path(settings.resolved_database_url.split("///", 1)[1])
    controllers: list[Controller] = []

    def serve(relay: Relay) -> None:
        controller = WatchedController(relay, hostname="127.0.0.1", port=settings.smtp_port)
        controller.start()
        controllers.append(controller)

    yield store, settings, issued, database, serve
    for controller in controllers:
        controller.stop()
    await store.close()


async def test_the_row_says_handed_over_while_the_server_has_data(world):
    store, settings, issued, database, serve = world
    serve(relay := Relay(database, ["250 OK"]))
    mailer = Mailer(settings)
    assert await notify_earner(store, issued, settings, mailer) is True
    await mailer.close()
    assert relay.rows_at_data == ["handed_over"]
    notification = await store.notification(issued.credential_id)
    assert (notification.status, notification.last_error, len(relay.taken)) == ("sent", None, 1)


async def test_a_refused_data_is_taken_back_before_the_retry(world):
    store, settings, issued, database, serve = world
    serve(relay := Relay(database, ["451 4.3.0 try again later", "250 OK"]))
    while_waiting: list[str] = []

    async def pause(_: float) -> None:  # the Mailer's wait before its second attempt
        while_waiting.append((await store.notification(issued.credential_id)).status)

    mailer = Mailer(settings, sleep=pause)
    assert await notify_earner(store, issued, settings, mailer) is True
    await mailer.close()
    assert relay.rows_at_data == ["handed_over", "handed_over"]
    assert while_waiting == ["sending"], "a notifier killed in the wait would be followed by a resend"
    assert len(relay.taken) == 1


async def test_a_relay_silent_after_data_is_taken_not_to_have_the_message(world):
    """Silent for longer than an answer takes, the relay is in trouble: the row goes back to
    "sending" while the Mailer still waits, so a notifier killed now is followed by a resend.
    The answer, when it comes, still records the email sent."""
    store, settings, issued, database, serve = world
    serve(relay := Relay(database, ["250 OK"], pause=3.0))
    mailer = Mailer(settings)
    sending = asyncio.create_task(notify_earner(store, issued, settings, mailer))
    await asyncio.sleep(0.5)
    assert (await store.notification(issued.credential_id)).status == "handed_over"
    await asyncio.sleep(1.5)  # past the 1 s an answer takes
    assert (await store.notification(issued.credential_id)).status == "sending"
    assert await sending is True
    await mailer.close()
    assert (await store.notification(issued.credential_id)).status == "sent"
    assert len(relay.taken) == 1


async def test_a_mark_that_fails_leaves_the_server_without_the_message(world):
    """The mark is written after the content and before its final line: if it cannot be
    written (the database away), the server has only half a message, drops it, and the retry
    sends the email whole, once."""
    store, settings, issued, database, serve = world
    serve(relay := Relay(database, ["250 OK"]))
    record = store.mark_handed_over
    failures = iter([ConnectionResetError("database restarting")])
    seen: list[int] = []  # DATA commands the server had when the mark was being written

    async def away_once(credential_id, generation, attempts, handed):
        if handed and (failure := next(failures, None)):
            await asyncio.sleep(0.2)  # the content is on its way meanwhile
            seen.append(relay.data_commands)
            raise failure
        return await record(credential_id, generation, attempts, handed)

    store.mark_handed_over = away_once
    mailer = Mailer(settings)
    with pytest.raises(HandOverFailed):
        await notify_earner(store, issued, settings, mailer)
    await asyncio.sleep(0.5)
    assert seen == [1], "marked after DATA and its content, not before"
    assert relay.taken == [] and relay.rows_at_data == [], "the server never had the whole message"
    assert (await store.notification(issued.credential_id)).status == "sending"
    assert await notify_earner(store, issued, settings, mailer) is True
    await mailer.close()
    assert len(relay.taken) == 1
