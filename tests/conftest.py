"""Fixtures that start real parts: a Kafka broker, the SMTP sink, and the whole system.

A broker is started per test module on free ports in a fresh folder, so tests never touch a
developer's running `cairn dev` nor see another module's records. What a module started is
stopped in the background (in order: the system, then its broker) while the next module starts.
Safe under pytest-xdist: each worker has its own tmp folders and ports.
"""

import asyncio
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from cairn.settings import REPO_ROOT
from devtools import kafka_broker
from devtools import postgres as postgres_cluster
from devtools.dev import free_port

OUTPUT = REPO_ROOT / "test-output"


def ten_hours_badge(**overrides: object) -> dict[str, object]:
    """The POST /v1/badge-classes body the end-to-end tests share: 10 hours of any shifts."""
    return {
        "id": "ten-hours",
        "name": "Pantry volunteer: 10 hours",
        "description": "Gave ten hours at the pantry.",
        "criteria_narrative": "Log at least 10 hours of volunteer shifts.",
        "criteria": {"kind": "total_hours", "at_least": 10},
        **overrides,
    }


class Stopper:
    """Runs stop jobs one after another in a background thread, in the order they were handed
    over; the session waits for all of them at its end and fails if one failed."""

    def __init__(self) -> None:
        self._jobs: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._errors: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, name="stopper", daemon=True)
        self._thread.start()

    def later(self, job: Callable[[], None]) -> None:
        self._jobs.put(job)

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                job()
            except BaseException as error:  # reported when the session ends
                self._errors.append(error)

    def finish(self) -> None:
        self._jobs.put(None)
        self._thread.join()
        if self._errors:
            raise self._errors[0]


@pytest.fixture(scope="session")
def stopper() -> Iterator[Stopper]:
    stopper = Stopper()
    yield stopper
    stopper.finish()


@pytest.fixture(scope="module")
def kafka_starting(tmp_path_factory: pytest.TempPathFactory, stopper: Stopper) -> Iterator[str]:
    """A fresh broker per test module, so no module sees another's records or consumer offsets;
    started but maybe not answering yet. `cairn dev` waits for the broker itself, so a system
    fixture takes this one and starts while the JVM does."""
    home = tmp_path_factory.mktemp("kafka")
    broker = kafka_broker.prepare(
        REPO_ROOT / "var", home, free_port(), partitions=3, controller_port=free_port()
    )
    kafka_broker.start(broker, REPO_ROOT / "var", short_lived=True)
    try:
        yield broker.bootstrap
    finally:
        stopper.later(lambda: kafka_broker.stop(broker))


@pytest.fixture(scope="module")
def kafka(kafka_starting: str) -> str:
    """The module's broker, answering requests."""
    started = time.monotonic()
    asyncio.run(kafka_broker.wait_ready(kafka_starting))
    print(f"\nkafka broker ready after a further {time.monotonic() - started:.1f}s", file=sys.stderr)
    return kafka_starting


@dataclass
class System:
    """A running Cairn: every service a separate process under `cairn dev`."""

    env: dict[str, str]
    var_dir: Path
    public_url: str
    process: subprocess.Popen[bytes]

    @property
    def mail_dir(self) -> Path:
        return self.var_dir / "mail"

    def cairn(
        self, *args: str, check: bool = True, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cairn.cli", *args],
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            check=check,
            timeout=120,
        )

    def pid_of(self, service: str) -> int:
        return int((self.var_dir / "run" / f"{service}.pid").read_text())


@contextmanager
def running_system(
    kafka: str, var_dir: Path, extra_env: dict[str, str] | None = None, stopper: Stopper | None = None
) -> Iterator[System]:
    """`cairn dev` on this broker; stopped (and its logs kept) by `stopper` if given, else here."""
    gateway_port = free_port()
    env = {
        **os.environ,
        "CAIRN_VAR_DIR": str(var_dir),
        "CAIRN_KAFKA_BOOTSTRAP": kafka,
        "CAIRN_TOPIC_PARTITIONS": "3",
        "CAIRN_GATEWAY_PORT": str(gateway_port),
        "CAIRN_PUBLIC_URL": f"http://127.0.0.1:{gateway_port}",
        "CAIRN_SMTP_PORT": str(free_port()),
        "CAIRN_AGGREGATOR_WEB_PORT": str(free_port()),
        **{
            f"CAIRN_METRICS_PORT_{s}": str(free_port())
            for s in ("AGGREGATOR", "SIGNER", "NOTIFIER", "PROJECTOR", "WEBHOOKS")
        },
        **(extra_env or {}),
    }
    log = (var_dir / "dev.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "cairn.cli", "dev", "--external-kafka"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=REPO_ROOT,
    )
    started = time.monotonic()

    def stop() -> None:
        process.terminate()
        process.wait(60)
        _keep_logs(var_dir)

    try:
        deadline = started + 120
        while b"ready" not in (var_dir / "dev.log").read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("cairn dev did not start:\n" + (var_dir / "dev.log").read_text())
            time.sleep(0.05)
        print(f"\ncairn dev ready in {time.monotonic() - started:.1f}s", file=sys.stderr)
        yield System(env=env, var_dir=var_dir, public_url=env["CAIRN_PUBLIC_URL"], process=process)
    finally:
        if stopper is None:
            stop()
        else:
            stopper.later(stop)


def system_with(name: str, **env: str):
    """A module-scoped fixture: the whole system, started with these CAIRN_* settings."""

    @pytest.fixture(scope="module")
    def started(
        kafka_starting: str, tmp_path_factory: pytest.TempPathFactory, stopper: Stopper
    ) -> Iterator[System]:
        with running_system(kafka_starting, tmp_path_factory.mktemp(name), env, stopper) as running:
            yield running

    return started


@pytest.fixture(scope="module")
def system(
    kafka_starting: str, tmp_path_factory: pytest.TempPathFactory, stopper: Stopper
) -> Iterator[System]:
    with running_system(kafka_starting, tmp_path_factory.mktemp("cairn-var"), stopper=stopper) as running:
        yield running


def _keep_logs(var_dir: Path) -> None:
    """Copies the service logs under test-output/ so a failed CI run can be read afterwards."""
    # pytest-N/cairn-var0, or pytest-N/popen-gw1/cairn-var0 under pytest-xdist
    under_run = var_dir.parts[-3:] if os.environ.get("PYTEST_XDIST_WORKER") else var_dir.parts[-2:]
    target = OUTPUT / "logs" / "-".join(under_run)
    target.mkdir(parents=True, exist_ok=True)
    for log in [var_dir / "dev.log", *(var_dir / "logs").glob("*.log")]:
        if log.exists():
            (target / log.name).write_bytes(log.read_bytes())


@pytest.fixture(scope="session")
def postgres() -> Iterator[postgres_cluster.Cluster]:
    """A throwaway PostgreSQL cluster (Debian's package) on a free port, owned by user postgres;
    a test may restart it (devtools/postgres.py), though one that does is better off with its own
    (`postgres_cluster.start_cluster`), as other modules' systems share this one."""
    if postgres_cluster.server_bin() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed; .ci/run should have installed it")
        pytest.skip("PostgreSQL server not installed (apt-get install postgresql)")
    # Not under pytest's tmp folder: that is private to root, and the server runs as postgres.
    cluster = postgres_cluster.start_cluster(Path(tempfile.mkdtemp(prefix="cairn-pg-")))
    try:
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture(scope="session")
def postgres_url(postgres: postgres_cluster.Cluster) -> str:
    """The URL of the database `cairn` on the session's cluster (superuser `cairn`)."""
    return postgres.url
