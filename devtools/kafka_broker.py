"""A real single-node Apache Kafka 4.x broker (KRaft) for development and tests.

The jars come from Maven Central through infra/kafka/pom.xml into var/kafka/libs (fetched once);
each broker instance gets its own folder with its config, data and log. No Docker needed.
"""

import asyncio
import shutil
import socket
import string
import subprocess
import time
import uuid
from base64 import urlsafe_b64encode
from dataclasses import dataclass
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from cairn.settings import REPO_ROOT
from devtools.process_group import start_group, stop_group

INFRA = REPO_ROOT / "infra" / "kafka"


def libs_dir(var_dir: Path) -> Path:
    return var_dir / "kafka" / "libs"


def fetch(var_dir: Path) -> Path:
    """Resolves the broker jars with Maven unless they are already there."""
    libs = libs_dir(var_dir)
    if any(libs.glob("kafka_2.13-*.jar")):
        return libs
    if shutil.which("mvn") is None:
        raise RuntimeError("Maven (mvn) is needed to fetch the Kafka broker from Maven Central")
    libs.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "mvn",
            "-q",
            "-B",
            "-f",
            str(INFRA / "pom.xml"),
            "dependency:copy-dependencies",
            f"-DoutputDirectory={libs}",
            "-DincludeScope=runtime",
        ],
        check=True,
    )
    return libs


@dataclass
class Broker:
    home: Path
    port: int
    controller_port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log_file(self) -> Path:
        return self.home / "broker.log"


def _port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def _java_command(libs: Path, *args: str) -> list[str]:
    return [
        "java",
        "-Xms256m",
        "-Xmx768m",
        "-XX:+UseG1GC",
        "-Djava.awt.headless=true",
        f"-Dlog4j2.configurationFile={INFRA / 'log4j2.properties'}",
        "-cp",
        f"{libs}/*",
        *args,
    ]


def prepare(
    var_dir: Path, home: Path, port: int, partitions: int = 6, controller_port: int | None = None
) -> Broker:
    """Writes the config and formats KRaft storage on first use of `home`."""
    libs = fetch(var_dir)
    home.mkdir(parents=True, exist_ok=True)
    broker = Broker(home=home, port=port, controller_port=controller_port or port + 1)
    config = home / "server.properties"
    template = string.Template((INFRA / "server.properties.template").read_text())
    config.write_text(
        template.substitute(
            port=port,
            controller_port=broker.controller_port,
            data_dir=home / "data",
            partitions=partitions,
        )
    )
    if not (home / "data" / "meta.properties").exists():
        cluster_id = _cluster_id()
        subprocess.run(
            _java_command(
                libs, "kafka.tools.StorageTool", "format", "--standalone", "-t", cluster_id, "-c", str(config)
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return broker


def _cluster_id() -> str:
    """A KRaft cluster id: base64url of a random UUID, never starting with '-', which the
    storage tool's argument parser would take for an option (Kafka's own Uuid avoids it too)."""
    while True:
        candidate = urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not candidate.startswith("-"):
            return candidate


async def wait_ready(bootstrap: str, timeout: float = 90) -> None:
    """Returns once the broker answers metadata requests."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    host, _, port = bootstrap.rpartition(":")
    while time.monotonic() < deadline and not _port_open(int(port), host):
        await asyncio.sleep(0.2)
    while time.monotonic() < deadline:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
        try:
            await admin.start()
            await admin.list_topics()
            return
        except Exception as e:  # keep polling until the deadline
            last_error = e
            await asyncio.sleep(0.5)
        finally:
            await admin.close()
    raise TimeoutError(f"Kafka at {bootstrap} not ready after {timeout}s: {last_error}")


def start(broker: Broker, var_dir: Path) -> Broker:
    """Starts the broker in its own process group; its output goes to broker.log."""
    if _port_open(broker.port):
        raise RuntimeError(f"port {broker.port} is taken: is a broker already running?")
    command = _java_command(libs_dir(var_dir), "kafka.Kafka", str(broker.home / "server.properties"))
    broker.process = start_group(command, broker.log_file)
    return broker


def stop(broker: Broker, timeout: float = 30) -> None:
    stop_group(broker.process, timeout)
