"""docker-compose.yml, run without Docker: each Cairn service with that file's command and
environment (compose hostnames mapped to loopback; Kafka from Maven, Debian's PostgreSQL, the SMTP
sink for Mailpit), then one award from event to claimed, verified credential through them — so the
compose file cannot drift from what works."""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

from cairn.settings import REPO_ROOT
from devtools.dev import free_port
from devtools.smtp_sink import start_sink
from tests.conftest import ten_hours_badge
from tests.e2e.volunteering import claim_link, shift, wait_for_mail, wait_until

pytestmark = pytest.mark.e2e

COMPOSE = REPO_ROOT / "docker-compose.yml"
CONTAINER_STATE = "/var/lib/cairn/"
METRICS = ("AGGREGATOR", "SIGNER", "NOTIFIER", "PROJECTOR", "WEBHOOKS")


def _resolve(value: object, dotenv: dict[str, str]) -> str:
    """Compose's `${VAR:-default}`: .env wins where the file references it (.env.example stands in)."""
    return re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: dotenv.get(m.group(1)) or m.group(2), str(value))


def _dotenv() -> dict[str, str]:
    lines = (REPO_ROOT / ".env.example").read_text().splitlines()
    pairs = (line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


def _cairn_services(compose: dict) -> dict[str, dict]:
    """The services built from the Cairn image (the rest are Kafka, PostgreSQL, Mailpit)."""
    return {name: spec for name, spec in compose["services"].items() if "build" in spec}


def _argv(command: list[str]) -> list[str]:
    """The image's `python …` and `cairn …` as this interpreter runs them."""
    if command[0] == "python":
        return [sys.executable, *command[1:]]
    assert command[0] == "cairn", f"unknown entry point {command}"
    return [sys.executable, "-m", "cairn.cli", *command[1:]]


def test_compose_services_award_a_claimed_verified_credential(kafka, postgres_url, tmp_path):
    compose = yaml.safe_load(COMPOSE.read_text())
    services = _cairn_services(compose)
    dotenv = _dotenv()
    gateway_port, smtp_port = free_port(), free_port()
    public = f"http://127.0.0.1:{gateway_port}"
    pg_address = re.search(r"@([^/]+)/", postgres_url).group(1)
    # the compose network's addresses, as this machine has them
    network = {
        "kafka:9092": kafka,
        "postgres:5432": pg_address,
        "localhost:8000": f"127.0.0.1:{gateway_port}",
        "0.0.0.0": "127.0.0.1",
    }
    sink = start_sink(tmp_path / "sink", "127.0.0.1", smtp_port)

    def environment(name: str, spec: dict) -> dict[str, str]:
        env: dict[str, str] = {}
        for key, raw in (spec.get("environment") or {}).items():
            value = _resolve(raw, dotenv)
            for address, local in network.items():
                value = value.replace(address, local)
            value = value.replace(CONTAINER_STATE, f"{tmp_path}/")
            env[key] = value
        assert env.get("CAIRN_SMTP_HOST") == "mailpit", f"{name}: mail goes to the compose Mailpit"
        env["CAIRN_SMTP_HOST"], env["CAIRN_SMTP_PORT"] = "127.0.0.1", str(smtp_port)
        for key, value in env.items():
            leftover = re.search(r"\b(kafka|postgres|mailpit|gateway):\d+", value)
            assert not leftover, f"{name}: {key} names an unmapped compose host: {value}"
        # what a container has on its own: a private filesystem and its own ports
        env.setdefault("CAIRN_VAR_DIR", str(tmp_path / name))
        return {
            **os.environ,
            **env,
            "CAIRN_GATEWAY_PORT": str(gateway_port),
            "CAIRN_AGGREGATOR_WEB_PORT": str(free_port()),
            **{f"CAIRN_METRICS_PORT_{s}": str(free_port()) for s in METRICS},
        }

    envs = {name: environment(name, spec) for name, spec in services.items()}
    for spec in services.values():  # the named volumes Docker mounts into the containers
        for volume in spec.get("volumes", []):
            target = volume.split(":")[1]
            assert target.startswith(CONTAINER_STATE), f"a volume outside {CONTAINER_STATE}: {volume}"
            (tmp_path / target.removeprefix(CONTAINER_STATE)).mkdir(parents=True, exist_ok=True)
    one_shot = [n for n, s in services.items() if s.get("restart") == "no"]
    assert one_shot == ["setup"], "one setup service runs before the others"
    started = time.monotonic()
    setup = subprocess.run(
        _argv(services["setup"]["command"]),
        env=envs["setup"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert setup.returncode == 0, setup.stdout + setup.stderr

    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name, spec in services.items():
            if name in one_shot:
                continue
            log = (tmp_path / f"{name}.log").open("wb")
            processes[name] = subprocess.Popen(
                _argv(spec["command"]), env=envs[name], cwd=tmp_path, stdout=log, stderr=log
            )
        assert set(processes) | set(one_shot) == set(services), "every Cairn service is run"
        assert {"gateway", "aggregator", "signer", "notifier", "projector"} <= set(processes)

        def ready() -> int:
            for name, process in processes.items():
                assert process.poll() is None, (
                    f"{name} exited: " + (tmp_path / f"{name}.log").read_text()[-3000:]
                )
            try:
                return httpx.get(f"{public}/readyz", timeout=5).status_code
            except httpx.HTTPError:
                return 0

        wait_until(ready, lambda status: status == 200, "gateway /readyz", timeout=120, every=0.5)

        created = subprocess.run(
            [
                sys.executable,
                "-m",
                "cairn.cli",
                "org",
                "create",
                "Riverside Food Bank",
                "--slug",
                "riverside",
            ],
            env=envs["gateway"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert created.returncode == 0, created.stdout + created.stderr
        api_key = re.search(r"api key (\S+)", created.stdout).group(1)
        client = httpx.Client(base_url=public, headers={"Authorization": f"Bearer {api_key}"}, timeout=30)
        assert client.post("/v1/badge-classes", json=ten_hours_badge()).status_code == 201
        shifts = [shift("s1", 1, 4), shift("s2", 2, 3), shift("s3", 3, 3)]
        assert client.post("/v1/events", json={"events": shifts}).status_code == 202

        [mail] = wait_for_mail(tmp_path / "sink", 1, timeout=120)
        assert mail["To"] == "Sam Okafor <sam@example.org>"
        page = httpx.get(claim_link(mail), timeout=30)
        assert page.status_code == 200 and "Pantry volunteer: 10 hours" in page.text
        download = re.search(r'id="download" href="([^"]+)"', page.text).group(1)
        credential = httpx.get(public + download, timeout=30).json()
        assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
        result = httpx.post(f"{public}/v1/verify", json=credential, timeout=30).json()
        assert result["valid"], result
        print(f"\ncompose-equivalent: setup to verified credential in {time.monotonic() - started:.1f}s")
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        sink.stop()
        for name in processes:
            log = tmp_path / f"{name}.log"
            if log.exists():
                (Path(REPO_ROOT / "test-output") / "compose").mkdir(parents=True, exist_ok=True)
                (REPO_ROOT / "test-output" / "compose" / f"{name}.log").write_bytes(log.read_bytes())
