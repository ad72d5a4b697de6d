"""The Publisher adapter: records onto Kafka, each to the topic, with the key and CloudEvent
type, that the topic table gives its type. Nothing returns before the broker has acknowledged."""

import asyncio
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer
from pydantic import BaseModel

from cairn.adapters.kafka.codec import message
from cairn.adapters.kafka.connection import Brokers, client_options


def producer(bootstrap: Brokers) -> AIOKafkaProducer:
    """acks=all and idempotence: a record acknowledged is on the log exactly once."""
    return AIOKafkaProducer(**client_options(bootstrap), acks="all", enable_idempotence=True)


class KafkaPublisher:
    """Fits cairn.ports.Publisher. `start` and `stop` belong to whoever wires it (a service's
    lifespan); use cases only publish."""

    def __init__(self, kafka: AIOKafkaProducer) -> None:
        self._producer = kafka

    @classmethod
    def for_broker(cls, bootstrap: Brokers) -> "KafkaPublisher":
        """A publisher with its own producer (acks=all, idempotent); made inside the event loop."""
        return cls(producer(bootstrap))

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def publish(self, record: BaseModel) -> None:
        """Returns once the broker has acknowledged the record (acks=all)."""
        out = message(record)
        await self._producer.send_and_wait(out.topic, key=out.key, value=out.value)

    async def publish_all(self, records: Sequence[BaseModel]) -> None:
        """Hands every record to the producer first (it batches them), then waits for every ack."""
        acks = []
        for record in records:
            out = message(record)
            acks.append(await self._producer.send(out.topic, key=out.key, value=out.value))
        await asyncio.gather(*acks)
