"""CPU per POST /v1/events in the gateway, against a bare FastAPI app parsing the same body.

Runs the real gateway app in-process (real SQLite store in a temporary folder, a publisher that
only keeps the records, so Kafka's acks are not measured) and sends it N POSTs through httpx's
ASGI transport: one event per POST, then a batch of 100 events per POST, then single-event
POSTs with --concurrency of them in flight at once (how a busy gateway sees them: there the
store's commits and Kafka's acks can be shared). The baseline, in the same run and through the
same client, is a bare FastAPI route that parses the same body with `await request.json()` and
answers 202. Process CPU time (client included, the same for both) per POST, and POSTs per
second of wall-clock time; one JSON line per case, with the ratio to the baseline. With --kafka
the gateway publishes to that broker (acks=all) instead of keeping the records: the wall-clock
figures then include the broker's acks.

    PYTHONPATH=. .venv/bin/python bench/gateway.py [--posts 2000] [--batches 100] [--concurrency 16]
        [--kafka localhost:9092]
"""

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from cairn import bootstrap
from cairn.adapters.store import store_for
from cairn.settings import Settings
from cairn.terminal_progress import progress_bar
from services.gateway.app import create_app


class KeepingPublisher:
    """Stands in for Kafka: the bench measures the gateway, not the broker's acks."""

    def __init__(self) -> None:
        self.count = 0

    async def publish(self, record: BaseModel) -> None:
        self.count += 1

    async def publish_all(self, records: Sequence[BaseModel]) -> None:
        self.count += len(records)

    async def stop(self) -> None:
        pass


def shift(n: int, people: int) -> dict[str, Any]:
    return {
        "id": f"e{n}",
        "type": "volunteer_shift",
        "volunteer": {"email": f"p{n % people}@example.org", "name": f"Person {n % people}"},
        "started_at": f"2026-01-{n % 28 + 1:02d}T09:00:00Z",
        "hours": 1.5,
        "program": "pantry",
    }


def bare_app() -> FastAPI:
    app = FastAPI()

    @app.post("/v1/events")
    async def events(request: Request) -> JSONResponse:
        body = await request.json()
        ids = [e["id"] for e in body["events"]] if "events" in body else [body["id"]]
        return JSONResponse({"accepted": ids}, status_code=202)

    return app


async def cost_per_post(
    app: FastAPI,
    headers: dict[str, str],
    bodies: Callable[[int], bytes],
    posts: int,
    label: str,
    in_flight: int = 1,
) -> tuple[float, float]:
    """(CPU seconds per POST, POSTs per wall-clock second) with `in_flight` POSTs at a time."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://cairn.test", headers=headers
    ) as client:
        await client.post("/v1/events", content=bodies(-1))  # warm-up
        numbers = iter(range(posts))

        async def poster() -> None:
            for n in numbers:
                response = await client.post("/v1/events", content=bodies(n))
                if response.status_code != 202:
                    sys.exit(f"{label}: POST answered {response.status_code}: {response.text[:300]}")
                if n % 50 == 0:
                    progress_bar(label, n + 1, posts)

        started, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(poster() for _ in range(in_flight)))
        progress_bar(label, posts, posts)
        return (time.process_time() - started) / posts, posts / (time.perf_counter() - wall)


async def main(posts: int, batches: int, in_flight: int, kafka: str | None) -> None:
    folder = Path(tempfile.mkdtemp(prefix="cairn-bench-gateway-"))
    settings = Settings(
        var_dir=folder, public_url="http://cairn.test", api_requests_per_minute=10**9, api_burst=10**9
    )
    if kafka:
        settings = settings.model_copy(update={"kafka_bootstrap": kafka})
        await bootstrap.setup(settings)
    publisher = await bootstrap.started_publisher(settings) if kafka else KeepingPublisher()

    async def gateway(_: Settings | None = None) -> bootstrap.Gateway:
        return bootstrap.Gateway(
            settings, store_for(settings), publisher, httpx.AsyncClient(), bootstrap.Mailer(settings)
        )

    bootstrap.gateway = gateway  # type: ignore[assignment]  # no Kafka: see KeepingPublisher
    setup = store_for(settings)
    await setup.create_schema()
    _, api_key = await setup.create_org("Bench", "bench")
    await setup.close()
    cairn, bare = create_app(settings), bare_app()
    headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
    people = 500

    def single(n: int) -> bytes:
        return json.dumps(shift(n + 1, people)).encode()

    def batch(n: int) -> bytes:
        return json.dumps({"events": [shift((n + 1) * 100 + i, people) for i in range(100)]}).encode()

    cases = (("single", single, posts, 1), ("batch-100", batch, batches, 1))
    cases += ((f"single-{in_flight}-in-flight", single, posts, in_flight),) if in_flight > 1 else ()
    async with cairn.router.lifespan_context(cairn):
        for name, bodies, count, at_once in cases:
            base = await cost_per_post(bare, headers, bodies, count, f"bare fastapi {name}", at_once)
            ours = await cost_per_post(cairn, headers, bodies, count, f"cairn gateway {name}", at_once)
            for pipeline, (seconds, rate) in (("bare-fastapi", base), ("cairn-gateway", ours)):
                line = {
                    "gateway": pipeline,
                    "body": name,
                    "posts": count,
                    "kafka": bool(kafka),
                    "cpu_ms_per_post": round(seconds * 1e3, 3),
                    "ratio_to_bare": round(seconds / base[0], 2),
                    "posts_per_second": round(rate, 1),
                }
                print(json.dumps(line), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=2000, help="single-event POSTs per app")
    parser.add_argument("--batches", type=int, default=100, help="100-event POSTs per app")
    parser.add_argument("--concurrency", type=int, default=16, help="single POSTs in flight at once")
    parser.add_argument("--kafka", help="a broker to publish to (acks=all); default: records kept in memory")
    args = parser.parse_args()
    asyncio.run(main(args.posts, args.batches, args.concurrency, args.kafka))
