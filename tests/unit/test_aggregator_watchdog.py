import asyncio

from services.aggregator.watchdog import StallDetector, stuck_partitions


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
    """Log ends and commits as a test sets them; `failures` makes the next reads raise."""

    def __init__(self, highwaters: dict[str, int], committed: dict[str, int]) -> None:
        self.ends, self.commits, self.failures = highwaters, committed, 0

    async def highwaters(self, *partitions):
        if self.failures:
            self.failures -= 1
            raise RuntimeError("partition p0 is not assigned")
        return {p: self.ends[p] for p in partitions}

    async def committed(self, *partitions):
        return {p: self.commits[p] for p in partitions}


def test_records_fetched_but_never_committed_are_stuck():
    # the fetch position may already be at the end (records fetched, then dropped by a
    # rebalance); only the commit tells that they were never processed
    partitions = Partitions({"p0": 12, "p1": 4}, {"p0": 7, "p1": 4})
    detector = StallDetector(patience_seconds=30)
    assert asyncio.run(stuck_partitions(partitions, ["p0", "p1"], detector, 0)) == []
    assert asyncio.run(stuck_partitions(partitions, ["p0", "p1"], detector, 31)) == ["p0"]


def test_a_failed_read_skips_one_check_and_the_watch_goes_on():
    partitions = Partitions({"p0": 12}, {"p0": 7})
    detector = StallDetector(patience_seconds=30)
    asyncio.run(stuck_partitions(partitions, ["p0"], detector, 0))
    partitions.failures = 1
    assert asyncio.run(stuck_partitions(partitions, ["p0"], detector, 31)) == [], "skipped, not raised"
    assert asyncio.run(stuck_partitions(partitions, ["p0"], detector, 36)) == ["p0"]
    partitions.commits["p0"] = 12
    assert asyncio.run(stuck_partitions(partitions, ["p0"], detector, 41)) == [], "caught up"
