"""The badge classes known to this worker, read from the compacted badge-classes topic.

Every worker reads the whole topic, not a share of it: any partition's recipients may need any
of their organisation's classes.
"""

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import ValidationError

from cairn.adapters.kafka import codec, topics
from cairn.adapters.kafka.connection import Brokers, client_options
from cairn.domain.failures import PoisonRecord
from schemas.badge_class import BadgeClass

log = logging.getLogger("cairn.aggregator")


class Catalog:
    def __init__(self) -> None:
        self._classes: dict[str, dict[str, BadgeClass]] = defaultdict(dict)  # org_id -> class id -> latest
        # Set once the classes published before this worker started are in: activity waits for
        # it, so a restarted worker does not settle progress without them (and lean on re-evaluation).
        self.loaded = asyncio.Event()

    def classes(self, org_id: str) -> list[BadgeClass]:
        return list(self._classes[org_id].values())

    def __len__(self) -> int:
        return sum(len(classes) for classes in self._classes.values())

    def apply(self, key: bytes | None, value: bytes | None) -> BadgeClass | None:
        """Takes in one record of the topic; returns the class if it is new or a newer version."""
        if key is None:
            return None
        org_id, _, badge_id = key.decode().partition(":")
        if value is None:  # tombstone: the class is retired
            self._classes[org_id].pop(badge_id, None)
            return None
        try:
            badge = codec.decode(value, BadgeClass).data
        except (ValidationError, PoisonRecord) as error:
            log.error("unreadable badge class %s: %s", key, error)
            return None
        known = self._classes[badge.org_id].get(badge.id)
        if known is not None and known.version >= badge.version:
            return None
        self._classes[badge.org_id][badge.id] = badge
        log.info("badge class %s v%s loaded for org %s", badge.id, badge.version, badge.org_id)
        return badge


async def follow(
    catalog: Catalog,
    bootstrap: Brokers,
    tables_recovered: Callable[[], Awaitable[object]],
    changed: Callable[[BadgeClass], Awaitable[None]],
) -> None:
    """Reads the topic for as long as the worker runs, calling `changed` for each new class or
    version once the tables are recovered (no consumer group: aiokafka then assigns every
    partition, from the beginning)."""
    consumer = AIOKafkaConsumer(
        topics.BADGE_CLASSES,
        **client_options(bootstrap),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        await tables_recovered()
        ends: dict[TopicPartition, int] = {}
        while True:
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                for message in records:
                    badge = catalog.apply(message.key, message.value)
                    if badge is not None:
                        await changed(badge)
            if not catalog.loaded.is_set() and consumer.assignment():
                ends = ends or await consumer.end_offsets(list(consumer.assignment()))
                if all([await consumer.position(tp) >= end for tp, end in ends.items()]):
                    log.info("badge classes loaded: %d", len(catalog))
                    catalog.loaded.set()
    finally:
        await consumer.stop()
