"""Faust's own ceiling for bench/aggregate.py: a worker whose one agent only iterates over
cairn.activity.v1 (same topic, same records, same Faust app settings as the aggregator, no
table, no work). It writes "<events seen> <first event time> <latest event time>" to the
file in BENCH_OUT as it goes; bench/aggregate.py reads it and stops the worker.

    BENCH_BOOTSTRAP=host:port BENCH_EVENTS=n BENCH_OUT=file BENCH_DATADIR=dir python bench/faust_do_nothing.py
"""

import os
import sys
import time
from pathlib import Path

from cairn.adapters.kafka import topics
from services.aggregator.faust_repairs.transport import App

app = App(
    "bench-faust-do-nothing",
    broker=f"kafka://{os.environ['BENCH_BOOTSTRAP']}",
    store="memory://",
    datadir=os.environ["BENCH_DATADIR"],
    topic_partitions=int(os.environ.get("BENCH_PARTITIONS", "3")),
    topic_replication_factor=1,
    producer_acks=-1,
    processing_guarantee="at_least_once",
    web_enabled=False,
    consumer_auto_offset_reset="earliest",
    key_serializer="raw",
    value_serializer="raw",
)
activity = app.topic(topics.ACTIVITY, key_type=bytes, value_type=bytes)
out = Path(os.environ["BENCH_OUT"])
target = int(os.environ["BENCH_EVENTS"])


@app.agent(activity)
async def do_nothing(stream) -> None:  # type: ignore[no-untyped-def]
    seen, first, written = 0, 0.0, 0.0
    async for _ in stream:
        seen += 1
        now = time.time()
        first = first or now
        if seen == target or now - written > 0.2:  # a few writes a second, not one per event
            out.write_text(f"{seen} {first} {now}")
            written = now


if __name__ == "__main__":
    sys.argv = [sys.argv[0], "worker", "--without-web", "--loglevel", "warn"]
    app.main()
