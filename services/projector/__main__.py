"""The projector: keeps the store's read models from the aggregator's records, for the gateway
to serve. Progress views (cairn.progress.v1: the newest update per recipient wins), award
questions (the first record of a question wins) and the activity log (cairn.activity.v1, by
event id), each at-least-once, so redelivery is harmless.

It was part of the gateway process; on its own, a slow or failing projection no longer shares
a process with the API, and the gateway needs no consumer. The consumer groups keep the names
the gateway gave them, so a running deployment carries its committed offsets over.
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from cairn import bootstrap
from cairn.adapters.kafka import topics
from cairn.adapters.kafka.consume import consume_forever
from cairn.ports import Store
from cairn.service_runner import run_until_stopped
from cairn.settings import get_settings
from schemas.awards import AwardQuestioned, ProgressUpdated
from schemas.envelope import CloudEvent


@dataclass(frozen=True)
class Projection:
    """One topic folded into the store by one consumer group."""

    group: str
    topic: str
    record_type: type[BaseModel]
    save: Callable[[Store, Any], Awaitable[None]]  # the store method that keeps the record
    envelope: bool = False  # `save` gets the whole CloudEvent (its id and organisation), not only data


PROJECTIONS = [
    Projection(
        "cairn-gateway-progress",
        topics.PROGRESS,
        ProgressUpdated,
        lambda store, update: store.save_progress(update),
    ),
    Projection(
        "cairn-gateway-questions",
        topics.AWARD_QUESTIONS,
        AwardQuestioned,
        lambda store, question: store.save_question(question),
    ),
]


def handler(projection: Projection, store: Store) -> Callable[[CloudEvent[Any]], Awaitable[None]]:
    """What the consume loop calls per record: the record's data into the store."""

    async def save(event: CloudEvent[Any]) -> None:
        await projection.save(store, event if projection.envelope else event.data)

    return save


async def serve(stopping: asyncio.Event) -> None:
    parts = await bootstrap.projector()
    settings, store = parts.settings, parts.store
    try:
        await asyncio.gather(
            *(
                consume_forever(settings, p.group, p.topic, p.record_type, handler(p, store), stopping)
                for p in PROJECTIONS
            )
        )
    finally:
        await parts.close()


def main() -> None:
    run_until_stopped(serve, "projector", get_settings().metrics_port_projector)


if __name__ == "__main__":
    main()
