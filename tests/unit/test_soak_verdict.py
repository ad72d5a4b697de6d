"""The soak's verdict rule: growth after the warm-up, against the first sample after it."""

from devtools.soak import verdict, warm_up_seconds

HOUR = 3600.0


def test_warm_up_is_ten_minutes_or_a_sixth_of_a_shorter_run() -> None:
    assert warm_up_seconds(HOUR) == 600
    assert warm_up_seconds(2 * HOUR) == 600
    assert warm_up_seconds(600) == 100


def test_growth_during_the_warm_up_does_not_count() -> None:
    samples = [(0, 50.0), (300, 90.0), (600, 100.0), (1800, 105.0), (3600, 110.0)]
    result = verdict(samples, HOUR)
    assert result["flat"] is True
    assert result["baseline_mb"] == 100.0
    assert result["growth"] == 0.1


def test_growth_beyond_ten_percent_after_the_warm_up_is_not_flat() -> None:
    samples = [(0, 50.0), (600, 100.0), (1800, 105.0), (3600, 110.5)]
    result = verdict(samples, HOUR)
    assert result["flat"] is False
    assert result["peak_mb"] == 110.5


def test_a_peak_in_the_middle_counts_even_if_memory_falls_back() -> None:
    assert verdict([(600, 100.0), (1200, 130.0), (3600, 100.0)], HOUR)["flat"] is False


def test_a_shortened_run_uses_its_first_sixth() -> None:
    samples = [(0, 50.0), (60, 80.0), (120, 100.0), (600, 109.0)]
    result = verdict(samples, 600)
    assert result["baseline_mb"] == 100.0
    assert result["flat"] is True


def test_too_few_samples_after_the_warm_up_give_no_verdict() -> None:
    assert verdict([(0, 50.0), (600, 100.0)], HOUR)["flat"] is None


def test_a_service_that_was_never_found_gives_no_verdict() -> None:
    assert verdict([(600, 0.0), (1200, 0.0)], HOUR)["flat"] is None
