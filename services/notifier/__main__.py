"""The notifier: consumes cairn.credentials.v1 and emails each earner a claim link, and
cairn.claim-email-resends.v1 for each new link asked for."""

import asyncio

from cairn.adapters.kafka import topics
from cairn.adapters.kafka.consume import consume_forever
from cairn.adapters.smtp import Mailer
from cairn.adapters.store import store_for
from cairn.crash_points import crash_point
from cairn.service_runner import run_until_stopped
from cairn.settings import get_settings
from cairn.usecases.notifying import notify_earner
from schemas.awards import ClaimEmailResendRequested, CredentialIssued
from schemas.envelope import CloudEvent


async def serve(stopping: asyncio.Event) -> None:
    crash_point("notifier.started")
    settings = get_settings()
    store = store_for(settings)
    mailer = Mailer(settings)
    # One claim email at a time, as when resends shared the credentials topic: an issue and a
    # resend of one credential must not both pass the notification check before either is sent.
    one_at_a_time = asyncio.Lock()

    async def handle(event: CloudEvent[CredentialIssued] | CloudEvent[ClaimEmailResendRequested]) -> None:
        async with one_at_a_time:
            await notify_earner(store, event.data, settings, mailer)

    try:
        await asyncio.gather(
            consume_forever(
                settings.kafka_bootstrap,
                "cairn-notifier",
                topics.CREDENTIALS,
                CredentialIssued,
                handle,
                stopping,
            ),
            consume_forever(
                settings.kafka_bootstrap,
                "cairn-notifier-resends",
                topics.CLAIM_EMAIL_RESENDS,
                ClaimEmailResendRequested,
                handle,
                stopping,
            ),
        )
    finally:
        await mailer.close()
        await store.close()


def main() -> None:
    run_until_stopped(serve)


if __name__ == "__main__":
    main()
