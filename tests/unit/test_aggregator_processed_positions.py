"""The aggregator's own record of what it processed, and the batches it refuses to fold past a
hole (services/aggregator/faust_repairs/processed_positions.py), on a fake consumer."""

import asyncio
from dataclasses import dataclass

from faust.types import TP

from services.aggregator.faust_repairs.processed_positions import ProcessedPositions

TOPIC = "cairn.activity.v1"


@dataclass
class Message:
    partition: int
    offset: int

    @property
    def tp(self) -> TP:
        return TP(TOPIC, self.partition)


@dataclass
class Event:
    message: Message


class Consumer:
    def __init__(self, earliest: int = 0) -> None:
        self.earliest = earliest

    async def earliest_offsets(self, *partitions: TP) -> dict[TP, int]:
        return {tp: self.earliest for tp in partitions}


class App:
    def __init__(self, earliest: int = 0) -> None:
        self.consumer = Consumer(earliest)


def positions(done: dict[int, int], earliest: int = 0) -> ProcessedPositions:
    table = {str(p).encode(): str(o).encode() for p, o in done.items()}
    return ProcessedPositions(App(earliest), table, {})  # type: ignore[arg-type]


def batch(*offsets: tuple[int, int]) -> list[Event]:
    return [Event(Message(partition=p, offset=o)) for p, o in offsets]


def offsets(events: list[Event]) -> list[tuple[int, int]]:
    return [(e.message.partition, e.message.offset) for e in events]


def kept(done: dict[int, int], events: list[Event], earliest: int = 0) -> list[tuple[int, int]]:
    return offsets(asyncio.run(positions(done, earliest).contiguous(events)))  # type: ignore[arg-type]


def test_a_batch_that_carries_on_from_where_processing_stopped_is_kept_whole():
    events = batch((2, 2365), (0, 10), (2, 2366), (2, 2367), (0, 11))
    assert kept({2: 2365, 0: 10}, events) == offsets(events)


def test_a_batch_that_starts_past_where_processing_stopped_is_left_for_the_watchdog():
    events = batch((2, 2480), (0, 10), (2, 2481))
    assert kept({2: 2376, 0: 10}, events) == [(0, 10)]


def test_a_hole_inside_a_batch_leaves_the_rest_of_that_partition_for_the_watchdog():
    """The chaos run's loss: after a failover Faust handed the agent offset 2375 and then 2480,
    2481 in one batch; the records between were never folded, yet the position said 2482."""
    events = batch((2, 2375), (1, 50), (2, 2480), (1, 51), (2, 2481))
    assert kept({2: 2375, 1: 50}, events) == [(2, 2375), (1, 50), (1, 51)]
    where = positions({2: 2375, 1: 50})
    where.record(asyncio.run(where.contiguous(events)))  # type: ignore[arg-type]
    assert where.position(2) == 2376, "the position stops at the hole, so the watchdog reads it again"
    assert where.position(1) == 52


def test_records_read_again_after_a_seek_back_are_no_hole():
    events = batch((2, 2063), (2, 2064), (2, 2063), (2, 2064), (2, 2065))
    assert kept({2: 2064}, events) == offsets(events)


def test_a_start_the_broker_no_longer_has_records_before_is_accepted_and_then_checked():
    assert kept({2: 10}, batch((2, 40), (2, 41)), earliest=40) == [(2, 40), (2, 41)]
    assert kept({2: 10}, batch((2, 40), (2, 43)), earliest=40) == [(2, 40)]
    assert kept({}, batch((2, 0), (2, 1))) == [(2, 0), (2, 1)]
    assert kept({}, batch((2, 5), (2, 6))) == []
