"""What the adapters' libraries raise, as cairn.domain.failures classifies it: named here so
the domain never imports Kafka or SQLAlchemy. Imported by cairn/adapters/__init__.py, so any
process that uses an adapter classifies its errors."""

import sqlalchemy.exc
from aiokafka import errors as kafka_errors

from cairn.domain.failures import ADAPTER_ERRORS

# The database's own answers that mean "not now" rather than "not this": the connection class
# (08: refused, broken, closed mid-query), a shutdown by an operator or a crash (57P01, 57P02),
# a server starting up or shutting down that takes no connections yet (57P03), and a server out
# of connection slots (53300), as every service reconnecting after a restart can make it.
DatabaseError = sqlalchemy.exc.SQLAlchemyError  # what the store raises, for the gateway's handler

UNAVAILABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53300")


def _sqlstate(error: sqlalchemy.exc.DBAPIError) -> str:
    orig = error.orig
    return str(getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None) or "")


def database_unavailable(error: BaseException) -> bool:
    """Whether `error` says the database cannot be reached or is restarting (so the same request
    will succeed once it is back), as opposed to a fault of the statement or the data."""
    if isinstance(
        error,
        (
            sqlalchemy.exc.OperationalError,  # server gone, SQLite locked, connection refused
            sqlalchemy.exc.InterfaceError,
            sqlalchemy.exc.DisconnectionError,
            sqlalchemy.exc.TimeoutError,  # the pool had no connection to give
        ),
    ):
        return True
    if isinstance(error, sqlalchemy.exc.DBAPIError):
        # asyncpg's "the database system is starting up" and "terminating connection due to
        # administrator command" arrive as a bare DBAPIError; only their SQLSTATE tells
        return error.connection_invalidated or _sqlstate(error).startswith(UNAVAILABLE_SQLSTATES)
    return False


# Kafka refuses these for the record's own sake (its size), so resending cannot help.
ADAPTER_ERRORS.permanent = (kafka_errors.RecordTooLargeError, kafka_errors.MessageSizeTooLargeError)
ADAPTER_ERRORS.transient = (
    kafka_errors.KafkaError,
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.DisconnectionError,
    sqlalchemy.exc.TimeoutError,
)
ADAPTER_ERRORS.transient_if = (database_unavailable,)
# A restart of the database takes seconds: a record waiting on it is tried at least this often,
# so it goes on within DATABASE_RETRY_SECONDS of the database being back.
DATABASE_RETRY_SECONDS = 2.0
ADAPTER_ERRORS.short_waits = ((database_unavailable, DATABASE_RETRY_SECONDS),)
