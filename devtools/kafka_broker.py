"""A real single-node Apache Kafka 4.x broker (KRaft) for development and tests.

The jars come from Maven Central through infra/kafka/pom.xml into var/kafka/libs (fetched once);
each broker instance gets its own folder with its config, data and log. No Docker needed.

The tests start a broker per module, so its start-up time counts many times over: the JVM runs
with a class-data-sharing archive of the broker's classes (written by the first broker that
stops, var/kafka/*.jsa) and, for short-lived brokers, with the quick-starting JIT and GC.
"""

import asyncio
import fcntl
import os
import shutil
import signal
import socket
import string
import subprocess
import time
import uuid
from base64 import urlsafe_b64encode
from dataclasses import dataclass
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from cairn.adapters.kafka.connection import Brokers, client_options
from cairn.settings import REPO_ROOT
from devtools.process_group import start_group, stop_group

INFRA = REPO_ROOT / "infra" / "kafka"


def libs_dir(var_dir: Path) -> Path:
    return var_dir / "kafka" / "libs"


def fetch(var_dir: Path) -> Path:
    """Resolves the broker jars with Maven unless they are already there. Several test workers
    may ask at once: the first fetches under a lock, the others wait for it."""
    libs = libs_dir(var_dir)
    if any(libs.glob("kafka_2.13-*.jar")):
        return libs
    libs.parent.mkdir(parents=True, exist_ok=True)
    with (libs.parent / "fetch.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not any(libs.glob("kafka_2.13-*.jar")):
            _maven_fetch(libs)
    return libs


def _maven_fetch(libs: Path) -> None:
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


@dataclass
class Broker:
    home: Path
    port: int
    controller_port: int
    process: subprocess.Popen[bytes] | None = None
    archive_at_exit: Path | None = None  # where this broker's JVM writes a class archive, if it does
    archive: Path | None = None  # where that archive then goes for later brokers

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


def class_archive(libs: Path) -> Path:
    """The broker's class-data-sharing archive, named after the Kafka jar so a new version makes
    a new one (a JVM given a stale archive ignores it and loads classes as usual)."""
    jar = min(libs.glob("kafka_2.13-*.jar"))
    return libs.parent / f"{jar.stem}.jsa"


def _java_command(libs: Path, *args: str, short_lived: bool = True, class_flag: str = "") -> list[str]:
    """short_lived: the C1 JIT alone and the serial GC, which start about twice as fast on a small
    machine; long runs (benchmarks) want the default optimising JIT and G1."""
    archive = class_archive(libs)
    return [
        "java",
        "-Xms256m",
        "-Xmx768m",
        *(["-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"] if short_lived else ["-XX:+UseG1GC"]),
        class_flag or (f"-XX:SharedArchiveFile={archive}" if archive.exists() else "-Xshare:auto"),
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


async def wait_ready(bootstrap: Brokers, timeout: float = 90) -> None:
    """Returns once the broker answers metadata requests (`cairn dev --external-kafka` waits for a
    cluster this way too, so it gets the settings' TLS and SASL)."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    options = client_options(bootstrap)
    host, _, port = options["bootstrap_servers"][0].rpartition(":")
    while time.monotonic() < deadline and not _port_open(int(port), host):
        await asyncio.sleep(0.2)
    while time.monotonic() < deadline:
        admin = AIOKafkaAdminClient(**options, request_timeout_ms=5000)
        try:
            await admin.start()
            await admin.list_topics()
            return
        except Exception as e:  # keep polling until the deadline
            last_error = e
            await asyncio.sleep(0.5)
        finally:
            await admin.close()
    raise TimeoutError(f"Kafka at {options['bootstrap_servers']} not ready after {timeout}s: {last_error}")


def start(broker: Broker, var_dir: Path, short_lived: bool = False) -> Broker:
    """Starts the broker in its own process group; its output goes to broker.log. Without a
    class archive yet, this broker's JVM writes one when it exits (see stop)."""
    if _port_open(broker.port):
        raise RuntimeError(f"port {broker.port} is taken: is a broker already running?")
    libs = libs_dir(var_dir)
    class_flag = ""
    archive = class_archive(libs)
    if not archive.exists():
        broker.archive = archive
        broker.archive_at_exit = archive.with_name(f"{archive.name}.{os.getpid()}-{broker.port}.tmp")
        class_flag = f"-XX:ArchiveClassesAtExit={broker.archive_at_exit}"
    command = _java_command(
        libs,
        "kafka.Kafka",
        str(broker.home / "server.properties"),
        short_lived=short_lived,
        class_flag=class_flag,
    )
    broker.process = start_group(command, broker.log_file)
    return broker


def stop(broker: Broker, timeout: float = 30) -> None:
    stop_group(broker.process, timeout)
    written, archive = broker.archive_at_exit, broker.archive
    if written is None or archive is None or not written.exists():
        return
    killed = broker.process is not None and broker.process.returncode == -signal.SIGKILL  # half written?
    if killed or archive.exists():
        written.unlink()
    else:
        written.replace(archive)  # atomic: a starting JVM sees the whole archive or none


# --- cluster mode: N combined broker+controller nodes on loopback, a static voter quorum ---


def cluster_properties(
    node_id: int, nodes: list[tuple[int, int]], data_dir: Path, partitions: int = 6
) -> str:
    """One node's server.properties in an N-node cluster: the single-node template with this node's
    id, a static voter set of every node's controller port, and internal topics replicated to
    min(3, N) with min.insync.replicas one less, so the cluster survives losing one node."""
    port, controller_port = nodes[node_id - 1]
    text = string.Template((INFRA / "server.properties.template").read_text()).substitute(
        port=port, controller_port=controller_port, data_dir=data_dir, partitions=partitions
    )
    replicas = min(3, len(nodes))
    min_isr = max(1, replicas - 1)
    overrides = {
        "node.id": str(node_id),
        "controller.quorum.bootstrap.servers": None,
        "controller.quorum.voters": ",".join(f"{i}@127.0.0.1:{c}" for i, (_, c) in enumerate(nodes, 1)),
        "offsets.topic.replication.factor": str(replicas),
        "transaction.state.log.replication.factor": str(replicas),
        "transaction.state.log.min.isr": str(min_isr),
        "share.coordinator.state.topic.replication.factor": str(replicas),
        "share.coordinator.state.topic.min.isr": str(min_isr),
        "default.replication.factor": str(replicas),
        "min.insync.replicas": str(min_isr),
    }
    lines = []
    for line in text.splitlines():
        key = line.partition("=")[0].strip()
        if key in overrides and not line.startswith("#"):
            value = overrides.pop(key)
            if value is not None:
                lines.append(f"{key}={value}")
        else:
            lines.append(line)
    lines += [f"{k}={v}" for k, v in overrides.items() if v is not None]
    return "\n".join(lines) + "\n"


def prepare_cluster(
    var_dir: Path, root: Path, nodes: list[tuple[int, int]], partitions: int = 6
) -> list[Broker]:
    """Writes each node's config under root/node-<id> and formats its storage with one shared
    cluster id (static voters, so no --standalone)."""
    libs = fetch(var_dir)
    brokers = []
    cluster_id = _cluster_id()
    for node_id, (port, controller_port) in enumerate(nodes, 1):
        home = root / f"node-{node_id}"
        home.mkdir(parents=True, exist_ok=True)
        config = home / "server.properties"
        config.write_text(cluster_properties(node_id, nodes, home / "data", partitions))
        if not (home / "data" / "meta.properties").exists():
            subprocess.run(
                _java_command(libs, "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(config)),
                check=True,
                stdout=subprocess.DEVNULL,
            )
        brokers.append(Broker(home=home, port=port, controller_port=controller_port))
    return brokers


def kill(broker: Broker) -> None:
    """SIGKILLs one node (a crash, no clean shutdown); `start` brings it back on the same log dir."""
    if broker.process is not None and broker.process.poll() is None:
        os.killpg(broker.process.pid, signal.SIGKILL)
        broker.process.wait()


def cluster_bootstrap(brokers: list[Broker]) -> str:
    return ",".join(b.bootstrap for b in brokers)
