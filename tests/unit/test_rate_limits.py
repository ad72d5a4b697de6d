from cairn.rate_limits import RateLimiter


def test_burst_then_steady_rate_per_key():
    now = [0.0]
    limiter = RateLimiter(per_minute=60, burst=3, clock=lambda: now[0])
    assert [limiter.check("a") for _ in range(3)] == [0, 0, 0]
    assert limiter.check("a") == 1.0, "the fourth waits a second at 60 a minute"
    assert limiter.check("b") == 0, "another key has its own bucket"
    now[0] = 1.0
    assert limiter.check("a") == 0 and limiter.check("a") > 0
    now[0] = 100.0
    assert [limiter.check("a") for _ in range(4)][-1] > 0, "refills only up to the burst"


def test_idle_keys_are_forgotten():
    limiter = RateLimiter(per_minute=1, burst=1, clock=lambda: 0.0, max_keys=2)
    for key in ["a", "b", "c"]:
        assert limiter.check(key) == 0
    assert limiter.check("a") == 0, "a was dropped, so it starts with a full bucket"
    assert limiter.check("c") > 0
