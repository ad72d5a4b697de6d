"""Token-bucket rate limits, kept in the gateway's memory (pure: the clock is passed in), and
which address a request counts against.

Each key (an API key, a client address, a claim token) may make `burst` requests at once and
then `per_minute` a minute. Buckets of idle keys are dropped so memory stays bounded.
"""

import ipaddress
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def client_address(peer: str, forwarded_for: Iterable[str], trusted_proxies: Sequence[Network]) -> str:
    """The address a request's per-address limits count against.

    X-Forwarded-For is believed only when the direct peer is a trusted proxy; then its hops are
    read from the right (each proxy appends the address it saw) and the first one that is not a
    trusted proxy is the client. Anything to the left of that was written by the client and may
    be made up. A malformed hop ends the walk at the proxy that passed it on.
    """
    if not _trusted(peer, trusted_proxies):
        return peer
    hops = [hop.strip() for header in forwarded_for for hop in header.split(",") if hop.strip()]
    nearest = peer
    for hop in reversed(hops):
        try:
            address = ipaddress.ip_address(hop)
        except ValueError:
            return nearest
        nearest = str(address)
        if not _trusted(nearest, trusted_proxies):
            return nearest
    return nearest  # every hop is a trusted proxy: the farthest one is the client


def _trusted(address: str, trusted_proxies: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False  # e.g. "testclient", or no address at all
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return any(ip in network for network in trusted_proxies)


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(
        self,
        per_minute: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self.rate = per_minute / 60
        self.burst = burst
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def check(self, key: str) -> float:
        """Takes one request from `key`'s bucket: 0 if allowed, else seconds until it would be."""
        now = self._clock()
        bucket = self._buckets.pop(key, None) or _Bucket(tokens=self.burst, updated=now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        self._buckets[key] = bucket  # most recently used last
        if len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate
