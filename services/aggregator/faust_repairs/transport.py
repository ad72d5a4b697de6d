"""A Faust transport whose producer flush really drains, so a commit never outruns a table write.

Before committing source offsets Faust awaits `producer.flush()`, but the flush of its send
buffer (ProducerBuffer.flush_atmost) returns as soon as 0.1 s pass without a message going out.
On a loaded machine the commit then goes ahead with changelog writes still buffered, and a
crash at that moment loses table updates for events whose offsets are already committed.
"""

import faust
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TransportT


class DrainingProducer(faust_aiokafka.Producer):
    async def flush(self) -> None:
        while self.buffer.size:
            await self.buffer.flush()
        await super().flush()


class DrainingTransport(faust_aiokafka.Transport):
    Producer = DrainingProducer


class App(faust.App):
    """faust.App on the draining transport (for both its consumer and its producer)."""

    def _new_transport(self) -> TransportT:
        return DrainingTransport(self.conf.broker_consumer, self)

    def _new_producer_transport(self) -> TransportT:
        return DrainingTransport(self.conf.broker_producer, self)
