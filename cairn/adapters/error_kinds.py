"""What the adapters' libraries raise, as cairn.domain.failures classifies it: named here so
the domain never imports Kafka or SQLAlchemy. Imported by cairn/adapters/__init__.py, so any
process that uses an adapter classifies its errors."""

import sqlalchemy.exc
from aiokafka import errors as kafka_errors

from cairn.domain.failures import ADAPTER_ERRORS


def _connection_lost(error: BaseException) -> bool:
    return isinstance(error, sqlalchemy.exc.DBAPIError) and error.connection_invalidated


# Kafka refuses these for the record's own sake (its size), so resending cannot help.
ADAPTER_ERRORS.permanent = (kafka_errors.RecordTooLargeError, kafka_errors.MessageSizeTooLargeError)
ADAPTER_ERRORS.transient = (
    kafka_errors.KafkaError,
    sqlalchemy.exc.OperationalError,  # server gone, SQLite locked, connection refused
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.DisconnectionError,
    sqlalchemy.exc.TimeoutError,  # the pool had no connection to give
)
ADAPTER_ERRORS.transient_if = (_connection_lost,)
