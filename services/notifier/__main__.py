"""The notifier: consumes cairn.credentials.v1 and emails each earner a claim link."""

import asyncio

from cairn.adapters.kafka import bus
from cairn.adapters.smtp import Mailer
from cairn.adapters.store import store_for
from cairn.crash_points import crash_point
from cairn.service_runner import run_until_stopped
from cairn.settings import get_settings
from cairn.usecases.notifying import notify_earner
from schemas.awards import CredentialIssued
from schemas.envelope import CloudEvent


async def serve(stopping: asyncio.Event) -> None:
    crash_point("notifier.started")
    settings = get_settings()
    store = store_for(settings)
    mailer = Mailer(settings)

    async def handle(event: CloudEvent[CredentialIssued]) -> None:
        await notify_earner(store, event.data, settings, mailer)

    try:
        await bus.consume_forever(
            settings.kafka_bootstrap, "cairn-notifier", bus.CREDENTIALS, CredentialIssued, handle, stopping
        )
    finally:
        await mailer.close()
        await store.close()


def main() -> None:
    run_until_stopped(serve)


if __name__ == "__main__":
    main()
