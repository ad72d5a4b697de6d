"""What a consumer does when handling a record fails: the one place failures are classified
and attempts counted (pure; every consumer — aggregator, signer, notifier, the gateway's
projections — asks it).

- permanent: the record itself can never be processed (it does not parse, refers to nothing,
  would put a line break into an email header): dead-letter it at once.
- transient: something outside the record is down (database, SMTP server, Kafka): retry the same
  record without limit, with capped exponential backoff; never dead-letter it.
- unknown: anything else. Retry a bounded number of times (`CAIRN_CONSUMER_MAX_ATTEMPTS`), then
  dead-letter it, so one bad record can never crash-loop a service.
"""

import enum
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from pydantic import ValidationError

log = logging.getLogger(__name__)


class Permanent(Exception):
    """Raised (or subclassed) for a record that retrying can never help."""


class Transient(Exception):
    """Raised (or subclassed) for a failure outside the record that will pass by itself."""


class PoisonRecord(Permanent):
    """A record that can never be processed; it goes to the DLQ instead of blocking the topic."""


class Failure(enum.Enum):
    PERMANENT = "permanent"
    TRANSIENT = "transient"
    UNKNOWN = "unknown"


@dataclass
class AdapterErrors:
    """The errors of libraries the domain does not import (Kafka's, the database's), as the
    adapters name them when imported (cairn/adapters/error_kinds.py)."""

    permanent: tuple[type[BaseException], ...] = ()
    transient: tuple[type[BaseException], ...] = ()
    transient_if: tuple[Callable[[BaseException], bool], ...] = ()
    # transient failures that pass in seconds (a database restarting), with the longest wait
    # between tries: a record must not sit out a 30 s backoff long after its cause is gone
    short_waits: tuple[tuple[Callable[[BaseException], bool], float], ...] = ()


ADAPTER_ERRORS = AdapterErrors()


def classify(error: BaseException, permanent: tuple[type[BaseException], ...] = ()) -> Failure:
    """`permanent`: a consumer's own errors that retrying cannot fix."""
    known = ADAPTER_ERRORS
    if isinstance(error, (Permanent, ValidationError, *known.permanent, *permanent)):
        return Failure.PERMANENT
    if isinstance(error, (Transient, OSError, TimeoutError, *known.transient)):
        return Failure.TRANSIENT
    if any(test(error) for test in known.transient_if):
        return Failure.TRANSIENT
    return Failure.UNKNOWN


def backoff(attempt: int, base: float, cap: float, draw: Callable[[], float] = random.random) -> float:
    """Exponential backoff with jitter: half the doubled delay, plus a random share of the other
    half, so that processes restarted together do not retry in step."""
    delay = min(cap, base * 2 ** (min(attempt, 32) - 1))
    return delay / 2 + draw() * delay / 2


@dataclass(frozen=True)
class Decision:
    """Dead-letter the record now, or try it again after `delay` seconds."""

    dead_letter: bool
    delay: float
    failure: Failure
    attempts: int  # failures so far that count toward the limit


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 3  # failures of unknown kind before the record is dead-lettered
    base_delay: float = 0.5
    max_delay: float = 30.0
    permanent: tuple[type[BaseException], ...] = ()  # the consumer's own errors that retrying cannot fix


@dataclass
class Attempts:
    """The failures of one record so far; `failed` says what to do about the latest."""

    policy: RetryPolicy = field(default_factory=RetryPolicy)
    counted: int = 0  # unknown failures: bounded
    transient: int = 0  # transient failures: only lengthen the wait
    draw: Callable[[], float] = random.random

    def failed(self, error: BaseException) -> Decision:
        failure = classify(error, self.policy.permanent)
        if failure is Failure.PERMANENT:
            return Decision(True, 0.0, failure, self.counted + 1)
        cap = self.policy.max_delay
        if failure is Failure.TRANSIENT:
            self.transient += 1
            attempt = self.transient
            cap = min([cap, *(wait for test, wait in ADAPTER_ERRORS.short_waits if test(error))])
        else:
            self.counted += 1
            if self.counted >= self.policy.max_attempts:
                return Decision(True, 0.0, failure, self.counted)
            attempt = self.counted
        delay = backoff(attempt, self.policy.base_delay, cap, self.draw)
        return Decision(False, delay, failure, self.counted)


class Stopped(Exception):
    """The process is stopping: the record is left uncommitted, to be read again."""


async def until_done(
    attempt: Callable[[], Awaitable[None]],
    policy: RetryPolicy,
    where: str,
    pause: Callable[[float], Awaitable[bool]],
) -> tuple[BaseException, Decision] | None:
    """Runs `attempt` until it succeeds (None) or the policy says dead-letter (the error and the
    decision). `pause(seconds)` waits between attempts and returns False to stop (Stopped)."""
    attempts = Attempts(policy)
    while True:
        try:
            await attempt()
            return None
        except Exception as error:  # every failure is classified; none is swallowed
            decision = attempts.failed(error)
            if decision.dead_letter:
                return error, decision
            log.warning(
                "%s failed (%s: %s: %s); retrying in %.1fs",
                where,
                decision.failure.value,
                type(error).__name__,
                error,
                decision.delay,
                exc_info=decision.failure is Failure.UNKNOWN,
            )
            if not await pause(decision.delay):
                raise Stopped(where) from error
