from services.aggregator.watchdog import StallDetector


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
