import pytest
from pydantic import IPvAnyNetwork, TypeAdapter, ValidationError

from cairn.settings import Settings
from services.gateway.rate_limits import RateLimiter, client_address


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


PROXIES = TypeAdapter(list[IPvAnyNetwork]).validate_python(["10.0.0.0/8", "192.0.2.7", "2001:db8::/32"])


def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy():
    assert client_address("203.0.113.9", ["198.51.100.1"], PROXIES) == "203.0.113.9"
    assert client_address("203.0.113.9", ["198.51.100.1"], []) == "203.0.113.9"
    assert client_address("127.0.0.1", ["198.51.100.1"], []) == "127.0.0.1", "not unless named"
    assert client_address("testclient", ["198.51.100.1"], PROXIES) == "testclient"


def test_the_right_most_untrusted_hop_is_the_client():
    assert client_address("10.1.2.3", ["198.51.100.1"], PROXIES) == "198.51.100.1"
    # The client wrote the left-most hop itself; the proxies appended the rest.
    assert client_address("10.1.2.3", ["6.6.6.6, 198.51.100.1, 192.0.2.7"], PROXIES) == "198.51.100.1"
    assert client_address("10.1.2.3", ["6.6.6.6, 198.51.100.1", "10.9.9.9"], PROXIES) == "198.51.100.1"
    assert client_address("::ffff:10.1.2.3", ["2001:db8::1, 2001:db9::5"], PROXIES) == "2001:db9::5"


def test_odd_forwarded_for_values_fall_back_to_the_nearest_proxy():
    assert client_address("10.1.2.3", [], PROXIES) == "10.1.2.3"
    assert client_address("10.1.2.3", ["not-an-ip"], PROXIES) == "10.1.2.3"
    assert client_address("10.1.2.3", ["6.6.6.6, junk, 10.0.0.9"], PROXIES) == "10.0.0.9"
    assert client_address("10.1.2.3", ["10.0.0.8, 10.0.0.9"], PROXIES) == "10.0.0.8", "all hops trusted"


def test_trusted_proxies_setting_is_a_json_list_of_addresses_and_networks(monkeypatch):
    monkeypatch.setenv("CAIRN_TRUSTED_PROXIES", '["10.0.0.0/8", "192.0.2.7"]')
    assert [str(n) for n in Settings().trusted_proxies] == ["10.0.0.0/8", "192.0.2.7/32"]
    monkeypatch.setenv("CAIRN_TRUSTED_PROXIES", '["10.0.0.0/99"]')
    with pytest.raises(ValidationError, match="trusted_proxies"):
        Settings()
