"""POST /my-badges over real HTTP against a slow mail relay: the answer comes at once, known
address or not, and the sign-in email still arrives afterwards."""

import asyncio
import threading
import time
from email import message_from_bytes, policy

import httpx
import pytest
import uvicorn
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope

from cairn.adapters.store.store import store_for
from cairn.bootstrap import create_org, setup
from cairn.domain.identity import recipient_key
from cairn.settings import Settings
from devtools.dev import free_port
from schemas.admin import OrgCreateIn
from services.gateway.app import create_app

pytestmark = pytest.mark.integration

RELAY_SECONDS = 3.0


class SlowRelay:
    """Takes RELAY_SECONDS to accept each message, like a busy or distant mail relay."""

    def __init__(self) -> None:
        self.delivered: list[tuple[float, bytes]] = []

    async def handle_DATA(self, server, session, envelope: Envelope) -> str:
        await asyncio.sleep(RELAY_SECONDS)
        self.delivered.append((time.monotonic(), envelope.content))
        return "250 Message accepted"


@pytest.fixture(scope="module")
def gateway(kafka, tmp_path_factory):
    relay, relay_port, port = SlowRelay(), free_port(), free_port()
    controller = Controller(relay, hostname="127.0.0.1", port=relay_port)
    controller.start()
    settings = Settings(
        var_dir=tmp_path_factory.mktemp("gw"),
        kafka_bootstrap=kafka,
        topic_partitions=3,
        smtp_port=relay_port,
        public_url=f"http://127.0.0.1:{port}",
    )
    asyncio.run(setup(settings))
    org_id, _ = asyncio.run(
        create_org(settings, OrgCreateIn(name="Riverside Food Bank", slug="riverside-slow-mail"))
    )

    async def known(email: str) -> None:
        store = store_for(settings)
        key = recipient_key(await store.org_secret(org_id), email)
        await store.upsert_recipients(org_id, {key: (email, "Kim")})
        await store.close()

    asyncio.run(known("kim@example.org"))
    server = uvicorn.Server(uvicorn.Config(create_app(settings), port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield settings.public_url, relay
    finally:
        server.should_exit = True
        thread.join(30)
        controller.stop()


def timed_request(url: str, email: str) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = httpx.post(f"{url}/my-badges", data={"email": email}, timeout=30)
    return response, time.monotonic() - started


def test_the_answer_does_not_wait_for_the_mail_relay(gateway):
    url, relay = gateway
    known, known_took = timed_request(url, "kim@example.org")
    answered = time.monotonic()
    unknown, unknown_took = timed_request(url, "nobody@example.org")
    assert known.status_code == unknown.status_code == 200
    assert known.text.replace("kim@", "X@") == unknown.text.replace("nobody@", "X@"), "the same words"
    assert known_took < RELAY_SECONDS / 2 and unknown_took < RELAY_SECONDS / 2, (known_took, unknown_took)

    deadline = time.monotonic() + 30
    while not relay.delivered and time.monotonic() < deadline:
        time.sleep(0.1)
    [(delivered_at, raw)] = relay.delivered
    assert delivered_at - answered >= RELAY_SECONDS - 0.5, "the email went out after the answer"
    mail = message_from_bytes(raw, policy=policy.default)
    assert mail["To"] == "kim@example.org"
    assert f"{url}/my-badges/" in mail.get_body(("plain",)).get_content()
    time.sleep(RELAY_SECONDS + 1)
    assert len(relay.delivered) == 1, "nothing is sent to an address Cairn does not know"
