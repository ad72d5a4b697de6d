"""The notifier: consumes cairn.credentials.v1 and emails each earner a claim link."""

import asyncio

from cairn import bus
from cairn.notifying import notify_earner
from cairn.secrets import load_or_create_master_key
from cairn.service_runner import run_until_stopped
from cairn.settings import get_settings
from cairn.store import open_store
from schemas.awards import CredentialIssued
from schemas.envelope import CloudEvent


async def serve(stopping: asyncio.Event) -> None:
    settings = get_settings()
    store = open_store(
        settings.resolved_database_url, load_or_create_master_key(settings.resolved_master_key_file)
    )
    await store.create_schema()

    async def handle(event: CloudEvent[CredentialIssued]) -> None:
        await notify_earner(store, event.data, settings)

    try:
        await bus.consume_forever(
            settings.kafka_bootstrap, "cairn-notifier", bus.CREDENTIALS, CredentialIssued, handle, stopping
        )
    finally:
        await store.close()


def main() -> None:
    run_until_stopped(serve)


if __name__ == "__main__":
    main()
