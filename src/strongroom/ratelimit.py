"""Token buckets keyed by a string (a source address, an API key id): reliability.md T4, §4.

Driven by the injected clock, so tests move time instead of sleeping. The buckets live in this
node's memory: with N nodes behind a balancer a source gets up to N times the rate, which is
acceptable for a flood limit (docs/deployment.md); the lockout, which bounds guessing, is stored
in the database and shared.
"""

from __future__ import annotations

import ipaddress
import math
import threading
from collections import OrderedDict
from datetime import datetime

from strongroom.clock import Clock

MAX_TRACKED = 100_000  # buckets kept; the least recently used is forgotten first


def source_key(host: str | None) -> str:
    """What a source is counted as: an IPv4 address, or an IPv6 address's /64 (one subscriber's
    network gets one budget instead of 2^64 of them)."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host[:64]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


class RateLimiter:
    """`rate` requests a second per key, with bursts of up to `burst` (default: `rate`).

    Memory is bounded by `max_keys`: a forgotten key starts again with a full bucket, which can
    only make the limit laxer for it, never refuse anyone wrongly.
    """

    def __init__(
        self, rate: float, clock: Clock, *, burst: float | None = None, max_keys: int = MAX_TRACKED
    ) -> None:
        if rate <= 0:
            raise ValueError("the rate must be positive")
        self.rate = rate
        self.burst = max(1.0, burst if burst is not None else rate)
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, datetime]] = OrderedDict()  # tokens, at
        self._lock = threading.Lock()

    def take(self, key: str) -> int:
        """0 when the request may go ahead; else the whole seconds until it may (Retry-After)."""
        now = self._clock.now()
        with self._lock:
            tokens, at = self._buckets.pop(key, (self.burst, now))
            elapsed = max(0.0, (now - at).total_seconds())  # exact: no float epoch seconds
            tokens = min(self.burst, tokens + elapsed * self.rate)
            wait = 0
            if tokens >= 1.0 - 1e-9:  # 0.1 s at 10/s refills one token, not 0.999…
                tokens = max(0.0, tokens - 1.0)
            else:
                wait = max(1, math.ceil((1.0 - tokens) / self.rate))
            self._buckets[key] = (tokens, now)
            if len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)
            return wait

    def __len__(self) -> int:
        return len(self._buckets)
