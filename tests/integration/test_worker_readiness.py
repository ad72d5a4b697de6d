"""A real worker answers GET /readyz on its metrics port: the signer, started as in production
against a real broker, turns ready (200) once its consumer has joined its group, and still serves
/metrics on the same port; under `cairn dev` every worker (the Faust aggregator too) turns ready."""

import os
import subprocess
import sys
import time

import httpx
import pytest

from cairn.settings import REPO_ROOT
from devtools.dev import free_port
from tests.conftest import System

pytestmark = pytest.mark.integration


def test_the_signer_answers_ready_once_it_consumes(kafka, tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "CAIRN_VAR_DIR": str(tmp_path),
        "CAIRN_KAFKA_BOOTSTRAP": kafka,
        "CAIRN_TOPIC_PARTITIONS": "3",
        "CAIRN_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cairn.db'}",
        "CAIRN_MASTER_KEY_FILE": str(tmp_path / "master.key"),
        "CAIRN_METRICS_PORT_SIGNER": str(port),
    }
    run = {"env": env, "cwd": REPO_ROOT}
    subprocess.run([sys.executable, "-m", "cairn.cli", "setup"], check=True, timeout=120, **run)
    log = (tmp_path / "signer.log").open("wb")
    signer = subprocess.Popen([sys.executable, "-m", "services.signer"], stdout=log, stderr=log, **run)
    try:
        deadline, answers = time.monotonic() + 60, []
        while time.monotonic() < deadline:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
                answers.append(answer.status_code)
                if answer.status_code == 200:
                    break
            except httpx.TransportError:
                pass  # not listening yet
            assert signer.poll() is None, (tmp_path / "signer.log").read_text()
            time.sleep(0.1)
        assert answers and answers[-1] == 200, (answers[-5:], (tmp_path / "signer.log").read_text())
        assert set(answers) <= {200, 503}
        assert answer.json() == {"status": "ready", "consumers": {"cairn-signer": True}}
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
        assert metrics.status_code == 200 and "cairn_credentials_signed_total" in metrics.text
    finally:
        signer.terminate()
        signer.wait(30)


def test_every_worker_of_a_running_system_turns_ready(system: System):
    waiting = {"aggregator", "signer", "notifier", "projector", "webhooks"}
    deadline, last = time.monotonic() + 90, {}
    while waiting and time.monotonic() < deadline:
        for worker in sorted(waiting):
            port = system.env[f"CAIRN_METRICS_PORT_{worker.upper()}"]
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
            except httpx.TransportError as error:  # restarting: a crash shows as never ready
                last[worker] = (0, str(error))
                continue
            last[worker] = (answer.status_code, answer.json())
            if answer.status_code == 200:
                waiting.discard(worker)
        time.sleep(0.2)
    assert not waiting, last
    assert last["aggregator"][1]["consumers"] == {"aggregator": True}, last
    assert set(last["notifier"][1]["consumers"]) == {"cairn-notifier", "cairn-notifier-resends"}
    assert len(last["webhooks"][1]["consumers"]) == 3 + 1 + 7  # sources, first attempts, retry tiers
