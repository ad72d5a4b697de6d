"""The CloudEvents codec: a record in its envelope as JSON bytes, and back."""

from dataclasses import dataclass

from pydantic import BaseModel

from cairn.adapters.kafka.topics import route_of
from cairn.domain.failures import PoisonRecord
from schemas.envelope import CloudEvent, DataT


@dataclass(frozen=True)
class Message:
    """A record ready for Kafka: where it goes, its key and its encoded envelope."""

    topic: str
    key: bytes
    value: bytes


def envelope(record: BaseModel) -> CloudEvent[BaseModel]:
    """The record in its CloudEvents envelope, every attribute taken from the topic table."""
    route = route_of(record)
    time, data = route.time(record), route.data(record)
    return CloudEvent[type(data)](  # type: ignore[misc]
        id=route.event_id(record),
        source=route.source(record),
        type=route.cloudevent_type(record),
        subject=route.subject(record),
        orgid=route.org_id(record),
        data=data,
        **({"time": time} if time is not None else {}),
    )


def message(record: BaseModel) -> Message:
    """The record as its topic, key and value, for any producer (the publisher's, or Faust's)."""
    route = route_of(record)
    return Message(route.topic_for(record), route.key(record).encode(), encode(envelope(record)))


def encode(event: CloudEvent[BaseModel]) -> bytes:
    return event.model_dump_json(exclude_none=True).encode()


def decode(raw: bytes | None, data_type: type[DataT]) -> CloudEvent[DataT]:
    """Parses a record value; raises ValidationError or PoisonRecord on a record that cannot be read."""
    if raw is None:
        raise PoisonRecord("record has no value")
    return CloudEvent[data_type].model_validate_json(raw)  # type: ignore[valid-type]
