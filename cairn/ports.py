"""The ports: what the use cases need from the world, as typing.Protocol classes."""

from collections.abc import Sequence
from typing import Protocol

from pydantic import BaseModel

# ---- publisher (the agreed contract; kafka branch: the use-case engineer's section defines the
# same Protocol, keep theirs at the merge) ----


class Publisher(Protocol):
    """Puts records on Kafka. The adapter (cairn.adapters.kafka.publisher) finds each record's
    topic, CloudEvent type and key from its type in one topic table; a use case never names a topic."""

    async def publish(self, record: BaseModel) -> None:
        """Publishes one record and returns once the broker has acknowledged it (acks=all)."""
        ...

    async def publish_all(self, records: Sequence[BaseModel]) -> None:
        """Sends every record, then waits for every acknowledgement."""
        ...


# ---- BRIDGE until the merge (lead: delete this section; the store engineer's Protocol and
# cairn.domain.records.CredentialRecord replace these two names) ----
from cairn.adapters.store import Store as Store  # noqa: E402
from cairn.adapters.store.tables import Credential as CredentialRecord  # noqa: E402, F401
