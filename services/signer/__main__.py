"""The signer: consumes cairn.awards.v1, issues credentials, emits cairn.credentials.v1."""

import asyncio

from cairn.adapters.kafka import bus
from cairn.adapters.store import store_for
from cairn.crash_points import crash_point
from cairn.service_runner import run_until_stopped
from cairn.settings import get_settings
from cairn.usecases.issuing import issue_credential
from schemas.awards import AwardGranted, CredentialIssued
from schemas.envelope import CREDENTIAL_ISSUED_TYPE, CloudEvent


async def serve(stopping: asyncio.Event) -> None:
    settings = get_settings()
    store = store_for(settings)
    producer = bus.producer(settings.kafka_bootstrap)
    await producer.start()

    async def handle(event: CloudEvent[AwardGranted]) -> None:
        issued = await issue_credential(store, event.data, settings.public_url)
        envelope = CloudEvent[CredentialIssued](
            id=issued.credential_id,
            source="/signer",
            type=CREDENTIAL_ISSUED_TYPE,
            subject=issued.recipient_key,
            orgid=issued.org_id,
            data=issued,
        )
        await producer.send_and_wait(
            bus.CREDENTIALS, key=issued.credential_id.encode(), value=bus.encode(envelope)
        )
        crash_point("signer.credential_emitted")

    try:
        await bus.consume_forever(
            settings.kafka_bootstrap, "cairn-signer", bus.AWARDS, AwardGranted, handle, stopping
        )
    finally:
        await producer.stop()
        await store.close()


def main() -> None:
    run_until_stopped(serve)


if __name__ == "__main__":
    main()
