"""The signer: consumes cairn.awards.v1, issues credentials, emits cairn.credentials.v1."""

import asyncio

from cairn import bootstrap
from cairn.service_runner import run_until_stopped
from cairn.settings import get_settings


async def serve(stopping: asyncio.Event) -> None:
    signer = await bootstrap.signer()
    try:
        await signer.run(stopping)
    finally:
        await signer.close()


def main() -> None:
    settings = get_settings()
    name = settings.instance_name or "signer"  # signer-2, ... when `cairn dev` runs several
    run_until_stopped(serve, name, settings.metrics_port_of("signer", name))


if __name__ == "__main__":
    main()
