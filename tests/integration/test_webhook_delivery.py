"""The webhooks service against a real broker, an SQLite store and a loopback receiver that fails
(500), then hangs past the attempt deadline, then accepts: exactly one accepted delivery, three
attempts in the log with the endpoint's answers, at the configured delays. The service is
stopped after the first attempt and a new one started: the retry waits on Kafka, so a restart
loses nothing. Also: the store's webhook tables on PostgreSQL, and the SSRF guard on real DNS."""

import asyncio
import json
import secrets
import ssl
import sys
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from cairn import bootstrap
from cairn.adapters.kafka.publisher import KafkaPublisher
from cairn.adapters.store import open_store
from cairn.adapters.webhook_http import HttpPoster
from cairn.domain.webhooks import UrlPolicy, verify_signature
from cairn.settings import Settings
from schemas.awards import CredentialIssued
from schemas.badge_class import BadgeClassIn
from tests.webhook_receiver import receiver

pytestmark = pytest.mark.integration

DELAYS = [1.0, 1.0, 1.0]
TIMEOUT = 1.0
KEY = "c" * 64


async def _org_with_credential(store) -> tuple[str, str]:
    org, _ = await store.create_org("Riverside", "riverside")
    await store.save_badge_class(
        org.id,
        BadgeClassIn(
            id="ten-hours",
            name="Ten hours",
            description="d",
            criteria_narrative="n",
            criteria={"kind": "total_hours", "at_least": 10},
        ),
    )
    credential, _ = await store.insert_credential(
        credential_id="urn:uuid:11111111-2222-3333-4444-555555555555",
        award_id="a1",
        org_id=org.id,
        badge_class_id="ten-hours",
        recipient_key=KEY,
        document={"name": "Ten hours"},
        issued_at=datetime.now(UTC),
    )
    return org.id, credential.id


async def _until(check, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.1)


async def test_fails_hangs_then_accepts_exactly_once_across_a_restart(kafka, tmp_path):
    settings = Settings(
        var_dir=tmp_path,
        kafka_bootstrap=kafka,
        topic_partitions=1,
        webhook_allow_loopback=True,
        webhook_timeout_seconds=TIMEOUT,
        webhook_retry_delays=DELAYS,
        public_url="http://127.0.0.1:1",
    )
    await bootstrap.setup(settings)
    store = bootstrap.cli(settings).store
    org_id, credential_id = await _org_with_credential(store)
    with receiver("fail", "hang", hang_seconds=TIMEOUT + 1) as hook:
        endpoint, secret = await store.create_webhook_endpoint(
            org_id, hook.url, ["credential.issued"], False, "rota tool"
        )
        publisher = KafkaPublisher.for_broker(settings)
        await publisher.start()
        started = time.monotonic()
        await publisher.publish(
            CredentialIssued(
                credential_id=credential_id,
                award_id="a1",
                org_id=org_id,
                badge_class_id="ten-hours",
                recipient_key=KEY,
                issued_at=datetime.now(UTC),
            )
        )
        await publisher.stop()

        async def deliveries():
            return await store.webhook_deliveries(org_id)

        async def attempted(n: int) -> bool:
            found = await deliveries()
            return bool(found) and found[0].attempts >= n

        # the first service makes attempt 1 (500) and is stopped before the retry is due
        first, stopping = await bootstrap.webhooks(settings), asyncio.Event()
        running = asyncio.create_task(first.run(stopping))
        await _until(lambda: attempted(1), 60)
        stopping.set()
        await asyncio.wait_for(running, 30)
        await first.close()
        # a new one picks the retry up from its Kafka tier
        second, stopping = await bootstrap.webhooks(settings), asyncio.Event()
        running = asyncio.create_task(second.run(stopping))
        await _until(lambda: attempted(3), 60)
        took = time.monotonic() - started
        await asyncio.sleep(max(DELAYS) + 1)  # nothing more arrives
        stopping.set()
        await asyncio.wait_for(running, 30)
        await second.close()

    [delivery] = await deliveries()
    assert (delivery.status, delivery.attempts, delivery.endpoint_id) == ("delivered", 3, endpoint.id)
    log = [(a.attempt, a.status_code, a.answer) for a in delivery.log]
    assert log[0] == (1, 500, "database down")
    assert log[1][:2] == (2, None) and "no answer within" in log[1][2]
    assert log[2] == (3, 200, "thanks")
    assert [r.answered for r in hook.received] == ["fail", "hang", "ok"]
    [accepted] = hook.accepted()
    assert verify_signature(secret, accepted.headers, accepted.body)
    assert {r.headers["webhook-id"] for r in hook.received} == {delivery.message_id}
    payload = json.loads(accepted.body)
    assert payload["type"] == "credential.issued" and payload["data"]["credential_id"] == credential_id
    assert payload["data"]["badge"]["name"] == "Ten hours" and "email" not in payload["data"]
    gaps = [b.at - a.at for a, b in zip(hook.received, hook.received[1:], strict=False)]
    # attempt 2 waits its delay (plus the restart); attempt 3 waits the hang plus its delay
    assert gaps[0] >= DELAYS[0] and gaps[1] >= TIMEOUT + DELAYS[1] - 0.2
    print(
        f"\nwebhook figures: attempts={len(hook.received)} answers={[r.answered for r in hook.received]} "
        f"gaps={[round(g, 2) for g in gaps]}s publish-to-accepted={took:.2f}s",
        file=sys.stderr,
    )
    await store.close()


async def test_ssrf_guard_refuses_private_and_loopback_addresses_unless_allowed():
    with receiver() as hook:
        strict = HttpPoster(httpx.AsyncClient(), UrlPolicy(), 2)
        refused = await strict.post(hook.url.replace("http://127.0.0.1", "https://127.0.0.1"), b"{}", {})
        assert refused.status_code is None and "loopback" in refused.text
        by_name = await strict.post(hook.url.replace("http://127.0.0.1", "https://localhost"), b"{}", {})
        assert by_name.status_code is None and "loopback" in by_name.text  # checked after DNS
        allowed = HttpPoster(httpx.AsyncClient(), UrlPolicy(allow_loopback=True), 2)
        answer = await allowed.post(hook.url, b"{}", {"webhook-id": "msg_x"})
        assert answer.status_code == 200 and answer.text == "thanks"
        assert hook.received[0].headers["host"] == hook.url.split("/")[2]


async def test_webhook_tables_on_postgresql(postgres_url):
    from tests.integration.test_migrations import fresh_postgres

    url = await fresh_postgres(postgres_url)
    store = open_store(url, secrets.token_bytes(32))
    await store.create_schema()
    org_id, _ = await _org_with_credential(store)
    endpoint, secret = await store.create_webhook_endpoint(
        org_id, "https://x.example/h", ["award.questioned"], True, ""
    )
    assert secret.startswith("whsec_") and await store.webhook_secret(endpoint.id) == secret
    assert [e.id for e in await store.webhook_endpoints(org_id)] == [endpoint.id]
    assert await store.disable_webhook_endpoint(org_id, endpoint.id)
    assert await store.webhook_endpoints(org_id) == []
    await store.close()


def _tls_for(name: str, folder) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A self-signed certificate for the DNS name `name`: the server's context, and a client
    context that trusts only it."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / f"{name}.crt", folder / f"{name}.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_file, key_file)
    return server, ssl.create_default_context(cafile=str(cert_file))


@pytest.mark.parametrize(("certified", "accepted"), [("localhost", True), ("elsewhere.example", False)])
async def test_https_goes_to_the_checked_address_and_still_checks_the_name(
    certified: str, accepted: bool, tmp_path
):
    """The connection is pinned to the address that was checked, yet TLS is for the URL's host:
    SNI and the certificate check use `localhost`, so a certificate for another name fails."""
    server_tls, trusts = _tls_for(certified, tmp_path)
    with receiver(tls=server_tls, host="localhost") as hook:
        async with httpx.AsyncClient(verify=trusts) as client:
            poster = HttpPoster(client, UrlPolicy(allow_loopback=True), 5)
            answer = await poster.post(hook.url, b"{}", {"webhook-id": "msg_tls"})
    if accepted:
        assert (answer.status_code, answer.text) == (200, "thanks")
        assert hook.received[0].headers["host"] == hook.url.split("/")[2]
    else:
        assert answer.status_code is None and "CERTIFICATE_VERIFY_FAILED" in answer.text
