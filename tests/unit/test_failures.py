"""The one classification every consumer uses: permanent failures are dead-lettered at once,
unknown ones after a bounded number of attempts, transient ones never."""

import asyncio

import pytest
import sqlalchemy.exc
from aiokafka import errors as kafka_errors
from pydantic import BaseModel, ValidationError

from cairn.adapters.smtp import PermanentFailure, TemporaryFailure
from cairn.domain.failures import (
    ADAPTER_ERRORS,
    Attempts,
    Failure,
    PoisonRecord,
    RetryPolicy,
    Stopped,
    backoff,
    classify,
    until_done,
)
from cairn.usecases.email_message import UnsafeHeader
from cairn.usecases.issuing import MissingRecord


class _Shape(BaseModel):
    n: int


def _validation_error() -> ValidationError:
    try:
        _Shape.model_validate({"n": "x"})
    except ValidationError as error:
        return error
    raise AssertionError("unreachable")


def test_what_retrying_cannot_fix_is_permanent():
    for error in [
        PoisonRecord("no value"),
        MissingRecord("award a1: recipient missing"),
        _validation_error(),
        UnsafeHeader("To: address parts cannot contain CR or LF"),
        PermanentFailure("550 no such user"),
        kafka_errors.RecordTooLargeError(),
    ]:
        assert classify(error) is Failure.PERMANENT, error


def test_what_is_down_outside_the_record_is_transient():
    database_down = sqlalchemy.exc.OperationalError("SELECT 1", {}, ConnectionRefusedError(111, "refused"))
    for error in [
        database_down,
        sqlalchemy.exc.InterfaceError("SELECT 1", {}, Exception("connection is closed")),
        TemporaryFailure("connection refused", unreachable=True),
        ConnectionRefusedError(111, "refused"),
        TimeoutError(),
        kafka_errors.KafkaConnectionError("broker away"),
        kafka_errors.KafkaTimeoutError(),
    ]:
        assert classify(error) is Failure.TRANSIENT, error


def test_anything_else_is_unknown():
    for error in [
        ValueError("Header values may not contain linefeed or carriage return characters"),
        KeyError("achievement"),
        sqlalchemy.exc.IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed")),
        ZeroDivisionError(),
    ]:
        assert classify(error) is Failure.UNKNOWN, error


def test_a_record_failing_the_same_way_is_dead_lettered_after_the_bounded_attempts():
    attempts = Attempts(RetryPolicy(max_attempts=3), draw=lambda: 0.0)
    decisions = [attempts.failed(KeyError("achievement")) for _ in range(3)]
    assert [d.dead_letter for d in decisions] == [False, False, True]
    assert decisions[-1].attempts == 3


def test_a_permanent_failure_is_dead_lettered_at_the_first_attempt():
    decision = Attempts(RetryPolicy(max_attempts=3)).failed(PoisonRecord("record has no value"))
    assert decision.dead_letter and decision.failure is Failure.PERMANENT


def test_transient_failures_are_retried_forever_with_capped_backoff_and_do_not_count():
    attempts = Attempts(RetryPolicy(max_attempts=3, base_delay=0.5, max_delay=30), draw=lambda: 1.0)
    decisions = [attempts.failed(ConnectionRefusedError(111, "refused")) for _ in range(1000)]
    assert not any(d.dead_letter for d in decisions)
    assert [d.delay for d in decisions[:4]] == [0.5, 1.0, 2.0, 4.0]
    assert max(d.delay for d in decisions) == 30
    # the database coming back and an unknown failure then: still three unknown tries allowed
    assert not attempts.failed(ValueError("odd")).dead_letter
    assert not attempts.failed(ValueError("odd")).dead_letter
    assert attempts.failed(ValueError("odd")).dead_letter


def test_backoff_doubles_up_to_the_cap_with_jitter():
    assert [backoff(n, 1, 8, draw=lambda: 0.0) for n in range(1, 6)] == [0.5, 1, 2, 4, 4]
    assert [backoff(n, 1, 8, draw=lambda: 1.0) for n in range(1, 6)] == [1, 2, 4, 8, 8]
    assert backoff(10_000, 1, 8, draw=lambda: 1.0) == 8


def _failing(errors: list[BaseException]):
    calls: list[int] = []

    async def attempt() -> None:
        calls.append(1)
        if errors:
            raise errors.pop(0)

    return attempt, calls


def test_until_done_retries_through_an_outage_then_succeeds():
    attempt, calls = _failing([ConnectionRefusedError(111, "refused")] * 10)
    waits: list[float] = []

    async def pause(seconds: float) -> bool:
        waits.append(seconds)
        return True

    assert asyncio.run(until_done(attempt, RetryPolicy(max_attempts=3), "record", pause)) is None
    assert len(calls) == 11 and len(waits) == 10


def test_until_done_gives_up_after_the_bounded_attempts_with_the_error():
    attempt, calls = _failing([KeyError("achievement")] * 10)

    async def pause(seconds: float) -> bool:
        return True

    error, decision = asyncio.run(until_done(attempt, RetryPolicy(max_attempts=3), "record", pause))
    assert isinstance(error, KeyError) and decision.dead_letter and decision.attempts == 3
    assert len(calls) == 3


def test_until_done_stops_when_asked_and_a_consumer_may_name_its_own_permanent_errors():
    attempt, _ = _failing([ConnectionRefusedError(111, "refused")])

    async def stop(seconds: float) -> bool:
        return False

    with pytest.raises(Stopped):
        asyncio.run(until_done(attempt, RetryPolicy(), "record", stop))
    attempt, calls = _failing([ZeroDivisionError()])
    policy = RetryPolicy(permanent=(ZeroDivisionError,))
    _, decision = asyncio.run(until_done(attempt, policy, "record", stop))
    assert decision.failure is Failure.PERMANENT and len(calls) == 1


def test_a_failure_the_adapters_call_short_is_retried_at_least_that_often(monkeypatch):
    """A database restarting: the record goes on within seconds of it being back, not after
    the policy's 30 s cap."""
    monkeypatch.setattr(ADAPTER_ERRORS, "short_waits", ((lambda e: "restarting" in str(e), 2.0),))
    attempts = Attempts(RetryPolicy(max_attempts=3, base_delay=0.5, max_delay=30), draw=lambda: 1.0)
    restarting = [attempts.failed(ConnectionRefusedError(111, "restarting")).delay for _ in range(10)]
    assert restarting[:3] == [0.5, 1.0, 2.0] and max(restarting) == 2.0
    assert attempts.failed(ConnectionRefusedError(111, "refused")).delay == 30


class _DriverError(Exception):
    def __init__(self, message: str, sqlstate: str) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("message", "sqlstate"),
    [
        ("the database system is starting up", "57P03"),
        ("the database system is shutting down", "57P03"),
        ("terminating connection due to administrator command", "57P01"),
        ("connection was closed in the middle of operation", "08003"),
        ("sorry, too many clients already", "53300"),
    ],
)
def test_postgresql_restarting_is_transient_and_retried_within_seconds(message, sqlstate):
    """asyncpg's answers while PostgreSQL restarts arrive as a bare DBAPIError: only the
    SQLSTATE says the database is away (they were unknown, dead-lettered after three tries)."""
    error = sqlalchemy.exc.DBAPIError("SELECT 1", {}, _DriverError(message, sqlstate))
    assert classify(error) is Failure.TRANSIENT
    attempts = Attempts(RetryPolicy(max_attempts=3, base_delay=0.5, max_delay=30), draw=lambda: 1.0)
    assert max(attempts.failed(error).delay for _ in range(10)) == 2.0


def test_a_database_error_of_the_statement_is_not_transient():
    unique = sqlalchemy.exc.DBAPIError("INSERT", {}, _DriverError("duplicate key", "23505"))
    assert classify(unique) is Failure.UNKNOWN
