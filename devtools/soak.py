"""The soak: does any service's memory keep growing under a steady load?

Starts a Kafka broker and the whole system (`cairn dev --external-kafka`, SQLite, the SMTP sink)
with bench/pipeline.py's parts, offers 20 single-event POSTs a second (one in four earns a
badge) for SOAK_MINUTES, and samples each service's RSS every SOAK_SAMPLE_SECONDS into
test-output/soak.jsonl (one JSON line per sample: elapsed seconds and MB per service). A
service's processes are found in /proc by their command line (`-m services.<name>`) and by this
run's CAIRN_VAR_DIR in their environment, so other Cairn instances on the machine do not count;
a service's child processes count towards it.

The verdict per service: flat when no sample after the warm-up (the first 10 minutes, or the
first sixth of a shorter run) is more than 10% above the first sample after it. Exit code 1 if
any service is not flat, or could not be judged (not found, too few samples).

    PYTHONPATH=. .venv/bin/python devtools/soak.py [--minutes 60] [--sample-seconds 60]
    make soak SOAK_MINUTES=10 SOAK_SAMPLE_SECONDS=30
"""

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench.pipeline import BADGE, PARTITIONS, create_org, offer, posting_clients, running_cairn, say
from cairn.settings import REPO_ROOT
from devtools import kafka_broker
from devtools.dev import free_port

SERVICES = ("gateway", "aggregator", "signer", "notifier", "projector", "webhooks")
RATE = 20.0
GROWTH_LIMIT = 0.10
WARM_UP_SECONDS = 600.0


def warm_up_seconds(run_seconds: float) -> float:
    """Ten minutes, or the first sixth of a run shorter than an hour."""
    return min(WARM_UP_SECONDS, run_seconds / 6)


def verdict(samples: list[tuple[float, float]], run_seconds: float) -> dict[str, object]:
    """Flat or not from (elapsed seconds, RSS MB) samples: growth is measured against the first
    sample at or after the warm-up, so start-up allocation and caches filling do not count."""
    after = [(at, mb) for at, mb in samples if at >= warm_up_seconds(run_seconds)]
    if len(after) < 2:
        return {"flat": None, "reason": "fewer than two samples after the warm-up"}
    baseline = after[0][1]
    if baseline <= 0:
        return {"flat": None, "reason": "no process found"}
    peak = max(mb for _, mb in after)
    growth = (peak - baseline) / baseline if baseline else 0.0
    return {
        "flat": growth <= GROWTH_LIMIT,
        "baseline_mb": round(baseline, 1),
        "peak_mb": round(peak, 1),
        "growth": round(growth, 3),
    }


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return b""


def service_rss_mb(var_dir: Path) -> dict[str, float]:
    """Each service's RSS in MB, its child processes included, for this run's processes only."""
    marker = f"CAIRN_VAR_DIR={var_dir}".encode()
    parent: dict[int, int] = {}
    rss: dict[int, int] = {}
    owner: dict[int, str] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or marker not in _read(f"/proc/{entry}/environ").split(b"\0"):
            continue
        pid = int(entry)
        statm, stat = _read(f"/proc/{pid}/statm").split(), _read(f"/proc/{pid}/stat")
        if not statm or not stat:
            continue
        rss[pid] = int(statm[1]) * page
        parent[pid] = int(stat.rsplit(b")", 1)[1].split()[1])
        argv = _read(f"/proc/{pid}/cmdline").split(b"\0")
        for name in SERVICES:
            if f"services.{name}".encode() in argv:
                owner[pid] = name
    totals = dict.fromkeys(SERVICES, 0.0)
    for pid, size in rss.items():
        ancestor = pid
        while ancestor in parent and ancestor not in owner:
            ancestor = parent[ancestor]
        if ancestor in owner:
            totals[owner[ancestor]] += size / 2**20
    return {name: round(mb, 1) for name, mb in totals.items()}


async def sample(var_dir: Path, out: Path, every: float, run_seconds: float) -> list[dict]:
    """Samples every `every` seconds until `run_seconds` have passed, appending to `out`."""
    lines: list[dict] = []
    started = time.monotonic()
    with out.open("w") as f:
        while True:
            elapsed = time.monotonic() - started
            line = {"elapsed_seconds": round(elapsed), "rss_mb": service_rss_mb(var_dir)}
            f.write(json.dumps(line) + "\n")
            f.flush()
            lines.append(line)
            say(f"soak {elapsed / 60:.1f} min: " + ", ".join(f"{k} {v}" for k, v in line["rss_mb"].items()))
            if elapsed + every > run_seconds + 1:
                return lines
            # The next slot on the grid: a late sample (a starved event loop) is not repeated.
            await asyncio.sleep(every - (time.monotonic() - started) % every)


async def main(minutes: float, every: float, out: Path) -> int:
    run_seconds = minutes * 60
    home = Path(tempfile.mkdtemp(prefix="cairn-soak-"))
    broker = kafka_broker.prepare(REPO_ROOT / "var", home / "kafka", free_port(), PARTITIONS, free_port())
    kafka_broker.start(broker, REPO_ROOT / "var", short_lived=True)
    try:
        await kafka_broker.wait_ready(broker.bootstrap)
        say(f"broker {broker.bootstrap} ready; starting cairn dev in {home}")
        with running_cairn(broker.bootstrap, home / "var") as env:
            async with posting_clients(env, create_org(env)) as clients:
                created = await clients[0].post("/v1/badge-classes", json=BADGE)
                if created.status_code not in (200, 201):
                    sys.exit(f"badge class refused: {created.status_code} {created.text}")
                out.parent.mkdir(parents=True, exist_ok=True)
                sampler = asyncio.create_task(sample(Path(env["CAIRN_VAR_DIR"]), out, every, run_seconds))
                await offer(clients, "soak", RATE, run_seconds)
                lines = await sampler
    finally:
        kafka_broker.stop(broker)
        shutil.rmtree(home, ignore_errors=True)
    flat = True
    for name in SERVICES:
        series = [(line["elapsed_seconds"], line["rss_mb"][name]) for line in lines]
        result = verdict(series, run_seconds)
        flat = flat and result["flat"] is True
        print(json.dumps({"service": name, **result}), flush=True)
    return 0 if flat else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=float(os.environ.get("SOAK_MINUTES", 60)))
    parser.add_argument(
        "--sample-seconds", type=float, default=float(os.environ.get("SOAK_SAMPLE_SECONDS", 60))
    )
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "test-output" / "soak.jsonl")
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.minutes, args.sample_seconds, args.out)))
