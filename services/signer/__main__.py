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
    run_until_stopped(serve, "signer", get_settings().metrics_port_signer)


if __name__ == "__main__":
    main()
