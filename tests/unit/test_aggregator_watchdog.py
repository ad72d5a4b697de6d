import asyncio
from dataclasses import dataclass

from services.aggregator.faust_repairs.watchdog import StallDetector, check_partitions


def test_a_partition_that_waits_without_moving_is_stalled():
    detector = StallDetector(patience_seconds=30)
    assert detector.stalled(0, {"p0": 5, "p1": 7}, {"p0": 9, "p1": 7}) == []
    assert detector.stalled(29, {"p0": 5, "p1": 7}, {"p0": 9, "p1": 9}) == []
    assert detector.stalled(31, {"p0": 5, "p1": 7}, {"p0": 9, "p1": 9}) == ["p0"], (
        "p1 only started waiting at 29"
    )
    assert detector.stalled(62, {"p0": 5, "p1": 7}, {"p0": 9, "p1": 9}) == ["p0", "p1"]


def test_moving_or_caught_up_or_unassigned_partitions_are_fine():
    detector = StallDetector(patience_seconds=30)
    detector.stalled(0, {"p0": 5}, {"p0": 9})
    assert detector.stalled(40, {"p0": 6}, {"p0": 9}) == [], "it moved: the clock starts again"
    assert detector.stalled(80, {"p0": 9}, {"p0": 9}) == [], "caught up"
    assert detector.stalled(120, {"p0": None}, {"p0": 9}) == [], "no position yet (still seeking)"
    detector.stalled(130, {"p0": 9}, {"p0": 12})
    assert detector.stalled(200, {}, {}) == [] and detector._since == {}, "revoked partitions are forgotten"


class Partitions:
    """Log ends, commits and processed positions as a test sets them; `failures` makes the
    next reads raise."""

    def __init__(self, ends: dict[str, int], commits: dict[str, int | None], done: dict[str, int]) -> None:
        self.ends, self.commits, self.done, self.failures = ends, commits, done, 0

    async def highwaters(self, *partitions):
        if self.failures:
            self.failures -= 1
            raise RuntimeError("partition p0 is not assigned")
        return {p: self.ends[p] for p in partitions}

    async def committed(self, *partitions):
        return {p: self.commits[p] for p in partitions}

    async def processed(self, *partitions):
        return {p: self.done[p] for p in partitions}


def check(partitions: Partitions, detector: StallDetector, rewound: set, now: float):
    return asyncio.run(check_partitions(partitions, ["p0", "p1"], detector, rewound, now))


def test_records_never_processed_are_stuck_whatever_the_commit_says():
    partitions = Partitions({"p0": 12, "p1": 4}, {"p0": 12, "p1": 4}, {"p0": 7, "p1": 4})
    detector, rewound = StallDetector(patience_seconds=30), set()
    assert check(partitions, detector, rewound, 0).stuck == []
    assert check(partitions, detector, rewound, 31).stuck == ["p0"]


def test_a_commit_past_what_was_processed_is_read_again_once():
    partitions = Partitions({"p0": 12, "p1": 4}, {"p0": 12, "p1": None}, {"p0": 7, "p1": 0})
    detector, rewound = StallDetector(patience_seconds=30), set()
    assert check(partitions, detector, rewound, 0).rewind == {"p0": 7}, "p1: nothing committed yet"
    assert check(partitions, detector, rewound, 5).rewind == {}, "already sought back for this commit"
    partitions.commits["p0"] = 12
    partitions.done["p0"] = 10
    assert check(partitions, detector, rewound, 10).rewind == {}, "reading again, not a new commit"
    partitions.commits["p0"], partitions.ends["p0"] = 15, 15
    assert check(partitions, detector, rewound, 15).rewind == {"p0": 10}


def test_a_failed_read_skips_one_check_and_the_watch_goes_on():
    partitions = Partitions({"p0": 12, "p1": 4}, {"p0": 7, "p1": 4}, {"p0": 7, "p1": 4})
    detector, rewound = StallDetector(patience_seconds=30), set()
    check(partitions, detector, rewound, 0)
    partitions.failures = 1
    assert check(partitions, detector, rewound, 31).stuck == [], "skipped, not raised"
    assert check(partitions, detector, rewound, 36).stuck == ["p0"]
    partitions.done["p0"] = 12
    assert check(partitions, detector, rewound, 41).stuck == [], "caught up"


def test_setup_makes_the_changelogs_the_aggregator_uses():
    from cairn.adapters.kafka import topics
    from cairn.settings import get_settings
    from services.aggregator.app import build

    worker = build(get_settings())
    compacted = {spec.name for spec in topics.TOPICS if spec.compacted}
    assert worker.progress_table.changelog_topic.get_topic_name() == topics.PROGRESS_CHANGELOG
    assert worker.processed_table.changelog_topic.get_topic_name() == topics.PROCESSED_CHANGELOG
    assert {topics.PROGRESS_CHANGELOG, topics.PROCESSED_CHANGELOG} <= compacted


def test_a_batch_write_reaches_the_table_through_fausts_public_reader():
    """table_writes.writing_as sets what faust.current_event() reads: if an upgrade moves it,
    this fails here rather than every table write failing in the worker."""
    import faust

    from services.aggregator.faust_repairs.table_writes import writing_as

    event = object.__new__(faust.Event)
    assert faust.current_event() is None
    with writing_as(event):
        assert faust.current_event() is event
    assert faust.current_event() is None


@dataclass
class Message:
    partition: int
    offset: int


@dataclass
class Event:
    message: Message


def test_processed_positions_live_in_their_own_table_and_read_the_old_key_until_rewritten():
    from services.aggregator.faust_repairs.processed_positions import ProcessedPositions

    progress = {b"~processed:2": b"17"}  # where workers before the processed table kept it
    positions = ProcessedPositions(None, {}, progress)  # type: ignore[arg-type]
    assert positions.position(2) == 17 and positions.position(0) is None
    batch = [Event(Message(partition=2, offset=o)) for o in (17, 18, 19)]
    positions.record(batch)  # type: ignore[arg-type]
    assert positions.table == {b"2": b"20"} and positions.position(2) == 20
    assert progress == {b"~processed:2": b"17"}, "the progress table is not written"
