"""The notifier: consumes cairn.credentials.v1 and emails each earner a claim link, and
cairn.claim-email-resends.v1 for each new link asked for."""

import asyncio

from cairn import bootstrap
from cairn.crash_points import crash_point
from cairn.service_runner import run_until_stopped
from cairn.settings import get_settings


async def serve(stopping: asyncio.Event) -> None:
    crash_point("notifier.started")
    notifier = await bootstrap.notifier()
    try:
        await notifier.run(stopping)
    finally:
        await notifier.close()


def main() -> None:
    settings = get_settings()
    name = settings.instance_name or "notifier"  # notifier-2, ... when `cairn dev` runs several
    run_until_stopped(serve, name, settings.metrics_port_of("notifier", name))


if __name__ == "__main__":
    main()
