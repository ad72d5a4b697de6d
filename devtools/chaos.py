"""The chaos run: the whole system under the faults that really happen together, and a verdict
from what it did (issue 15).

Starts Kafka (three KRaft brokers on loopback, replication 3, min.insync.replicas 2; or one, or
an external broker), a throwaway PostgreSQL cluster, and `cairn dev` with two aggregator
workers, two signers and two notifiers. Sends devtools/chaos_plan.py's events through the API
(batches and single posts; duplicates, late events and voids mixed in) and writes a few
malformed records straight onto each consumed topic. Meanwhile it SIGKILLs every service
instance at random moments, kills a broker and restarts it, restarts PostgreSQL, and makes the
SMTP server refuse, drop and stall 30% of attempts for a while (devtools/smtp_faults.py).

Then it waits until every expected credential is signed and emailed, and judges
(devtools/chaos_verdict.py): credentials == the awards `cairn criteria check` computes over every
accepted event (award ids, figures and dates), none twice; one accepted email per credential,
counted at the SMTP server by Message-ID; the dead-letter topics hold exactly the malformed
records, with causes; no volunteer's email or name in any Kafka record; each service's memory at
the end within 1.5x of after warm-up. Writes test-output/chaos.json; exit code 1 unless all hold.

    PYTHONPATH=. .venv/bin/python devtools/chaos.py [--volunteers 2000] [--minutes 10] [--brokers 3]
    make chaos CHAOS_VOLUNTEERS=2000 CHAOS_MINUTES=10
"""

import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.pipeline import create_org, running_cairn, say
from cairn.settings import REPO_ROOT
from devtools import chaos_collect, chaos_plan, chaos_verdict, kafka_broker
from devtools.chaos_plan import Fault, Plan, Post
from devtools.demo_season import BADGES, FIXIT, RIVERSIDE
from devtools.dev import free_port
from devtools.postgres import start_cluster
from devtools.soak import service_rss_mb
from devtools.topic_reader import write_raw

IN_FLIGHT = 8  # requests at once
SMTP_FAULTS = {"rate": 0.3, "kinds": ["refuse", "drop", "timeout"], "timeout_seconds": 8}
# How long after each fault its effects may last, for the event-to-email figure outside faults.
# A broker's window runs from its kill to its restart, plus its aftermath.
AFTERMATH = {"kill": 20.0, "database-restart": 20.0, "smtp": 30.0}
BROKER_AFTERMATH = 30.0


@dataclass
class Run:
    """What happened, with wall-clock times (the SMTP sink names its files by wall clock)."""

    accepted: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # org -> events
    # (org, email) -> (first attempt sent, accepted, when it happened) of each of their events
    arrivals: dict[tuple[str, str], list[tuple[float, float, str]]] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)
    retries: int = 0
    faults: list[dict[str, Any]] = field(default_factory=list)
    windows: list[tuple[float, float]] = field(default_factory=list)


async def post_until_accepted(client: httpx.AsyncClient, post: Post, run: Run, deadline: float) -> None:
    """Retries through gateway kills, broker and database outages (the same event ids, so a
    retry is never a second event); a 4xx other than 429 is the plan's fault and is reported."""
    body: Any = post.events[0] if post.single else {"events": list(post.events)}
    pause, first_sent = 0.5, time.time()
    while True:
        try:
            response = await client.post("/v1/events", json=body)
            if response.status_code == 202:
                break
            if response.status_code < 500 and response.status_code != 429:
                run.refused.append(f"{response.status_code} {response.text[:300]}")
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"a post to {post.org} not accepted before the deadline")
        run.retries += 1
        await asyncio.sleep(pause)
        pause = min(pause * 2, 5.0)
    now = time.time()
    run.accepted.setdefault(post.org, []).extend(post.events)
    for event in post.events:
        person = event.get("volunteer") or event["attendee"]
        arrived = (first_sent, now, chaos_plan.event_time(event))
        run.arrivals.setdefault((post.org, person["email"].lower()), []).append(arrived)


async def send(plan: Plan, clients: dict[str, httpx.AsyncClient], seconds: float, run: Run) -> None:
    """Paced over `seconds`; each phase is accepted in full before the next starts (a void
    before the entry it takes back)."""
    slots = asyncio.Semaphore(IN_FLIGHT)
    started = time.monotonic()
    deadline = started + seconds + 900
    gap = seconds / max(1, len(plan.posts))

    async def one(n: int, post: Post) -> None:
        async with slots:
            await post_until_accepted(clients[post.org], post, run, deadline)
        if n % 200 == 0:
            say(f"chaos: {n}/{len(plan.posts)} posts accepted ({run.retries} retries)")

    for phase in chaos_plan.PHASES:
        tasks = []
        for n, post in enumerate(plan.posts):
            if post.phase != phase:
                continue
            await asyncio.sleep(max(0.0, started + n * gap - time.monotonic()))
            tasks.append(asyncio.create_task(one(n, post)))
        await asyncio.gather(*tasks)


@dataclass
class Parts:
    """What the faults act on."""

    var_dir: Path
    brokers: list[kafka_broker.Broker]
    database: Any  # devtools.postgres.Cluster, or None on SQLite
    db_down_seconds: float
    victim: kafka_broker.Broker | None = None
    victim_down_since: float = 0.0


async def inject(fault: Fault, parts: Parts, run: Run) -> None:
    at = time.time()
    done: dict[str, Any] = {"kind": fault.kind, "target": fault.target, "at": at}
    if fault.kind == "kill":
        pid_file = parts.var_dir / "run" / f"{fault.target}.pid"
        try:
            os.kill(int(pid_file.read_text()), signal.SIGKILL)
        except FileNotFoundError:
            done["missed"] = "no such instance"
        except ProcessLookupError:
            done["missed"] = "not running: being restarted"
    elif fault.kind == "broker-kill":
        parts.victim, parts.victim_down_since = parts.brokers[-1], at
        kafka_broker.kill(parts.victim)
        done["target"] = parts.victim.bootstrap
    elif fault.kind == "broker-start" and parts.victim is not None:
        kafka_broker.start(parts.victim, REPO_ROOT / "var", short_lived=True)
        done["target"] = parts.victim.bootstrap
        run.windows.append((parts.victim_down_since, at + BROKER_AFTERMATH))
    elif fault.kind == "database-restart":
        if parts.database is None:
            done["missed"] = "SQLite: no server to restart"
        else:
            await asyncio.to_thread(parts.database.restart, parts.db_down_seconds)
            done["back_at"] = time.time()
    elif fault.kind == "smtp":
        faults = {**SMTP_FAULTS, "until": at + fault.seconds}
        (parts.var_dir / "run" / "smtp-faults.json").write_text(json.dumps(faults))
        done["until"] = faults["until"]
    end = done.get("back_at", done.get("until", at))
    if fault.kind in AFTERMATH:
        run.windows.append((at, end + AFTERMATH[fault.kind]))
    run.faults.append(done)
    say(f"chaos: {fault.kind} {done['target']}{' (' + done['missed'] + ')' if 'missed' in done else ''}")


async def break_things(plan: Plan, parts: Parts, run: Run) -> None:
    started = time.monotonic()
    for fault in plan.faults:
        await asyncio.sleep(max(0.0, started + fault.at - time.monotonic()))
        await inject(fault, parts, run)


async def main(args: argparse.Namespace) -> int:
    home = Path(tempfile.mkdtemp(prefix="cairn-chaos-"))
    seconds = args.minutes * 60
    ours = 1 if args.bootstrap else args.brokers  # an external broker is not ours to kill
    plan = chaos_plan.plan(
        args.volunteers, seconds, datetime.now(UTC), args.seed, args.kills, ours, args.smtp_seconds
    )
    say(f"chaos: {plan.counts} for {args.volunteers} volunteers over {args.minutes:g} min; home {home}")
    brokers: list[kafka_broker.Broker] = []
    if args.bootstrap:
        bootstrap = args.bootstrap
    elif args.brokers == 1:
        brokers = [kafka_broker.prepare(REPO_ROOT / "var", home / "kafka", free_port(), 3, free_port())]
    else:
        nodes = [(free_port(), free_port()) for _ in range(args.brokers)]
        brokers = kafka_broker.prepare_cluster(REPO_ROOT / "var", home / "kafka", nodes, 3)
    # its own folder: the server runs as postgres, who cannot enter root's private temp folder
    database = (
        start_cluster(Path(tempfile.mkdtemp(prefix="cairn-chaos-pg-")))
        if args.database == "postgres"
        else None
    )
    try:
        for broker in brokers:
            kafka_broker.start(broker, REPO_ROOT / "var", short_lived=True)
        if brokers:
            bootstrap = kafka_broker.cluster_bootstrap(brokers)
            for broker in brokers:
                await kafka_broker.wait_ready(broker.bootstrap)
        env = {
            "CAIRN_AGGREGATOR_WORKERS": "2",
            "CAIRN_SIGNER_WORKERS": "2",
            "CAIRN_NOTIFIER_WORKERS": "2",
            "CAIRN_SMTP_TIMEOUT_SECONDS": "5",
            **({"CAIRN_DATABASE_URL": database.url} if database else {}),
        }
        if len(brokers) > 1:
            env |= {"CAIRN_TOPIC_REPLICATION_FACTOR": "3", "CAIRN_TOPIC_MIN_INSYNC_REPLICAS": "2"}
        with running_cairn(bootstrap, home / "var", env) as cairn_env:
            parts = Parts(Path(cairn_env["CAIRN_VAR_DIR"]), brokers, database, args.db_down_seconds)
            return await _chaos(args, plan, cairn_env, parts, bootstrap)
    finally:
        for broker in brokers:
            kafka_broker.kill(broker)
        if database is not None:
            database.remove()


async def _chaos(
    args: argparse.Namespace, plan: Plan, env: dict[str, str], parts: Parts, bootstrap: str
) -> int:
    run = Run()
    clients = {}
    for org in (RIVERSIDE, FIXIT):
        key = create_org(env, org.name, org.slug)
        clients[org.slug] = httpx.AsyncClient(
            base_url=env["CAIRN_PUBLIC_URL"], headers={"Authorization": f"Bearer {key}"}, timeout=60
        )
        for badge in BADGES[org.slug]:
            created = await clients[org.slug].post("/v1/badge-classes", json=badge)
            assert created.status_code == 201, created.text
    for poison in plan.poison:
        await asyncio.to_thread(write_raw, bootstrap, poison.topic, poison.key, poison.value)
    warm_up = asyncio.create_task(_memory_after(parts.var_dir, min(120.0, args.minutes * 60 * 0.15)))
    started = time.time()
    await asyncio.gather(send(plan, clients, args.minutes * 60, run), break_things(plan, parts, run))
    sent_at = time.time()
    say(f"chaos: every post accepted in {sent_at - started:.0f}s ({run.retries} retries); now the mail")
    expected, owners = await chaos_collect.expected_awards(run.accepted, BADGES, env)
    finished = await chaos_collect.until_all_emailed(env, len(expected), timeout=args.settle_minutes * 60)
    after_warm_up = await warm_up
    late = {
        award for award, owner in owners.items() if chaos_verdict.out_of_order(run.arrivals.get(owner, []))
    }
    report, emailed = await chaos_collect.collect(env, bootstrap, expected, late, plan, parts.var_dir)
    for other in report["credentials"]["other_dates"]:  # what the reader needs to look into one
        owner = owners[other["award_id"]]
        other |= {"owner": owner, "arrivals": sorted(run.arrivals.get(owner, []))}
    report["memory"] = chaos_verdict.memory_verdict(after_warm_up, service_rss_mb(parts.var_dir))
    last_fault = max([f.get("back_at", f.get("until", f["at"])) for f in run.faults] or [started])
    report["figures"] = {
        **plan.counts,
        "volunteers": args.volunteers,
        "brokers": len(parts.brokers) or "external",
        "database": args.database,
        "retried_posts": run.retries,
        "refused_posts": run.refused[:20],
        "sending_seconds": round(sent_at - started),
        "kills": _count(run, "kill"),
        "missed_kills": sum(1 for f in run.faults if f["kind"] == "kill" and "missed" in f),
        "broker_kills": _count(run, "broker-kill"),
        "database_restarts": sum(1 for f in run.faults if f["kind"] == "database-restart" and "back_at" in f),
        "smtp_faults_injected": chaos_collect.smtp_faults_injected(parts.var_dir),
        "recovery_after_last_fault_s": round(finished - last_fault, 1) if finished else None,
        "settled_after_last_post_s": round(finished - sent_at, 1) if finished else None,
    }
    pairs = chaos_collect.delay_pairs(emailed, run.arrivals)
    report["delays"] = chaos_verdict.delays_outside_faults(pairs, run.windows)
    report["passed"] = chaos_verdict.passed(report) and finished is not None and not run.refused
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, default=str))
    print(
        json.dumps({"passed": report["passed"], **report["figures"], "delays": report["delays"]}), flush=True
    )
    return 0 if report["passed"] else 1


def _count(run: Run, kind: str) -> dict[str, int] | int:
    if kind != "kill":
        return sum(1 for f in run.faults if f["kind"] == kind)
    counts: dict[str, int] = {}
    for f in run.faults:
        if f["kind"] == "kill" and "missed" not in f:
            counts[f["target"]] = counts.get(f["target"], 0) + 1
    return counts


async def _memory_after(var_dir: Path, seconds: float) -> dict[str, float]:
    await asyncio.sleep(seconds)
    return service_rss_mb(var_dir)


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--volunteers", type=int, default=2000)
    parser.add_argument("--minutes", type=float, default=10, help="how long the sending and the faults last")
    parser.add_argument("--brokers", type=int, default=3, choices=(1, 3))
    parser.add_argument("--bootstrap", help="use this running broker instead (no broker is killed)")
    parser.add_argument("--database", default="postgres", choices=("postgres", "sqlite"))
    parser.add_argument("--kills", type=int, default=2, help="SIGKILLs per service instance")
    parser.add_argument("--smtp-seconds", type=float, default=60, help="how long the SMTP server is faulty")
    parser.add_argument("--db-down-seconds", type=float, default=5)
    parser.add_argument(
        "--settle-minutes", type=float, default=15, help="the longest wait for the last email"
    )
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "test-output" / "chaos.json")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(arguments())))
