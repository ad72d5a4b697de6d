"""The notifier and Mailer against real SMTP servers on loopback (aiosmtpd) and a real store:
the development sink, and servers that answer 4xx, 5xx, or demand STARTTLS and AUTH."""

import asyncio
import datetime as dt
import secrets
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import SecretStr

from cairn.adapters.smtp import Mailer, TemporaryFailure, backoff
from cairn.adapters.store import open_store
from cairn.settings import Settings
from cairn.usecases.notifying import notify_earner
from devtools.dev import free_port
from devtools.smtp_sink import read_mailbox, start_sink
from schemas.awards import ClaimEmailResendRequested, CredentialIssued

pytestmark = pytest.mark.integration


async def no_sleep(_: float) -> None:
    return None


def resend_of(issued: CredentialIssued, generation: int) -> ClaimEmailResendRequested:
    """The resend command the gateway publishes for the credential's next claim link."""
    return ClaimEmailResendRequested(
        credential_id=issued.credential_id,
        org_id=issued.org_id,
        recipient_key=issued.recipient_key,
        claim_generation=generation,
    )


async def stored_credential(store, org_id: str, n: str, document: dict) -> None:
    """Credential urn:uuid:c<n> of award a<n>, to Sam (recipient "r" * 64)."""
    await store.insert_credential(
        credential_id=f"urn:uuid:c{n}",
        award_id=f"a{n}",
        org_id=org_id,
        badge_class_id="ten",
        recipient_key="r" * 64,
        document=document,
        issued_at=datetime.now(UTC),
    )


@pytest.fixture
async def setup(tmp_path):
    port = free_port()
    sink = start_sink(tmp_path / "mail", "127.0.0.1", port)
    settings = Settings(var_dir=tmp_path, smtp_port=port, public_url="https://cairn.example")
    store = open_store(settings.resolved_database_url, secrets.token_bytes(32))
    await store.create_schema()
    org, _ = await store.create_org(
        "Riverside Food Bank", "riverside", image_url="https://riverside.example/logo.png"
    )
    await store.upsert_recipients(org.id, {"r" * 64: ("sam@example.org", "Sam")})
    document = {
        "credentialSubject": {"achievement": {"name": "Pantry: 10 hours", "description": "Ten hours."}},
        "evidence": [{"description": "10 hours against a requirement of 10"}],
    }
    await stored_credential(store, org.id, "1", document)
    issued = CredentialIssued(
        credential_id="urn:uuid:c1",
        award_id="a1",
        org_id=org.id,
        badge_class_id="ten",
        recipient_key="r" * 64,
        issued_at=datetime.now(UTC),
    )
    sinks = [sink]
    mailer = Mailer(settings, sleep=no_sleep)
    yield store, settings, issued, sinks, mailer
    await mailer.close()
    sinks[-1].stop()
    await store.close()


async def test_claim_email_sent_once_with_branding_and_unsubscribe(setup):
    store, settings, issued, _, mailer = setup
    assert await notify_earner(store, issued, settings, mailer) is True
    assert await notify_earner(store, issued, settings, mailer) is False
    [mail] = read_mailbox(settings.resolved_mail_dir)
    assert mail["To"] == "Sam <sam@example.org>"
    assert mail["Message-ID"] == "<c1@claim.cairn>"
    token = store.claim_token_for("urn:uuid:c1")
    text = mail.get_body(("plain",)).get_content()
    assert f"https://cairn.example/claim/{token}" in text and "10 hours against a requirement of 10" in text
    html = mail.get_body(("html",)).get_content()
    assert "Claim your badge" in html and 'alt="Riverside Food Bank"' in html
    unsubscribe = mail["List-Unsubscribe"].strip("<>")
    assert unsubscribe.startswith("https://cairn.example/unsubscribe/riverside/")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert (await store.claim(token)).credential.id == "urn:uuid:c1"
    assert (await store.notification("urn:uuid:c1")).status == "sent"


async def test_a_repeat_badge_email_says_which_occurrence(setup):
    store, settings, issued, _, mailer = setup
    document = {
        "name": "Pantry: 10 hours (2026)",
        "credentialSubject": {"achievement": {"name": "Pantry: 10 hours", "description": "Ten hours."}},
    }
    await stored_credential(store, issued.org_id, "2", document)
    second = issued.model_copy(update={"credential_id": "urn:uuid:c2", "award_id": "a2"})
    assert await notify_earner(store, second, settings, mailer) is True
    [mail] = read_mailbox(settings.resolved_mail_dir)
    assert mail["Subject"].endswith("Pantry: 10 hours — 2026"), mail["Subject"]  # which occurrence (issue 13)


async def test_resend_makes_a_new_link_and_retires_the_old(setup):
    store, settings, issued, _, mailer = setup
    await notify_earner(store, issued, settings, mailer)
    first = store.claim_token_for("urn:uuid:c1")
    resend = resend_of(issued, 1)
    assert await notify_earner(store, resend, settings, mailer) is True
    assert await notify_earner(store, resend, settings, mailer) is False, "each generation once"
    assert await notify_earner(store, issued, settings, mailer) is False, "an old generation redelivered"
    old, new = read_mailbox(settings.resolved_mail_dir)
    assert old["Message-ID"] == "<c1@claim.cairn>"
    assert new["Message-ID"] == "<c1.1@claim.cairn>" and new["Subject"].startswith("Your new link")
    assert (await store.claim(first)).credential is None
    assert (await store.claim(store.claim_token_for("urn:uuid:c1", 1))).credential.id == "urn:uuid:c1"


async def test_unsubscribed_earner_gets_no_email(setup):
    store, settings, issued, _, mailer = setup
    org = await store.org_by_slug("riverside")
    assert not await store.unsubscribe(org.id, "r" * 64, "0" * 32), "a forged code does nothing"
    assert await store.unsubscribe(org.id, "r" * 64, store.unsubscribe_code(org.id, "r" * 64))
    assert await notify_earner(store, issued, settings, mailer) is False
    assert read_mailbox(settings.resolved_mail_dir) == []
    assert (await store.notification("urn:uuid:c1")).status == "suppressed"


async def test_smtp_down_raises_and_the_retry_sends(setup):
    store, settings, issued, sinks, mailer = setup
    sinks.pop().stop()
    with pytest.raises(TemporaryFailure) as failure:
        await notify_earner(store, issued, settings, mailer)
    assert failure.value.unreachable
    assert (await store.notification("urn:uuid:c1")).status == "sending"
    # the consumer does not commit, so the retry after restart sends it
    sinks.append(start_sink(settings.resolved_mail_dir, "127.0.0.1", settings.smtp_port))
    assert await notify_earner(store, issued, settings, mailer) is True
    assert len(read_mailbox(settings.resolved_mail_dir)) == 1


class Scripted:
    """An SMTP server that answers RCPT with the given codes in turn, then accepts."""

    def __init__(self, rcpt_answers: list[str]) -> None:
        self.rcpt_answers = list(rcpt_answers)
        self.delivered: list[bytes] = []
        self.connections = 0
        self.pause, self.at_once, self.most_at_once = 0.0, 0, 0

    async def handle_EHLO(self, server, session: Session, envelope: Envelope, hostname: str, responses):
        self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope: Envelope, address: str, rcpt_options):
        if self.rcpt_answers:
            return self.rcpt_answers.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope: Envelope) -> str:
        self.at_once += 1
        self.most_at_once = max(self.most_at_once, self.at_once)
        await asyncio.sleep(self.pause)
        self.at_once -= 1
        self.delivered.append(envelope.content)
        return "250 Message accepted"


@pytest.fixture
def scripted_server():
    servers = []

    def start(answers: list[str], **kwargs) -> tuple[Scripted, int]:
        handler, port = Scripted(answers), free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
        controller.start()
        servers.append(controller)
        return handler, port

    yield start
    for controller in servers:
        controller.stop()


async def test_temporary_refusals_are_retried_with_backoff(setup, scripted_server):
    store, settings, issued, _, _ = setup
    handler, port = scripted_server(["451 4.7.1 greylisted, try later", "421 4.3.2 busy"])
    delays: list[float] = []

    async def record(delay: float) -> None:
        delays.append(delay)

    mailer = Mailer(settings.model_copy(update={"smtp_port": port}), sleep=record, base_delay=1, max_delay=30)
    assert await notify_earner(store, issued, settings, mailer) is True
    assert len(handler.delivered) == 1 and len(delays) == 2
    assert 0.5 <= delays[0] <= 1 and 1 <= delays[1] <= 2, "exponential, with jitter"
    await mailer.close()


async def test_permanent_refusal_is_recorded_as_bounced(setup, scripted_server):
    store, settings, issued, _, _ = setup
    handler, port = scripted_server(["550 5.1.1 no such user"])
    mailer = Mailer(settings.model_copy(update={"smtp_port": port}), sleep=no_sleep)
    assert await notify_earner(store, issued, settings, mailer) is False
    notification = await store.notification("urn:uuid:c1")
    assert notification.status == "bounced" and "550 5.1.1 no such user" in notification.last_error
    assert handler.delivered == []
    assert await notify_earner(store, issued, settings, mailer) is False, "a bounce is not retried"
    await mailer.close()


async def test_refusals_that_outlast_the_retries_are_failed(setup, scripted_server):
    store, settings, issued, _, _ = setup
    handler, port = scripted_server(["452 4.2.2 mailbox full"] * 10)
    mailer = Mailer(settings.model_copy(update={"smtp_port": port, "smtp_max_attempts": 3}), sleep=no_sleep)
    assert await notify_earner(store, issued, settings, mailer) is False
    assert (await store.notification("urn:uuid:c1")).status == "failed"
    assert len(handler.rcpt_answers) == 7 and handler.delivered == [], "three attempts, then it gave up"
    await mailer.close()


async def test_relay_trouble_at_rcpt_is_retried_by_the_consumer_not_failed(setup, scripted_server):
    """A 451 4.3.0 (the relay's own trouble) outlasting a round raises for the consumer to retry
    the record; the email stays "sending" and goes once the relay is well."""
    store, settings, issued, _, _ = setup
    handler, port = scripted_server(["451 4.3.0 Temporary local problem"] * 4)
    mailer = Mailer(settings.model_copy(update={"smtp_port": port, "smtp_max_attempts": 3}), sleep=no_sleep)
    with pytest.raises(TemporaryFailure) as trouble:
        await notify_earner(store, issued, settings, mailer)
    assert trouble.value.unreachable and (await store.notification("urn:uuid:c1")).status == "sending"
    assert await notify_earner(store, issued, settings, mailer) is True, "the consumer's retry"
    assert len(handler.delivered) == 1 and handler.rcpt_answers == []
    await mailer.close()


async def test_a_takeover_between_retries_stops_this_sender(setup, scripted_server):
    """Another notifier writes "sending" (its record handed over in a rebalance) while this one
    waits to retry: this one makes no second attempt, so the email cannot go twice."""
    store, settings, issued, _, _ = setup
    handler, port = scripted_server(["451 4.3.0 Temporary local problem"])

    async def taken_over(_: float) -> None:
        await store.record_notification("urn:uuid:c1", "<c1@claim.cairn>", "sending", None, 0)

    mailer = Mailer(settings.model_copy(update={"smtp_port": port}), sleep=taken_over)
    assert await notify_earner(store, issued, settings, mailer) is False
    assert handler.delivered == [] and (await store.notification("urn:uuid:c1")).status == "sending"
    await mailer.close()


async def test_connection_is_reused_across_messages(setup, scripted_server):
    _, settings, _, _, _ = setup
    handler, port = scripted_server([])
    mailer = Mailer(settings.model_copy(update={"smtp_port": port}), sleep=no_sleep)
    for n in range(5):
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "a@example.org", "b@example.org", f"m{n}"
        message.set_content("hello")
        await mailer.send(message)
    assert len(handler.delivered) == 5 and mailer.connections_opened == 1 and handler.connections == 1
    await mailer.close()


async def test_messages_at_once_go_over_at_most_smtp_connections(setup, scripted_server):
    _, settings, _, _, _ = setup
    handler, port = scripted_server([])
    handler.pause = 0.3  # a relay's DATA round trip: the messages overlap
    mailer = Mailer(settings.model_copy(update={"smtp_port": port, "smtp_connections": 3}), sleep=no_sleep)
    messages = []
    for n in range(9):
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "a@example.org", "b@example.org", f"m{n}"
        message.set_content("hello")
        messages.append(message)
    await asyncio.gather(*(mailer.send(m) for m in messages))
    assert len(handler.delivered) == 9 and handler.most_at_once == 3
    assert mailer.connections_opened == 3 == handler.connections, "kept and reused, not one per message"
    await mailer.close()


def self_signed(tmp_path) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "smtp.crt", tmp_path / "smtp.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return str(cert_file), str(key_file)


async def test_starttls_and_authentication(setup, scripted_server, tmp_path):
    store, settings, issued, _, _ = setup
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            b"cairn",
            b"s3cret",
        )
        return AuthResult(success=ok, handled=False)  # not handled: aiosmtpd answers 235 or 535

    handler, port = scripted_server(
        [], tls_context=context, require_starttls=True, authenticator=authenticator, auth_required=True
    )
    secure = settings.model_copy(
        update={
            "smtp_port": port,
            "smtp_starttls": True,
            "smtp_ca_file": cert,
            "smtp_username": "cairn",
            "smtp_timeout_seconds": 5,
        }
    )
    wrong = Mailer(secure.model_copy(update={"smtp_password": SecretStr("nope")}), sleep=no_sleep)
    with pytest.raises(TemporaryFailure, match="535") as failure:  # our login, not the address, is wrong
        await notify_earner(store, issued, secure, wrong)
    assert failure.value.unreachable and (await store.notification("urn:uuid:c1")).status == "sending"
    right = Mailer(secure.model_copy(update={"smtp_password": SecretStr("s3cret")}), sleep=no_sleep)
    resend = resend_of(issued, 1)
    assert await notify_earner(store, resend, secure, right) is True
    assert len(handler.delivered) == 1
    assert "s3cret" not in repr(secure.model_copy(update={"smtp_password": SecretStr("s3cret")}))
    await right.close()


def test_backoff_doubles_up_to_the_cap_with_jitter():
    assert [backoff(n, 1, 8, draw=lambda: 0.0) for n in range(1, 6)] == [0.5, 1, 2, 4, 4]
    assert [backoff(n, 1, 8, draw=lambda: 1.0) for n in range(1, 6)] == [1, 2, 4, 8, 8]


@pytest.mark.parametrize("status", ["revoked", "suspended"])
async def test_no_claim_email_for_a_withdrawn_credential(setup, status):
    """Revoked or suspended between the request for a (re)send and the notifier's turn: no email
    would be true, so none goes, and the organisation sees why."""
    from sqlalchemy import update

    from cairn.adapters.store import tables as t

    store, settings, issued, _, mailer = setup
    async with store.engine.begin() as conn:
        await conn.execute(update(t.Credential).values(status=status))
    for request in (issued, resend_of(issued, 1)):
        assert await notify_earner(store, request, settings, mailer) is False
    assert read_mailbox(settings.resolved_mail_dir) == []
    notification = await store.notification("urn:uuid:c1")
    assert (notification.status, notification.last_error) == ("suppressed", f"credential {status}")
