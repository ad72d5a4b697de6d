"""The connection options against a real broker that demands SASL (PLAIN and SCRAM-SHA-512 on
a SASL_PLAINTEXT listener) or TLS (an SSL listener with a certificate from a private CA):
`cairn setup`'s topic creation, the readiness check, publishing and reading back all get
through; a wrong password, or a CA that did not sign the broker's certificate, does not."""

import asyncio
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError

from cairn.adapters.kafka import topics
from cairn.adapters.kafka.connection import client_options
from cairn.adapters.kafka.history import read_topics
from cairn.adapters.kafka.publisher import producer
from cairn.settings import REPO_ROOT, Settings
from devtools import kafka_broker
from devtools.dev import free_port

USER, PASSWORD = "cairn", "s3cret-pw"
SPEC = topics.TopicSpec("cairn.sasl-check.v1")


@dataclass
class SecureBroker:
    sasl: str  # SASL_PLAINTEXT listener
    tls: str  # SSL listener
    ca: Path  # the CA that signed the broker's certificate


def _certificates(folder: Path) -> tuple[Path, Path]:
    """A private CA and, signed by it, a certificate for 127.0.0.1 (key and chain in one PEM)."""

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=folder)

    key = ["-newkey", "rsa:2048", "-nodes", "-days", "2"]
    openssl("req", "-x509", *key, "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=cairn test CA")
    openssl("req", *key[:3], "-keyout", "broker.key", "-out", "broker.csr", "-subj", "/CN=127.0.0.1")
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl(
        "x509", "-req", "-in", "broker.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "broker.crt", "-days", "2", "-extfile", "san.ext",
    )  # fmt: skip
    keystore = folder / "broker.pem"
    keystore.write_text((folder / "broker.key").read_text() + (folder / "broker.crt").read_text())
    return folder / "ca.pem", keystore


@pytest.fixture(scope="module")
def secure(tmp_path_factory: pytest.TempPathFactory, stopper) -> Iterator[SecureBroker]:
    """A broker whose client listeners want SASL or TLS; the SCRAM user is made at format time."""
    var = REPO_ROOT / "var"
    home = tmp_path_factory.mktemp("kafka-sasl")
    ca, keystore = _certificates(tmp_path_factory.mktemp("certs"))
    port, controller, tls_port = free_port(), free_port(), free_port()
    broker = kafka_broker.prepare(var, home, port, partitions=1, controller_port=controller)
    config = home / "server.properties"
    lines = [line for line in config.read_text().splitlines() if line and not line.startswith("#")]
    properties = dict(line.split("=", 1) for line in lines)
    clients = f"SASL_PLAINTEXT://127.0.0.1:{port},SSL://127.0.0.1:{tls_port}"
    properties.update(
        {
            "listeners": f"{clients},CONTROLLER://127.0.0.1:{controller}",
            "advertised.listeners": clients,
            "listener.security.protocol.map": "SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL,CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name": "SASL_PLAINTEXT",
            "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-512",
            "sasl.mechanism.inter.broker.protocol": "PLAIN",
            "listener.name.sasl_plaintext.plain.sasl.jaas.config": (
                "org.apache.kafka.common.security.plain.PlainLoginModule required "
                f'username="{USER}" password="{PASSWORD}" user_{USER}="{PASSWORD}";'
            ),
            "listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config": (
                "org.apache.kafka.common.security.scram.ScramLoginModule required;"
            ),
            "listener.name.ssl.ssl.keystore.type": "PEM",
            "listener.name.ssl.ssl.keystore.location": str(keystore),
        }
    )
    config.write_text("".join(f"{key}={value}\n" for key, value in properties.items()))
    shutil.rmtree(home / "data")
    subprocess.run(
        kafka_broker._java_command(
            kafka_broker.libs_dir(var),
            "kafka.tools.StorageTool",
            "format",
            "--standalone",
            "-t",
            kafka_broker._cluster_id(),
            "-c",
            str(config),
            "--add-scram",
            f"SCRAM-SHA-512=[name={USER},password={PASSWORD}]",
        ),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    kafka_broker.start(broker, var, short_lived=True)
    try:
        yield SecureBroker(sasl=broker.bootstrap, tls=f"127.0.0.1:{tls_port}", ca=ca)
    finally:
        stopper.later(lambda: kafka_broker.stop(broker))


def _settings(bootstrap: str, mechanism: str, password: str = PASSWORD) -> Settings:
    return Settings(
        kafka_bootstrap=f"{bootstrap}, {bootstrap}",  # a list, even if of one broker
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_mechanism=mechanism,
        kafka_sasl_username=USER,
        kafka_sasl_password=password,
    )


async def _ready(settings: Settings, deadline: float = 90) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline
    while True:
        try:
            await topics.missing_topics(settings, [SPEC])
            return
        except Exception:
            if loop.time() > end:
                raise
            await asyncio.sleep(1)


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-512"])
def test_setup_publish_and_read_through_sasl(secure: SecureBroker, mechanism: str):
    settings = _settings(secure.sasl, mechanism)

    async def scenario() -> list[str]:
        await _ready(settings)
        await topics.ensure_topics(settings, 1, [SPEC], replication_factor=1, min_insync_replicas=1)
        assert await topics.missing_topics(settings, [SPEC]) == []
        kafka = producer(settings)
        await kafka.start()
        try:
            await kafka.send_and_wait(SPEC.name, b'{"via": "%s"}' % mechanism.encode(), key=b"k")
        finally:
            await kafka.stop()
        held = await read_topics(settings, [SPEC.name], lambda _: True, patience=5)
        return [h.value["via"] for h in held]

    assert mechanism in asyncio.run(scenario())


def test_min_insync_replicas_reaches_new_topics(secure: SecureBroker):
    settings = _settings(secure.sasl, "SCRAM-SHA-512")
    spec = topics.TopicSpec("cairn.sasl-isr.v1")

    async def scenario() -> str:
        await _ready(settings)
        await topics.ensure_topics(settings, 1, [spec], replication_factor=1, min_insync_replicas=2)
        admin = AIOKafkaAdminClient(**client_options(settings))
        await admin.start()
        try:
            [described] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, spec.name)])
        finally:
            await admin.close()
        entries = {e[0]: e[1] for e in described.resources[0][4]}
        return entries["min.insync.replicas"]

    assert asyncio.run(scenario()) == "2"


def test_a_wrong_password_or_no_sasl_is_refused(secure: SecureBroker, caplog: pytest.LogCaptureFixture):
    asyncio.run(_ready(_settings(secure.sasl, "PLAIN")))
    with pytest.raises(KafkaError):
        wrong = _settings(secure.sasl, "SCRAM-SHA-512", "not-the-pw-7731")
        asyncio.run(topics.missing_topics(wrong, [SPEC]))
    assert "SaslAuthenticationFailed" in caplog.text and "not-the-pw-7731" not in caplog.text
    with pytest.raises((KafkaError, TimeoutError)):  # a plaintext client gets no answer it can read
        asyncio.run(topics.missing_topics(secure.sasl, [SPEC], timeout=3))


def test_tls_with_the_private_ca_gets_through_and_without_it_does_not(
    secure: SecureBroker, caplog: pytest.LogCaptureFixture
):
    trusted = Settings(kafka_bootstrap=secure.tls, kafka_security_protocol="SSL", kafka_ssl_cafile=secure.ca)
    spec = topics.TopicSpec("cairn.tls-check.v1")

    async def scenario() -> list[str]:
        await _ready(trusted)
        await topics.ensure_topics(trusted, 1, [spec])
        kafka = producer(trusted)
        await kafka.start()
        try:
            await kafka.send_and_wait(spec.name, b'{"via": "tls"}', key=b"k")
        finally:
            await kafka.stop()
        return [h.value["via"] for h in await read_topics(trusted, [spec.name], lambda _: True, patience=5)]

    assert asyncio.run(scenario()) == ["tls"]
    untrusted = Settings(kafka_bootstrap=secure.tls, kafka_security_protocol="SSL")  # the system's CAs
    with pytest.raises((KafkaError, TimeoutError)):
        asyncio.run(topics.missing_topics(untrusted, [spec], timeout=5))
    assert "CERTIFICATE_VERIFY_FAILED" in caplog.text
