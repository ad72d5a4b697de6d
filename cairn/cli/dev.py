"""`cairn dev` and `cairn demo`: the whole system on one machine, from a source checkout."""

import argparse
import asyncio
import os
import sys
from pathlib import Path

from cairn.settings import get_settings


def _use_checkout_devtools() -> None:
    """`cairn dev` and `cairn demo` run from a source checkout: devtools/ (the local broker, the
    SMTP sink, the supervisor) sits beside the cairn package there and is not part of the wheel.
    Child processes get the same path, so the supervisor can start the sink."""
    root = Path(__file__).resolve().parents[2]
    if not (root / "devtools").is_dir():
        raise SystemExit(
            "cairn dev and cairn demo run from a source checkout of Cairn (devtools/ is not installed)"
        )
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))


def _cmd_dev(args: argparse.Namespace) -> int:
    _use_checkout_devtools()
    from cairn.service_runner import run_until_stopped
    from devtools.demo import run_demo
    from devtools.dev import run_dev, wait_http

    if args.brokers > 1:
        os.environ.update(
            cluster_environment(args.brokers, os.environ.get("CAIRN_KAFKA_BOOTSTRAP", "127.0.0.1:9092"))
        )
    settings = get_settings()

    async def main(stopping: asyncio.Event) -> None:
        dev = asyncio.create_task(run_dev(settings, stopping, external_kafka=args.external_kafka))
        if args.demo:
            gateway_up = asyncio.create_task(wait_http(f"{settings.public_url}/healthz", timeout=120))
            await asyncio.wait({dev, gateway_up}, return_when=asyncio.FIRST_COMPLETED)
            if dev.done():  # it stopped before the services came up: its error says why
                gateway_up.cancel()
                await dev
                return
            await gateway_up
            await run_demo(settings)
            print("Ctrl-C stops everything.", flush=True)
        await dev

    run_until_stopped(main, "dev")
    return 0


def cluster_environment(count: int, bootstrap: str) -> dict[str, str]:
    """The settings that point every service at `count` loopback brokers (ports two apart from
    the configured one: each node's controller takes the port between), replicated 3 ways, min
    ISR 2. Returned, not set, so only `cairn dev`'s own process takes them."""
    first = int(bootstrap.split(",")[0].rsplit(":", 1)[1])
    return {
        "CAIRN_KAFKA_BOOTSTRAP": ",".join(f"127.0.0.1:{first + 2 * i}" for i in range(count)),
        "CAIRN_TOPIC_REPLICATION_FACTOR": str(min(3, count)),
        "CAIRN_TOPIC_MIN_INSYNC_REPLICAS": str(max(1, min(3, count) - 1)),
    }


def _cmd_demo(args: argparse.Namespace) -> int:
    _use_checkout_devtools()
    from devtools.demo import run_demo

    asyncio.run(run_demo(get_settings()))
    return 0


def add_dev_commands(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """cairn dev, cairn demo."""
    dev = sub.add_parser("dev", help="run Kafka, the SMTP sink and every service until Ctrl-C")
    dev.add_argument("--demo", action="store_true", help="also seed the demo once everything is up")
    dev.add_argument("--external-kafka", action="store_true", help="use the broker at CAIRN_KAFKA_BOOTSTRAP")
    dev.add_argument("--brokers", type=int, default=1, help="run a local KRaft cluster of N brokers (e.g. 3)")
    dev.set_defaults(func=_cmd_dev)

    demo = sub.add_parser("demo", help="seed a demo food bank, badge and shifts into a running Cairn")
    demo.set_defaults(func=_cmd_demo)
