"""Lockout after repeated failed credential checks (reliability.md T4, §4; Keycloak's
brute-force detection).

A *subject* is an identity at a source: failures from one source never lock another source out
("0 collateral lockouts"). After `failures` failures within `window` seconds the subject is
locked for `wait` seconds, doubling with each lockout up to `max_wait`; `reset` seconds without
a failure forget the lockouts. A success does not clear the count: an attacker holding one valid
key of their own could otherwise interleave it with guesses and never be locked.

The records live in the database (`auth_failures`), so every node sees one count and one lock.
Only subjects that failed are recorded (one row per identity and source, never per guessed
value), and idle ones are pruned, so guessing leaves no state that grows with the guesses.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from strongroom.clock import Clock
from strongroom.store.ports import AuthFailures, UnitOfWorkFactory

SUBJECT_MAX = 200  # the column's width


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    """Defaults: reliability.md §4 (10 failures / 5 min; Keycloak's 60 s, 900 s and 12 h)."""

    failures: int = 10
    window: int = 300
    wait: int = 60
    max_wait: int = 900
    reset: int = 43_200

    def wait_for(self, lockouts: int) -> int:
        """The length of the lockout that follows `lockouts` earlier ones."""
        return min(self.max_wait, self.wait << min(lockouts, 32))


def subject_of(identity: str, source: str) -> str:
    return f"{identity} {source}"[:SUBJECT_MAX]


def is_locked(record: AuthFailures | None, now: datetime) -> bool:
    return record is not None and record.locked_until is not None and record.locked_until > now


def after_failure(
    record: AuthFailures | None, subject: str, now: datetime, policy: LockoutPolicy
) -> AuthFailures:
    """The subject's record once one more failure is counted at `now`."""
    lockouts, failures, window_start = 0, 0, None
    if record is not None and now - record.last_failure < timedelta(seconds=policy.reset):
        lockouts, failures, window_start = record.lockouts, record.failures, record.window_start
    if window_start is None or now - window_start >= timedelta(seconds=policy.window):
        failures, window_start = 0, now
    failures += 1
    if failures < policy.failures:
        locked_until = record.locked_until if record is not None else None
        return AuthFailures(subject, failures, window_start, lockouts, locked_until, now)
    until = now + timedelta(seconds=policy.wait_for(lockouts))
    return AuthFailures(subject, 0, None, lockouts + 1, until, now)


class Lockout:
    PRUNE_EVERY = 500  # failures this node records between two prunes of idle subjects

    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, policy: LockoutPolicy) -> None:
        self._uow = uow
        self._clock = clock
        self.policy = policy
        self._since_prune = 0
        self._lock = threading.Lock()

    def locked(self, subject: str) -> bool:
        with self._uow() as uow:
            return is_locked(uow.auth_failures.get(subject), self._clock.now())

    def failed(self, subject: str) -> bool:
        """Count a failure; True when it starts a lockout."""
        now = self._clock.now()
        with self._uow(write=True) as uow:
            record = uow.auth_failures.get(subject, for_update=True)
            if is_locked(record, now):
                return False  # a check that raced the lock: it was not evaluated twice
            updated = after_failure(record, subject, now, self.policy)
            uow.auth_failures.put(updated)
        with self._lock:
            self._since_prune += 1
            due = self._since_prune >= self.PRUNE_EVERY
            if due:
                self._since_prune = 0
        if due:
            self.prune()
        return is_locked(updated, now)

    def prune(self) -> int:
        """Forget subjects idle longer than the reset time (their count would restart anyway)."""
        now = self._clock.now()
        idle = max(self.policy.reset, self.policy.window, self.policy.max_wait)
        with self._uow(write=True) as uow:
            return uow.auth_failures.prune(now - timedelta(seconds=idle), now)
