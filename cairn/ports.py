"""The ports: what the use cases need from the world, as typing.Protocol classes.

Use cases are given objects that fit these; cairn/bootstrap.py gives them the adapters, the
service-layer tests (tests/service/) give them in-memory fakes.
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Protocol

from pydantic import BaseModel

from cairn.domain.failures import Permanent, Transient

# ---- publisher, mailer, clock (the use-case engineer's section) ----


class Publisher(Protocol):
    """Puts records on Kafka. The adapter finds each record's topic, CloudEvent type and key
    from its type in one topic table; a use case never names a topic."""

    async def publish(self, record: BaseModel) -> None:
        """Publishes one record and returns once the broker has acknowledged it (acks=all)."""
        ...

    async def publish_all(self, records: Sequence[BaseModel]) -> None:
        """Sends every record, then waits for every acknowledgement (one batch, not one round
        trip per record)."""
        ...


class Mailer(Protocol):
    """Sends one email, retrying what a retry can fix; raises MailRefused or MailNotSent."""

    async def send(self, message: EmailMessage) -> str:
        """Returns the server's answer to the accepted message."""
        ...


class MailRefused(Permanent):
    """The server refused the message for good (5xx): the address bounced."""


class MailNotSent(Transient):
    """Still failing after every retry: with 4xx replies, or (`unreachable`) with no server at all.
    The notifier records the first as failed; the second it leaves to the consumer to retry."""

    def __init__(self, reason: str, unreachable: bool) -> None:
        super().__init__(reason)
        self.unreachable = unreachable


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, UTC-aware."""
        ...


class SystemClock:
    """The real clock: the default a use case falls back on, so callers that do not care about
    time (every production caller) need not pass one."""

    def now(self) -> datetime:
        return datetime.now(UTC)


SYSTEM_CLOCK = SystemClock()


# ---- BRIDGE until the merge (lead: delete this section) ----
# The store engineer's section of this file defines the store Protocol, and
# cairn/domain/records.py the frozen CredentialRecord; until they land, the use cases are typed
# against the adapter's class and row through these two names, so that at merge only this
# section changes (Store -> the store Protocol, CredentialRecord -> cairn.domain.records').
from cairn.adapters.store import Store as Store  # noqa: E402
from cairn.adapters.store import tables as _tables  # noqa: E402

CredentialRecord = _tables.Credential
