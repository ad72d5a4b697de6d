"""Events per second through the aggregator vs a bare aiokafka consumer, on a real broker.

Starts its own broker, writes EVENTS shift records for RECIPIENTS people onto
cairn.activity.v1, then measures, in the same run:
  - bare-aiokafka: one consumer reading the topic to its end and parsing each JSON value;
  - faust-do-nothing: Faust's own ceiling, a worker whose agent only iterates over the same
    topic (bench/faust_do_nothing.py), timed from its first event to its last;
  - cairn-aggregator: `python -m services.aggregator` folding every event into progress,
    timed from its first progress write (changelog record) until the progress values hold
    every event (it writes once per recipient per batch, not once per event).
  - pure-engine: the criteria engine alone, in-process (bench/engine.py): one and eight
    badges, 10 and 1,000 activities of history per person, events per CPU second.
Prints one JSON line per pipeline, the ratios aggregator/do-nothing and do-nothing/bare, and
the progress state per recipient; then how
big one recipient's state grows over ten years of daily shifts, bounded (as the aggregator
keeps it) and unbounded (every activity by id).

    PYTHONPATH=. .venv/bin/python bench/aggregate.py [--events 20000] [--recipients 2000]
"""

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition

from bench import engine as pure_engine
from cairn.adapters.kafka import codec, topics
from cairn.domain.criteria import KEEP_BY_ID, Standing
from cairn.settings import REPO_ROOT
from cairn.terminal_progress import progress_bar
from devtools import kafka_broker
from devtools.dev import free_port
from schemas.activity import ActivityRecordValue, OrgActivity, VolunteerShiftLogged
from schemas.badge_class import BadgeClass

PARTITIONS = 3
CHANGELOG = topics.PROGRESS_CHANGELOG
BADGE = BadgeClass(
    id="ten",
    org_id="bench",
    version=1,
    name="Ten",
    description="d",
    criteria_narrative="n",
    criteria={"kind": "total_hours", "at_least": 10},
)


async def produce(bootstrap: str, events: int, recipients: int) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20)
    await producer.start()
    try:
        badge = codec.message(BADGE)
        await producer.send_and_wait(badge.topic, key=badge.key, value=badge.value)
        start = datetime(2026, 1, 5, 9, tzinfo=UTC)
        pending = []
        for n in range(events):
            key = f"{n % recipients:064x}"
            data = VolunteerShiftLogged(
                recipient_key=key, started_at=start + timedelta(days=n // recipients), hours=1.5
            )
            out = codec.message(
                OrgActivity(event_id=f"e{n}", org_id="bench", activity=ActivityRecordValue(data))
            )
            pending.append(await producer.send(out.topic, key=out.key, value=out.value))
            if len(pending) >= 2000:
                await asyncio.gather(*pending)
                pending.clear()
                progress_bar("producing", n + 1, events)
        await asyncio.gather(*pending)
        progress_bar("producing", events, events)
    finally:
        await producer.stop()


async def bare_consumer(bootstrap: str, events: int) -> float:
    consumer = AIOKafkaConsumer(
        topics.ACTIVITY,
        bootstrap_servers=bootstrap,
        group_id="bench-bare",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        seen = 0
        started = None
        while seen < events:
            batches = await consumer.getmany(timeout_ms=1000, max_records=5000)
            for records in batches.values():
                for record in records:
                    json.loads(record.value)
                    started = started or time.perf_counter()
                    seen += 1
            progress_bar("bare aiokafka", seen, events)
        return events / (time.perf_counter() - started)
    finally:
        await consumer.stop()


def activities_in(value: bytes) -> int:
    """Activities a stored progress value holds, in either format (cairn.domain.criteria.standing)."""
    if not value.startswith(b'{"v":2'):
        return value.count(b'"at":"')
    stored = json.loads(value)
    compacted = stored.get("compacted", [])
    return len(stored["activities"]) + sum(row[9] if len(row) > 9 else 1 for row in compacted)


class ChangelogFollower:
    """Reads the progress table's changelog as the worker writes it: the latest value per
    recipient, how many activities those values hold, and their sizes."""

    def __init__(self, bootstrap: str) -> None:
        self.consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
        self.latest: dict[bytes, bytes] = {}
        self.recorded: dict[bytes, int] = {}
        self.first_seen: float | None = None

    async def start(self) -> None:
        await self.consumer.start()

    async def poll(self) -> int:
        """Activities recorded so far (each activity in a Progress value has an "at")."""
        if not self.consumer.assignment():
            if CHANGELOG not in await self.consumer.topics():
                return 0
            partitions = [TopicPartition(CHANGELOG, p) for p in range(PARTITIONS)]
            self.consumer.assign(partitions)
            await self.consumer.seek_to_beginning(*partitions)
        batches = await self.consumer.getmany(timeout_ms=50, max_records=50_000)
        for records in batches.values():
            for record in records:
                if self.first_seen is None:
                    self.first_seen = time.perf_counter()
                self.latest[record.key] = record.value
                self.recorded[record.key] = activities_in(record.value)
        return sum(self.recorded.values())

    def bytes_per_recipient(self) -> float:
        return sum(len(v) for v in self.latest.values()) / len(self.latest)


async def faust_do_nothing(bootstrap: str, events: int, var_dir: Path) -> float:
    out = var_dir / "do-nothing.progress"
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "BENCH_BOOTSTRAP": bootstrap,
        "BENCH_EVENTS": str(events),
        "BENCH_OUT": str(out),
        "BENCH_DATADIR": str(var_dir / "do-nothing"),
        "BENCH_PARTITIONS": str(PARTITIONS),
    }
    log = (var_dir / "do-nothing.log").open("wb")
    worker = subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "bench" / "faust_do_nothing.py")],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=REPO_ROOT,
    )
    try:
        seen, first, last = 0, 0.0, 0.0
        deadline = time.monotonic() + 600
        while seen < events and time.monotonic() < deadline and worker.poll() is None:
            await asyncio.sleep(0.2)
            if out.exists() and (line := out.read_text().split()) and len(line) == 3:
                seen, first, last = int(line[0]), float(line[1]), float(line[2])
            progress_bar("faust do-nothing", seen, events)
        if seen < events:
            tail = (var_dir / "do-nothing.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the do-nothing agent saw {seen} of {events} events:\n{tail}")
        return events / (last - first)
    finally:
        worker.terminate()
        worker.wait(60)


async def faust_aggregator(bootstrap: str, events: int, var_dir: Path) -> tuple[float, float]:
    env = {
        **os.environ,
        "CAIRN_VAR_DIR": str(var_dir),
        "CAIRN_KAFKA_BOOTSTRAP": bootstrap,
        "CAIRN_TOPIC_PARTITIONS": str(PARTITIONS),
        "CAIRN_AGGREGATOR_WEB_PORT": str(free_port()),
    }
    log = (var_dir / "aggregator.log").open("wb")
    worker = subprocess.Popen(
        [sys.executable, "-m", "services.aggregator"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=REPO_ROOT,
    )
    follower = ChangelogFollower(bootstrap)
    await follower.start()
    try:
        recorded = 0
        deadline = time.monotonic() + 600
        while recorded < events and time.monotonic() < deadline:
            recorded = await follower.poll()
            progress_bar("faust aggregator", recorded, events)
        finished = time.perf_counter()
        if recorded < events or follower.first_seen is None:
            raise RuntimeError(f"aggregator recorded {recorded} of {events} events; see {var_dir}")
        return events / (finished - follower.first_seen), follower.bytes_per_recipient()
    finally:
        await follower.consumer.stop()
        worker.terminate()
        worker.wait(60)


def long_history_bytes(keep: int, days: int = 3650) -> tuple[int, int]:
    """(largest, final) size of one recipient's stored progress over `days` of daily shifts
    at one of three sites in one of two roles."""
    standing, largest = Standing(), 0
    start = datetime(2020, 1, 1, 9, tzinfo=UTC)
    for day in range(days):
        shift = VolunteerShiftLogged(
            recipient_key="b" * 64,
            started_at=start + timedelta(days=day),
            hours=3,
            site=f"site-{day % 3}",
            role="lead" if day % 7 == 0 else None,
        )
        standing.record(f"shift-{day}", shift, keep=keep)
        if day % 50 == 0 or day == days - 1:
            largest = max(largest, len(standing.stored()))
    return largest, len(standing.stored())


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--recipients", type=int, default=2000)
    parser.add_argument(
        "--engine-events", type=int, default=5000, help="per pure-engine case (bench/engine.py)"
    )
    parser.add_argument("--no-engine", action="store_true", help="skip the pure-engine lines")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="cairn-bench-"))
    broker = kafka_broker.prepare(REPO_ROOT / "var", home / "kafka", free_port(), PARTITIONS, free_port())
    kafka_broker.start(broker, REPO_ROOT / "var")
    try:
        await kafka_broker.wait_ready(broker.bootstrap)
        await topics.ensure_topics(broker.bootstrap, PARTITIONS)
        await produce(broker.bootstrap, args.events, args.recipients)
        bare = await bare_consumer(broker.bootstrap, args.events)
        idle = await faust_do_nothing(broker.bootstrap, args.events, home)
        aggregated, state = await faust_aggregator(broker.bootstrap, args.events, home)
    finally:
        kafka_broker.stop(broker)
        shutil.rmtree(home, ignore_errors=True)
    print(json.dumps({"pipeline": "bare-aiokafka", "per_second": round(bare)}))
    print(json.dumps({"pipeline": "faust-do-nothing", "per_second": round(idle)}))
    history = args.events // args.recipients
    print(
        json.dumps(
            {"pipeline": "cairn-aggregator", "badges": 1, "history": history, "per_second": round(aggregated)}
        )
    )
    print(json.dumps({"state_bytes_per_recipient": round(state), "badges": 1, "history": history}))
    print(
        json.dumps(
            {
                "ratio_aggregator_to_do_nothing": round(aggregated / idle, 3),
                "ratio_do_nothing_to_bare": round(idle / bare, 3),
                "ratio_aggregator_to_bare": round(aggregated / bare, 3),
                "events_per_recipient": args.events / args.recipients,
                "progress_bytes_per_recipient": round(state),
            }
        )
    )
    bounded, unbounded = long_history_bytes(KEEP_BY_ID), long_history_bytes(keep=10**9)
    print(
        json.dumps(
            {
                "ten_years_daily_bytes_bounded_largest": bounded[0],
                "ten_years_daily_bytes_bounded_final": bounded[1],
                "ten_years_daily_bytes_unbounded": unbounded[1],
            }
        )
    )
    if not args.no_engine:
        for line in pure_engine.lines(args.engine_events, compare=False):
            print(json.dumps(line), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
