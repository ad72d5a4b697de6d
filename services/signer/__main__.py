"""The signer: consumes cairn.awards.v1, issues credentials, emits cairn.credentials.v1."""

import asyncio

from cairn import bootstrap
from cairn.service_runner import run_until_stopped


async def serve(stopping: asyncio.Event) -> None:
    signer = await bootstrap.signer()
    try:
        await signer.run(stopping)
    finally:
        await signer.close()


def main() -> None:
    run_until_stopped(serve)


if __name__ == "__main__":
    main()
