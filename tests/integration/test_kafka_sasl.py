"""The connection options against a real broker that demands SASL (PLAIN and SCRAM-SHA-512 on
a SASL_PLAINTEXT listener): `cairn setup`'s topic creation, the readiness check, publishing and
reading back all get through; a wrong password does not."""

import asyncio
import shutil
import subprocess
from collections.abc import Iterator

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


@pytest.fixture(scope="module")
def sasl_bootstrap(tmp_path_factory: pytest.TempPathFactory, stopper) -> Iterator[str]:
    """A broker whose only client listener wants SASL; the SCRAM user is made at format time."""
    var = REPO_ROOT / "var"
    home = tmp_path_factory.mktemp("kafka-sasl")
    port, controller = free_port(), free_port()
    broker = kafka_broker.prepare(var, home, port, partitions=1, controller_port=controller)
    config = home / "server.properties"
    text = config.read_text()
    text = text.replace(
        f"listeners=PLAINTEXT://127.0.0.1:{port}", f"listeners=SASL_PLAINTEXT://127.0.0.1:{port}"
    )
    text = text.replace(
        f"advertised.listeners=PLAINTEXT://127.0.0.1:{port}",
        f"advertised.listeners=SASL_PLAINTEXT://127.0.0.1:{port}",
    )
    text = text.replace(
        "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,",
        "listener.security.protocol.map=SASL_PLAINTEXT:SASL_PLAINTEXT,",
    )
    text = text.replace("inter.broker.listener.name=PLAINTEXT", "inter.broker.listener.name=SASL_PLAINTEXT")
    text += (
        "sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-512\n"
        "sasl.mechanism.inter.broker.protocol=PLAIN\n"
        "listener.name.sasl_plaintext.plain.sasl.jaas.config="
        "org.apache.kafka.common.security.plain.PlainLoginModule required "
        f'username="{USER}" password="{PASSWORD}" user_{USER}="{PASSWORD}";\n'
        "listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config="
        "org.apache.kafka.common.security.scram.ScramLoginModule required;\n"
    )
    config.write_text(text)
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
        yield broker.bootstrap
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
def test_setup_publish_and_read_through_sasl(sasl_bootstrap: str, mechanism: str):
    settings = _settings(sasl_bootstrap, mechanism)

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


def test_min_insync_replicas_reaches_new_topics(sasl_bootstrap: str):
    settings = _settings(sasl_bootstrap, "SCRAM-SHA-512")
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


def test_a_wrong_password_or_no_sasl_is_refused(sasl_bootstrap: str, caplog: pytest.LogCaptureFixture):
    asyncio.run(_ready(_settings(sasl_bootstrap, "PLAIN")))
    with pytest.raises(KafkaError):
        wrong = _settings(sasl_bootstrap, "SCRAM-SHA-512", "not-the-pw-7731")
        asyncio.run(topics.missing_topics(wrong, [SPEC]))
    assert "SaslAuthenticationFailed" in caplog.text and "not-the-pw-7731" not in caplog.text
    with pytest.raises((KafkaError, TimeoutError)):  # a plaintext client gets no answer it can read
        asyncio.run(topics.missing_topics(sasl_bootstrap, [SPEC], timeout=3))
