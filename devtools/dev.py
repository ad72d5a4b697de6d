"""`cairn dev`: the local broker, the SMTP sink and every service as one supervised process group.

Each service runs as its own process (so a crash or a kill is real), logs to var/logs/NAME.log,
writes var/run/NAME.pid, and is restarted whenever it dies, after a pause that doubles with each
quick death after the first (up to RESTART_DELAY_CAP): one service that keeps failing never stops the others.
Ctrl-C or SIGTERM stops everything.
"""

import asyncio
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from cairn.adapters.kafka.connection import bootstrap_servers
from cairn.bootstrap import setup
from cairn.settings import Settings
from devtools import kafka_broker
from devtools.process_group import start_group, stop_group

SERVICES: dict[str, list[str]] = {
    "smtp-sink": ["-m", "devtools.smtp_sink"],
    "gateway": ["-m", "services.gateway"],
    "projector": ["-m", "services.projector"],
    "aggregator": ["-m", "services.aggregator"],
    "signer": ["-m", "services.signer"],
    "notifier": ["-m", "services.notifier"],
    "webhooks": ["-m", "services.webhooks"],
}


RESTART_DELAY_CAP = 30.0  # seconds: the longest pause before restarting a crashing service
STABLE_AFTER = 60.0  # seconds: a service that ran this long before dying starts its count afresh
# seconds between looks for a dead service: its pid file names a dead process (a kill from a
# test finds none) until the restart, and a first restart is meant to be at once
SUPERVISE_EVERY = 0.1


@dataclass
class Restarts:
    """How soon to restart a service that died (pure): at once the first time (a one-off crash
    costs nothing), then after 1 s, 2 s, 4 s, ... up to the cap while it keeps dying within
    STABLE_AFTER seconds of its start."""

    count: int = 0
    base: float = 1.0
    cap: float = RESTART_DELAY_CAP

    def died(self, ran_for: float) -> float:
        """Counts the death and returns the pause before the next start."""
        if ran_for >= STABLE_AFTER:
            self.count = 0
        self.count += 1
        if self.count == 1:
            return 0.0
        return min(self.cap, self.base * 2 ** min(self.count - 2, 16))


@dataclass
class Supervised:
    name: str
    args: list[str]
    log_path: Path
    pid_path: Path
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    restarts: Restarts = field(default_factory=Restarts)
    started_at: float = 0.0
    restart_at: float | None = None  # set while waiting to restart after a death

    def start(self) -> None:
        self.process = start_group([sys.executable, *self.args], self.log_path, self.env)
        self.pid_path.write_text(str(self.process.pid))
        self.started_at, self.restart_at = time.monotonic(), None

    def stop(self, timeout: float = 20) -> None:
        stop_group(self.process, timeout)


def free_port() -> int:
    """A loopback port nobody is listening on right now (for tests and benchmarks)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


def _bootstrap_port(settings: Settings) -> int:
    return int(bootstrap_servers(settings.kafka_bootstrap)[0].rsplit(":", 1)[1])


async def run_dev(settings: Settings, stopping: asyncio.Event, external_kafka: bool = False) -> None:
    var = settings.var_dir
    (var / "logs").mkdir(parents=True, exist_ok=True)
    (var / "run").mkdir(parents=True, exist_ok=True)
    brokers: list[kafka_broker.Broker] = []
    if not external_kafka:
        brokers = _prepare_brokers(settings)
        started = time.monotonic()
        for each in brokers:
            kafka_broker.start(each, var, short_lived=True)
        (var / "run" / "kafka.pid").write_text(str(brokers[0].process.pid if brokers[0].process else ""))
    try:
        await kafka_broker.wait_ready(settings)
        for each in brokers[1:]:  # a cluster: topics replicated 3 ways need every node up
            await kafka_broker.wait_ready(each.bootstrap)
        if brokers:
            print(
                f"kafka     {settings.kafka_bootstrap} ready in {time.monotonic() - started:.1f}s", flush=True
            )
        await setup(settings)
        services = [
            Supervised(name, args, var / "logs" / f"{name}.log", var / "run" / f"{name}.pid", env)
            for name, args, env in _service_instances(settings)
        ]
        for service in services:
            service.start()
        await wait_http(f"http://{settings.gateway_host}:{settings.gateway_port}/healthz")
        print(f"gateway   {settings.public_url}  (OpenAPI: {settings.public_url}/docs)", flush=True)
        print(
            f"smtp sink {settings.smtp_host}:{settings.smtp_port} -> {settings.resolved_mail_dir}", flush=True
        )
        print(f"logs      {var / 'logs'}  (JSON lines)", flush=True)
        ports = ", ".join(f"{s.name} {port}" for s in services if (port := _metrics_port(settings, s.name)))
        print(
            f"metrics   {settings.public_url}/metrics; workers on {settings.metrics_host}: {ports}",
            flush=True,
        )
        print("ready", flush=True)
        await _supervise(services, stopping)
    finally:
        for service in reversed(services if "services" in locals() else []):
            service.stop()
        for each in brokers:
            kafka_broker.stop(each)


def _prepare_brokers(settings: Settings) -> list[kafka_broker.Broker]:
    """One broker, or a loopback cluster when CAIRN_KAFKA_BOOTSTRAP lists several addresses
    (`cairn dev --brokers 3`); each node's controller listens one port above its broker."""
    var = settings.var_dir
    ports = [int(a.rsplit(":", 1)[1]) for a in bootstrap_servers(settings.kafka_bootstrap)]
    if len(ports) == 1:
        return [kafka_broker.prepare(var, var / f"kafka-{ports[0]}", ports[0], settings.topic_partitions)]
    nodes = [(p, p + 1) for p in ports]
    return kafka_broker.prepare_cluster(
        var, var / f"kafka-cluster-{ports[0]}", nodes, settings.topic_partitions
    )


def _service_instances(settings: Settings) -> list[tuple[str, list[str], dict[str, str]]]:
    """Every process to run: one of each service, CAIRN_AGGREGATOR_WORKERS aggregators
    (aggregator, aggregator-2, …), CAIRN_SIGNER_WORKERS signers (signer, signer-2, …) and
    CAIRN_NOTIFIER_WORKERS notifiers, each service's workers sharing the partitions through its
    consumer group. A worker's name is its log, pid file and metrics port (Settings.metrics_port_of)."""
    workers = {
        "aggregator": settings.aggregator_workers,
        "signer": settings.signer_workers,
        "notifier": settings.notifier_workers,
    }
    instances = []
    for service, args in SERVICES.items():
        for n in range(1, workers.get(service, 1) + 1):
            name = service if n == 1 else f"{service}-{n}"
            if service == "aggregator":
                port = str(settings.aggregator_web_port + n - 1)
                env = {"CAIRN_AGGREGATOR_NAME": name, "CAIRN_AGGREGATOR_WEB_PORT": port}
            else:
                env = {"CAIRN_INSTANCE_NAME": name} if service in workers else {}
            instances.append((name, args, env))
    return instances


def _metrics_port(settings: Settings, name: str) -> int:
    """A worker's metrics port by its name (signer-2), 0 for a process that serves none."""
    service = name if name in SERVICES else name.rpartition("-")[0]
    return settings.metrics_port_of(service, name) if hasattr(settings, f"metrics_port_{service}") else 0


async def _supervise(services: list[Supervised], stopping: asyncio.Event) -> None:
    """Restarts each service that died, with backoff, for as long as `cairn dev` runs."""
    while not stopping.is_set():
        now = time.monotonic()
        for service in services:
            if service.restart_at is not None:
                if now >= service.restart_at:
                    service.start()
            elif service.process is not None and service.process.poll() is not None:
                delay = service.restarts.died(ran_for=now - service.started_at)
                service.restart_at = now + delay
                print(
                    f"{service.name} exited ({service.process.returncode}); "
                    f"restart {service.restarts.count} in {delay:g}s (log: {service.log_path})",
                    flush=True,
                )
        try:
            await asyncio.wait_for(stopping.wait(), timeout=SUPERVISE_EVERY)
        except TimeoutError:
            pass
