"""The lockout's records (reliability.md T4) on every backend: one row per subject, written
over, read back exactly, and pruned only when idle and not locked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from strongroom.store.ports import AuthFailures
from tests.conformance.conftest import Store

NOW = datetime(2026, 5, 4, 8, tzinfo=UTC)


def test_records_are_written_over_and_read_back(store: Store) -> None:
    first = AuthFailures("apikey-grant 203.0.113.9", 3, NOW, 0, None, NOW)
    with store.uow(write=True) as uow:
        assert uow.auth_failures.get(first.subject) is None
        uow.auth_failures.put(first)
    locked = AuthFailures(first.subject, 0, None, 1, NOW + timedelta(seconds=60), NOW)
    with store.uow(write=True) as uow:
        assert uow.auth_failures.get(first.subject, for_update=True) == first
        uow.auth_failures.put(locked)
    with store.uow() as uow:
        assert uow.auth_failures.get(first.subject) == locked
        assert uow.auth_failures.count() == 1


def test_prune_forgets_idle_subjects_but_not_running_lockouts(store: Store) -> None:
    old = NOW - timedelta(hours=13)
    idle = AuthFailures("idle 192.0.2.1", 4, old, 2, old + timedelta(seconds=60), old)
    still_locked = AuthFailures("locked 192.0.2.2", 0, None, 9, NOW + timedelta(hours=1), old)
    recent = AuthFailures("recent 192.0.2.3", 1, NOW, 0, None, NOW)
    with store.uow(write=True) as uow:
        for record in (idle, still_locked, recent):
            uow.auth_failures.put(record)
    with store.uow(write=True) as uow:
        assert uow.auth_failures.prune(NOW - timedelta(hours=12), NOW) == 1
    with store.uow() as uow:
        assert uow.auth_failures.get(idle.subject) is None
        assert uow.auth_failures.get(still_locked.subject) == still_locked
        assert uow.auth_failures.get(recent.subject) == recent
        assert uow.auth_failures.count() == 2
