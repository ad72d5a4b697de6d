"""In-memory fakes of the Publisher, Mailer and Clock ports (cairn/ports.py): what the use cases
are given in the service-layer tier instead of Kafka, an SMTP server and the system clock."""

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import TypeVar

from pydantic import BaseModel

from cairn.ports import HandOver, MailNotSent, MailRefused

T = TypeVar("T")


class FakePublisher:
    """Keeps every record, in order, in a list per record type."""

    def __init__(self) -> None:
        self.records: dict[type, list[BaseModel]] = defaultdict(list)

    async def publish(self, record: BaseModel) -> None:
        self.records[type(record)].append(record)

    async def publish_all(self, records: Sequence[BaseModel]) -> None:
        for record in records:
            await self.publish(record)

    def of(self, kind: type[T]) -> list[T]:
        return list(self.records.get(kind, []))  # type: ignore[arg-type]


class FakeMailer:
    """Keeps each message it accepts. Told to refuse, it answers as the SMTP adapter does: a 4xx
    about the recipient is retried within the same send (up to `max_attempts`), a 5xx bounces at
    once, an unreachable relay (or one in trouble) raises for the consumer to retry the record."""

    def __init__(self, max_attempts: int = 3) -> None:
        self.max_attempts = max_attempts
        self.sent: list[EmailMessage] = []
        self.attempts = 0
        self._answers: list[int] = []  # SMTP codes to answer with before accepting
        self._unreachable = 0
        self.between_attempts: Callable[[], Awaitable[None]] | None = None  # e.g. a takeover
        self.die_after_data = False

    def refuse(self, code: int, times: int = 1) -> None:
        self._answers += [code] * times

    def unreachable(self, times: int = 1) -> None:
        self._unreachable += times

    async def send(
        self,
        message: EmailMessage,
        still_wanted: Callable[[], Awaitable[bool]] | None = None,
        hand_over: HandOver | None = None,
    ) -> str:
        if self._unreachable:
            self._unreachable -= 1
            raise MailNotSent("ConnectionRefusedError: nobody at the SMTP port", unreachable=True)
        last = ""
        for attempt in range(self.max_attempts):
            if attempt and self.between_attempts is not None:
                await self.between_attempts()
            if attempt and still_wanted is not None and not await still_wanted():
                raise MailNotSent(f"no longer wanted after: {last}", unreachable=False)
            self.attempts += 1
            if hand_over is not None:  # every answer below stands for the answer to DATA
                await hand_over.handing()
            if not self._answers:
                self.sent.append(message)
                if self.die_after_data:
                    raise SenderKilled("killed between the server's 250 and recording it")
                return f"250 OK queued as fake-{len(self.sent)}"
            code = self._answers.pop(0)
            last = f"{code} refused by the fake"
            if hand_over is not None:
                await hand_over.not_taken()
            if 500 <= code < 600:
                raise MailRefused(last)
        raise MailNotSent(last, unreachable=False)


class SenderKilled(BaseException):
    """Stands for a SIGKILL of the notifier: nothing after it runs."""


class FakeClock:
    """A clock that stands still until the test moves it."""

    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def advance(self, by: timedelta) -> None:
        self.current += by
