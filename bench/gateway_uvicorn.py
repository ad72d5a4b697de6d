"""The gateway as deployed: one uvicorn process (`python -m services.gateway`) on a fresh SQLite
file, publishing to the broker given, with --in-flight single-event POSTs at a time for
--seconds. Prints one JSON line: POSTs accepted per second and the gateway process's CPU time
per POST (from /proc, so the load client's own CPU is not counted). With --py-spy FILE, records
the gateway's profile meanwhile (py-spy's raw format, one collapsed stack per line; `pip install
py-spy`). Linux only. bench/gateway.py measures the same app in-process against a bare FastAPI.

    PYTHONPATH=. .venv/bin/python bench/gateway_uvicorn.py --kafka HOST:PORT [--seconds 20]
        [--in-flight 16] [--py-spy gateway.txt]
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.gateway import shift
from cairn import bootstrap
from cairn.settings import REPO_ROOT, Settings
from devtools.dev import free_port
from schemas.admin import OrgCreateIn

PEOPLE = 500  # distinct volunteers the POSTs name


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


async def main(kafka: str, seconds: float, in_flight: int, py_spy: str | None) -> None:
    env = {
        "CAIRN_VAR_DIR": tempfile.mkdtemp(prefix="cairn-bench-uvicorn-"),
        "CAIRN_KAFKA_BOOTSTRAP": kafka,
        "CAIRN_GATEWAY_PORT": str(free_port()),
        "CAIRN_API_REQUESTS_PER_MINUTE": str(10**9),
        "CAIRN_API_BURST": str(10**9),
    }
    os.environ.update(env)
    settings = Settings()
    await bootstrap.setup(settings)
    _, api_key = await bootstrap.create_org(settings, OrgCreateIn(name="Bench", slug="bench"))
    log = (settings.var_dir / "gateway.log").open("w")
    command = [sys.executable, "-m", "services.gateway"]
    gateway = subprocess.Popen(command, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{env['CAIRN_GATEWAY_PORT']}"
    headers = {"Authorization": f"Bearer {api_key}"}
    try:
        async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120) as client:
            for _ in range(300):
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            for n in range(1, 21):  # warm-up
                await client.post("/v1/events", json=shift(-n, PEOPLE))
            numbers, accepted, refused = iter(range(10**9)), 0, 0
            ends = time.monotonic() + seconds

            async def poster() -> None:
                nonlocal accepted, refused
                for n in numbers:
                    if time.monotonic() > ends:
                        return
                    status = (await client.post("/v1/events", json=shift(n, PEOPLE))).status_code
                    accepted, refused = accepted + (status == 202), refused + (status != 202)

            spy = None
            if py_spy:
                found = Path(sys.executable).with_name("py-spy")
                record = [str(found) if found.exists() else "py-spy", "record", "-r", "200", "-f", "raw"]
                record += ["-o", py_spy, "-d", str(int(seconds))]
                spy = subprocess.Popen([*record, "-p", str(gateway.pid)], stdout=subprocess.DEVNULL)
            cpu, started = cpu_seconds(gateway.pid), time.monotonic()
            await asyncio.gather(*(poster() for _ in range(in_flight)))
            cpu, elapsed = cpu_seconds(gateway.pid) - cpu, time.monotonic() - started
            if spy:
                spy.wait()
    finally:
        gateway.terminate()
        gateway.wait(30)
        log.close()
    line = {
        "gateway": "uvicorn",
        "in_flight": in_flight,
        "posts": accepted,
        "refused": refused,
        "posts_per_second": round(accepted / elapsed, 1),
        "cpu_ms_per_post": round(cpu / max(accepted, 1) * 1e3, 2),
    }
    print(json.dumps(line), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kafka", required=True, help="a broker the gateway publishes to (acks=all)")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--in-flight", type=int, default=16, help="POSTs at a time")
    parser.add_argument("--py-spy", help="record the gateway's profile to this file")
    args = parser.parse_args()
    asyncio.run(main(args.kafka, args.seconds, args.in_flight, args.py_spy))
