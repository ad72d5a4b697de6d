"""The signer: consumes cairn.awards.v1, issues credentials, emits cairn.credentials.v1."""

import asyncio

from cairn.adapters.kafka import topics
from cairn.adapters.kafka.consume import consume_forever
from cairn.adapters.kafka.publisher import KafkaPublisher
from cairn.adapters.store import store_for
from cairn.crash_points import crash_point
from cairn.service_runner import run_until_stopped
from cairn.settings import get_settings
from cairn.usecases.issuing import issue_credential
from schemas.awards import AwardGranted
from schemas.envelope import CloudEvent


async def serve(stopping: asyncio.Event) -> None:
    settings = get_settings()
    store = store_for(settings)
    publisher = KafkaPublisher.for_broker(settings.kafka_bootstrap)
    await publisher.start()

    async def handle(event: CloudEvent[AwardGranted]) -> None:
        await publisher.publish(await issue_credential(store, event.data, settings.public_url))
        crash_point("signer.credential_emitted")

    try:
        await consume_forever(
            settings.kafka_bootstrap, "cairn-signer", topics.AWARDS, AwardGranted, handle, stopping
        )
    finally:
        await publisher.stop()
        await store.close()


def main() -> None:
    run_until_stopped(serve)


if __name__ == "__main__":
    main()
