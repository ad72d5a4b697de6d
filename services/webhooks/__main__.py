"""The webhooks service: fans credential and award events out to the organisations' endpoints
and POSTs each signed delivery, retrying for about a day from Kafka's retry tiers."""

import asyncio

from cairn import bootstrap
from cairn.service_runner import run_until_stopped
from cairn.settings import get_settings


async def serve(stopping: asyncio.Event) -> None:
    webhooks = await bootstrap.webhooks()
    try:
        await webhooks.run(stopping)
    finally:
        await webhooks.close()


def main() -> None:
    run_until_stopped(serve, "webhooks", get_settings().metrics_port_webhooks)


if __name__ == "__main__":
    main()
