"""How far the aggregator has really processed each activity partition, in its own table.

faust-streaming 0.15.3 sometimes acknowledges, and so commits, records it never handed to the
agent (seen in the two-worker kill test). Faust's commit therefore cannot say where a partition
stands; this table can. The agent writes a partition's position with the batch's progress,
before Faust acknowledges the batch, so the watchdog (watchdog.py) can seek back to it and the
agent can refuse what lies past a hole: a batch that starts past it, or skips inside
(`contiguous`).

The table is co-partitioned with the activity topic: the key is the partition number, written
under an event of that partition, so each position lives in its own partition's store and
changelog and moves with the partition on a rebalance.
"""

import logging

import faust
from faust.types import TP

from services.aggregator.faust_repairs.table_writes import writing_as

log = logging.getLogger("cairn.aggregator")

TABLE = "processed"  # its changelog: topics.PROCESSED_CHANGELOG, made by `cairn setup`


def processed_table(app: faust.App, partitions: int, options: dict[str, int] | None = None) -> faust.Table:
    """activity partition -> the offset after the last record the agent processed there.
    `options`: its RocksDB sizes."""
    return app.Table(
        TABLE, default=None, key_type=bytes, value_type=bytes, partitions=partitions, options=options
    )


def _key(partition: int) -> bytes:
    return str(partition).encode()


class ProcessedPositions:
    def __init__(self, app: faust.App, table: faust.Table, progress_table: faust.Table) -> None:
        self.app = app
        self.table = table
        self.progress_table = progress_table

    def position(self, partition: int) -> int | None:
        """The offset after the last record processed in this partition; None if none was."""
        raw = self.table.get(_key(partition))
        if raw is None:
            # Workers before this table kept the position in the progress table; read it until
            # this partition's first batch writes here, so an upgrade does not replay the log.
            raw = self.progress_table.get(f"~processed:{partition}".encode())
        return None if raw is None else int(raw)

    def record(self, events: list[faust.EventT]) -> None:
        """Written with the batch's progress, before Faust acknowledges the batch (the watchdog
        relies on that order)."""
        last = {event.message.partition: event for event in events}
        for partition, event in last.items():
            with writing_as(event):
                self.table[_key(partition)] = str(event.message.offset + 1).encode()

    async def contiguous(self, events: list[faust.EventT]) -> list[faust.EventT]:
        """The batch without what lies past a hole in a partition: the events of a partition that
        starts past where processing stopped, and those after a skip inside the batch (seen in
        the chaos run: one event, then the next hundred missing, after a failover). The records
        in between never reached the agent, yet a later commit can pass them (Faust commits a
        revoked partition's in-flight batch from its own first offset). Left unprocessed and
        unrecorded, the commit then stands past the processed position, and the watchdog reads
        again from there. Records the broker no longer has (retention) cannot be read again, so
        a gap at the start of what it holds is accepted."""
        mine: dict[int, list[faust.EventT]] = {}
        for event in events:
            mine.setdefault(event.message.partition, []).append(event)
        left_out: set[int] = set()  # id() of the events left for the watchdog
        for partition, its in mine.items():
            expected = await self._resumes_at(partition, its[0])
            for index, event in enumerate(its):
                offset = event.message.offset
                if expected is not None and offset > expected:
                    log.error(
                        "%s: batch %s at %s but processing stopped at %s;"
                        " leaving it for the watchdog to read again",
                        event.message.tp,
                        "starts" if index == 0 else "skips",
                        offset,
                        expected,
                    )
                    left_out.update(id(e) for e in its[index:])
                    break
                expected = offset + 1 if expected is None else max(expected, offset + 1)
        return [event for event in events if id(event) not in left_out]

    async def _resumes_at(self, partition: int, first: faust.EventT) -> int | None:
        """The offset this partition's first event must not pass; None where any start is
        taken (nothing processed there yet, or the broker no longer has the records between)."""
        done = self.position(partition)
        if done is not None and first.message.offset <= done:
            return done
        tp = first.message.tp
        earliest = (await self.app.consumer.earliest_offsets(tp)).get(tp, 0)
        stopped = earliest if done is None else done  # none processed yet: the log's start
        if first.message.offset <= stopped or earliest > stopped:
            return None
        return stopped

    async def of(self, *partitions: TP) -> dict[TP, int]:
        """For the watchdog: each partition's position, the log's start where none was recorded."""
        result = {}
        for tp in partitions:
            done = self.position(tp.partition)
            if done is not None:
                result[tp] = done
        if missing := [tp for tp in partitions if tp not in result]:
            result.update(await self.app.consumer.earliest_offsets(*missing))
        return result
