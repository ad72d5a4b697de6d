"""Event to email, end to end, with every service on this machine; and ingest through the gateway
against a bare aiokafka producer.

Starts a Kafka broker and the whole system (`cairn dev --external-kafka`, SQLite, the SMTP sink)
in a temporary folder, creates an organisation and a badge that one event in four earns (a
first-aid shift, each by a new volunteer; the other three are pantry shifts by a pool of
regulars), then offers each rate of single-event POSTs (open loop: a POST is sent on time even
while earlier ones wait) for the given seconds. Per rate, one JSON line: the offered and the
sustained rate (events the gateway accepted per second of sending), the event→email latency
percentiles (POST due → the SMTP sink stored the mail; the mail is matched by its To: address,
one new volunteer per earning event), and each stage's delay (event→award, award→credential,
credential→mail) from the Kafka timestamps of cairn.awards.v1 and cairn.credentials.v1, matched
through the award id, the credential id and the email's Message-ID.

Then the ingest figure: the same activity records by a bare aiokafka producer (acks=all) onto a
topic nothing reads, against POST /v1/events with 100 events per POST, a few POSTs in flight.

    PYTHONPATH=. .venv/bin/python bench/pipeline.py [--rates 20,50,100] [--seconds 60]
        [--ingest-events 20000]
    CAIRN_BENCH_SECONDS=10 ...  (shortens every rate)

Progress goes to stderr, the JSON lines to stdout. The machine is shared: run it once, not in a loop.
"""

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from cairn.adapters.kafka import topics
from cairn.settings import REPO_ROOT
from cairn.usecases.email_message import message_id_for
from devtools import kafka_broker
from devtools.dev import free_port

PARTITIONS = 3
REGULARS = 200
POSTING_CLIENTS = 100  # POSTs in flight at most, each client one connection
BADGE = {
    "id": "first-aid",
    "name": "First aid cover",
    "description": "Covered a first-aid shift.",
    "criteria_narrative": "Cover one first-aid shift.",
    "criteria": {"kind": "count", "at_least": 1, "filter": {"program": "first-aid"}},
}


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def shift(event_id: str, email: str, program: str, day: int) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": "volunteer_shift",
        "volunteer": {"email": email, "name": "Bench Person"},
        "started_at": f"2026-01-{day % 28 + 1:02d}T09:00:00Z",
        "hours": 2,
        "program": program,
    }


def event_for(label: str, n: int) -> tuple[dict[str, Any], str | None]:
    """The n-th event of a run; the earner's address if this one earns the badge (one in four)."""
    if n % 4 == 0:
        email = f"{label}-{n}@earners.example"
        return shift(f"{label}-{n}", email, "first-aid", n), email
    return shift(f"{label}-{n}", f"regular{n % REGULARS}@bench.example", "pantry", n), None


@contextmanager
def running_cairn(
    bootstrap: str, var_dir: Path, extra_env: dict[str, str] | None = None
) -> Iterator[dict[str, str]]:
    """`cairn dev --external-kafka` on this broker, as tests/e2e run it, with these settings
    added; yields its environment."""
    port = free_port()
    env = {
        **os.environ,
        "CAIRN_VAR_DIR": str(var_dir),
        "CAIRN_KAFKA_BOOTSTRAP": bootstrap,
        "CAIRN_TOPIC_PARTITIONS": str(PARTITIONS),
        "CAIRN_GATEWAY_PORT": str(port),
        "CAIRN_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "CAIRN_SMTP_PORT": str(free_port()),
        "CAIRN_AGGREGATOR_WEB_PORT": str(free_port()),
        "CAIRN_API_REQUESTS_PER_MINUTE": str(10**7),
        "CAIRN_API_BURST": str(10**6),
        **{
            f"CAIRN_METRICS_PORT_{s}": str(free_port())
            for s in ("AGGREGATOR", "SIGNER", "NOTIFIER", "PROJECTOR", "WEBHOOKS")
        },
        **(extra_env or {}),
    }
    var_dir.mkdir(parents=True, exist_ok=True)
    log_path = var_dir / "dev.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "cairn.cli", "dev", "--external-kafka"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO_ROOT,
        )
    try:
        deadline = time.monotonic() + 180
        while b"ready" not in log_path.read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                sys.exit("cairn dev did not start:\n" + log_path.read_text())
            time.sleep(0.1)
        yield env
    finally:
        process.terminate()
        process.wait(60)


def create_org(env: dict[str, str], name: str = "Bench", slug: str = "bench") -> str:
    """Creates the organisation; returns its API key."""
    created = subprocess.run(
        [sys.executable, "-m", "cairn.cli", "org", "create", name, "--slug", slug],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return re.search(r"api key (\S+)", created).group(1)  # type: ignore[union-attr]


def mails(mail_dir: Path) -> dict[str, tuple[float, str]]:
    """The earner's address -> (when the sink stored the mail, its Message-ID); the sink names
    each file by time.time_ns() on arrival."""
    found = {}
    for path in mail_dir.glob("*.eml"):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        found[message["To"].addresses[0].addr_spec] = (
            int(path.stem) / 1e9,
            str(message["Message-ID"]),
        )
    return found


async def stage_times(bootstrap: str) -> tuple[dict[str, float], dict[str, tuple[str, float]]]:
    """award_id -> its record's Kafka timestamp; Message-ID -> (award_id, credential timestamp)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        awarded: dict[str, float] = {}
        credentials: dict[str, tuple[str, float]] = {}
        for topic in (topics.AWARDS, topics.CREDENTIALS):
            partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            ends = await consumer.end_offsets(partitions)
            while any([await consumer.position(tp) < ends[tp] for tp in partitions]):
                for records in (await consumer.getmany(timeout_ms=1000)).values():
                    for record in records:
                        data = json.loads(record.value)["data"]
                        if topic == topics.AWARDS:
                            awarded[data["award_id"]] = record.timestamp / 1000
                        else:
                            credentials[message_id_for(data["credential_id"])] = (
                                data["award_id"],
                                record.timestamp / 1000,
                            )
        return awarded, credentials
    finally:
        await consumer.stop()


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))], 3)


@asynccontextmanager
async def posting_clients(env: dict[str, str], api_key: str) -> AsyncIterator[list[httpx.AsyncClient]]:
    """POSTING_CLIENTS clients of the organisation's API, each with one connection (see offer)."""
    one = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with AsyncExitStack() as open_clients:
        yield [
            await open_clients.enter_async_context(
                httpx.AsyncClient(
                    base_url=env["CAIRN_PUBLIC_URL"],
                    headers={"Authorization": f"Bearer {api_key}"},
                    timeout=120,
                    limits=one,
                )
            )
            for _ in range(POSTING_CLIENTS)
        ]


async def offer(
    clients: list[httpx.AsyncClient], label: str, rate: float, seconds: float
) -> tuple[dict, list[float], float]:
    """Sends `rate` single-event POSTs a second for `seconds`; returns the earners' addresses with
    when their event was due, each accepted POST's time from due to its 202, and the span.

    Each POST goes out on the next free client, each with one connection of its own: one client
    with a pool of 200 stalled this bench for 13-21 s at a time at 50/s (httpcore rescans every
    waiting request against every connection on each change; encode/httpcore#1035), which read
    as a stall of Cairn's."""
    sent: dict[str, float] = {}
    answered: list[float] = []  # each accepted POST's seconds from due to its 202
    accepted = 0
    refused: dict[int, int] = {}
    last_answer = time.time()
    due: asyncio.Queue[tuple[int, float] | None] = asyncio.Queue()

    async def poster(client: httpx.AsyncClient) -> None:
        nonlocal accepted, last_answer
        while (item := await due.get()) is not None:
            n, at = item
            body, earner = event_for(label, n)
            try:
                status = (await client.post("/v1/events", json=body)).status_code
            except httpx.HTTPError:
                status = 0
            last_answer = time.time()
            if status == 202:
                accepted += 1
                answered.append(last_answer - at)
                if earner:
                    sent[earner] = at
            else:
                refused[status] = refused.get(status, 0) + 1

    posters = [asyncio.create_task(poster(client)) for client in clients]
    total = int(rate * seconds)
    started = time.monotonic()
    first = time.time()
    for n in range(total):
        delay = started + n / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        due.put_nowait((n, first + n / rate))
        if n % max(1, int(rate)) == 0:
            say(f"{label}: {n}/{total} sent, {accepted} accepted, {due.qsize()} waiting for a client")
    for _ in posters:
        due.put_nowait(None)
    await asyncio.gather(*posters)
    if refused:
        say(f"{label}: refused {refused}")
    return sent, answered, last_answer - first


async def one_rate(
    clients: list[httpx.AsyncClient], env: dict[str, str], rate: float, seconds: float, drain: float
) -> dict[str, Any]:
    label = f"r{rate:g}"
    mail_dir = Path(env["CAIRN_VAR_DIR"]) / "mail"
    sent, answered, span = await offer(clients, label, rate, seconds)
    deadline = time.monotonic() + drain
    while True:
        got = sum(1 for address in mails(mail_dir) if address in sent)
        say(f"{label}: {got}/{len(sent)} emails")
        if got >= len(sent) or time.monotonic() > deadline:
            break
        await asyncio.sleep(2)
    inbox = mails(mail_dir)
    awarded, credentials = await stage_times(env["CAIRN_KAFKA_BOOTSTRAP"])
    total, to_award, to_credential, to_mail = [], [], [], []
    for address, at in sent.items():
        if address not in inbox:
            continue
        mailed, message_id = inbox[address]
        total.append(mailed - at)
        if message_id in credentials:
            award_id, credential_at = credentials[message_id]
            to_mail.append(mailed - credential_at)
            if award_id in awarded:
                to_award.append(awarded[award_id] - at)
                to_credential.append(credential_at - awarded[award_id])
    line: dict[str, Any] = {
        "offered_per_second": rate,
        "sustained_per_second": round(len(answered) / span, 1) if span > 0 else None,
        "p50_seconds": percentile(total, 50),
        "p95_seconds": percentile(total, 95),
        "p99_seconds": percentile(total, 99),
        "emails": len(total),
        "emails_expected": len(sent),
        "seconds": seconds,
    }
    for name, values in (
        ("post_to_202", answered),
        ("event_to_award", to_award),
        ("award_to_credential", to_credential),
        ("credential_to_mail", to_mail),
    ):
        line[f"{name}_p50_seconds"] = percentile(values, 50)
        line[f"{name}_p99_seconds"] = percentile(values, 99)
    if total:
        line["mean_seconds"] = round(statistics.fmean(total), 3)
    return line


async def bare_producer(bootstrap: str, values: list[bytes]) -> float:
    """Records a second from a bare aiokafka producer (acks=all, idempotent, as Cairn's)."""
    topic = "bench.ingest.bare"
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"warm-up")
        started = time.monotonic()
        acks = [
            await producer.send(topic, key=str(n % REGULARS).encode(), value=v) for n, v in enumerate(values)
        ]
        await asyncio.gather(*acks)
        return len(values) / (time.monotonic() - started)
    finally:
        await producer.stop()


async def gateway_batches(client: httpx.AsyncClient, events: int, in_flight: int = 4) -> float:
    bodies = [
        {"events": [event_for("ingest", b * 100 + i + 1)[0] for i in range(100) if (b * 100 + i + 1) % 4]}
        for b in range(events // 100)
    ]
    queue: asyncio.Queue[dict] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    sent = 0

    async def worker() -> None:
        nonlocal sent
        while not queue.empty():
            body = queue.get_nowait()
            response = await client.post("/v1/events", json=body)
            if response.status_code != 202:
                sys.exit(f"batch refused: {response.status_code} {response.text[:300]}")
            sent += len(body["events"])

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    return sent / (time.monotonic() - started)


async def main(rates: list[float], seconds: float, ingest_events: int, drain: float) -> None:
    home = Path(tempfile.mkdtemp(prefix="cairn-bench-pipeline-"))
    broker = kafka_broker.prepare(REPO_ROOT / "var", home / "kafka", free_port(), PARTITIONS, free_port())
    kafka_broker.start(broker, REPO_ROOT / "var", short_lived=True)
    try:
        await kafka_broker.wait_ready(broker.bootstrap)
        say(f"broker {broker.bootstrap} ready; starting cairn dev in {home}")
        with running_cairn(broker.bootstrap, home / "var") as env:
            api_key = create_org(env)
            async with posting_clients(env, api_key) as clients:
                client = clients[0]
                created = await client.post("/v1/badge-classes", json=BADGE)
                if created.status_code not in (200, 201):
                    sys.exit(f"badge class refused: {created.status_code} {created.text}")
                say("warming up: one earning event until its email arrives")
                await one_rate(clients, env, 1, 4, drain=120)
                for rate in rates:
                    print(json.dumps(await one_rate(clients, env, rate, seconds, drain)), flush=True)
                if ingest_events:
                    say(f"ingest: {ingest_events} events, gateway batches of 100 then a bare producer")
                    gateway = await gateway_batches(client, ingest_events)
                    sample = json.dumps(event_for("bare", 1)[0]).encode()
                    bare = await bare_producer(broker.bootstrap, [sample] * ingest_events)
                    for name, per_second in (("bare-producer", bare), ("gateway-batches", gateway)):
                        line = {
                            "ingest": name,
                            "per_second": round(per_second),
                            "ratio_to_bare": round(per_second / bare, 2),
                        }
                        print(json.dumps(line), flush=True)
    finally:
        kafka_broker.stop(broker)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rates", default="20,50,100", help="offered events/s, comma-separated")
    parser.add_argument(
        "--seconds", type=float, default=float(os.environ.get("CAIRN_BENCH_SECONDS", 60)), help="per rate"
    )
    parser.add_argument("--ingest-events", type=int, default=20000, help="0 to skip the ingest figure")
    parser.add_argument("--drain", type=float, default=180, help="longest wait for a rate's emails")
    args = parser.parse_args()
    asyncio.run(main([float(r) for r in args.rates.split(",")], args.seconds, args.ingest_events, args.drain))
