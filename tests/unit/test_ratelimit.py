"""The token buckets and the lockout rules on their own (reliability.md T4, §4), clock moved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from strongroom.identity.lockout import LockoutPolicy, after_failure, is_locked
from strongroom.ratelimit import RateLimiter, source_key
from strongroom.testing import FrozenClock


def test_a_bucket_allows_its_rate_and_says_when_to_retry() -> None:
    clock = FrozenClock()
    limiter = RateLimiter(10, clock)
    assert [limiter.take("a") for _ in range(11)] == [0] * 10 + [1]
    clock.advance(0.1)
    assert limiter.take("a") == 0 and limiter.take("a") == 1
    slow = RateLimiter(0.25, clock)  # one request every 4 s
    assert slow.take("b") == 0 and slow.take("b") == 4


def test_buckets_are_bounded_and_a_forgotten_one_starts_full() -> None:
    clock = FrozenClock()
    limiter = RateLimiter(1, clock, max_keys=100)
    assert limiter.take("first") == 0 and limiter.take("first") == 1
    for n in range(10_000):
        limiter.take(f"guess-{n}")
    assert len(limiter) == 100
    assert limiter.take("first") == 0  # forgotten: laxer, never wrongly refused


def test_sources_are_addresses_and_ipv6_counts_per_64() -> None:
    assert source_key("203.0.113.5") == "203.0.113.5"
    assert source_key("::ffff:203.0.113.5") == "203.0.113.5"
    assert source_key("2001:db8:1:2:aaaa::1") == source_key("2001:db8:1:2:ffff::9")
    assert source_key("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert source_key("2001:db8:1:3::1") != source_key("2001:db8:1:2::1")
    assert source_key(None) == "unknown"


def test_lockout_rules_follow_section_4() -> None:
    policy = LockoutPolicy()
    now = datetime(2026, 1, 1, tzinfo=UTC)
    record = None
    for _ in range(9):
        record = after_failure(record, "s", now, policy)
        assert not is_locked(record, now)
    record = after_failure(record, "s", now, policy)
    assert record.locked_until == now + timedelta(seconds=60) and record.lockouts == 1
    assert is_locked(record, now + timedelta(seconds=59))
    assert not is_locked(record, now + timedelta(seconds=60))
    assert [policy.wait_for(n) for n in range(7)] == [60, 120, 240, 480, 900, 900, 900]
    # Nine failures, then the window ends: the count starts again.
    fresh = None
    for n in range(9):
        fresh = after_failure(fresh, "t", now + timedelta(seconds=n), policy)
    fresh = after_failure(fresh, "t", now + timedelta(seconds=300), policy)
    assert fresh.failures == 1 and not is_locked(fresh, now + timedelta(seconds=300))
    # 12 h without a failure forget earlier lockouts: the next one is 60 s again.
    later = now + timedelta(hours=12, seconds=61)
    again = record
    for _ in range(10):
        again = after_failure(again, "s", later, policy)
    assert again.lockouts == 1 and again.locked_until == later + timedelta(seconds=60)
