"""The projector: keeps the store's read models from the aggregator's records, for the gateway
to serve. Progress views (cairn.progress.v1: the newest update per recipient wins) and award
questions (the first record of a question wins), each at-least-once, so redelivery is harmless.

It was part of the gateway process; on its own, a slow or failing projection no longer shares
a process with the API, and the gateway needs no consumer. The consumer groups keep the names
the gateway gave them, so a running deployment carries its committed offsets over.
"""

import asyncio

from cairn.adapters.kafka import bus
from cairn.adapters.store import Store, store_for
from cairn.service_runner import run_until_stopped
from cairn.settings import Settings, get_settings
from schemas.awards import AwardQuestioned, ProgressUpdated
from schemas.envelope import CloudEvent

PROGRESS_GROUP = "cairn-gateway-progress"
QUESTIONS_GROUP = "cairn-gateway-questions"


async def keep_progress(settings: Settings, store: Store, stopping: asyncio.Event) -> None:
    async def save(event: CloudEvent[ProgressUpdated]) -> None:
        await store.save_progress(event.data)

    await bus.consume_forever(
        settings.kafka_bootstrap, PROGRESS_GROUP, bus.PROGRESS, ProgressUpdated, save, stopping
    )


async def keep_questions(settings: Settings, store: Store, stopping: asyncio.Event) -> None:
    async def save(event: CloudEvent[AwardQuestioned]) -> None:
        await store.save_question(event.data)

    await bus.consume_forever(
        settings.kafka_bootstrap, QUESTIONS_GROUP, bus.AWARD_QUESTIONS, AwardQuestioned, save, stopping
    )


async def serve(stopping: asyncio.Event) -> None:
    settings = get_settings()
    store = store_for(settings)
    try:
        await asyncio.gather(
            keep_progress(settings, store, stopping), keep_questions(settings, store, stopping)
        )
    finally:
        await store.close()


def main() -> None:
    run_until_stopped(serve)


if __name__ == "__main__":
    main()
