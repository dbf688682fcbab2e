"""A unit of work opened inside another on the same thread joins it (store/sql/uow.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from strongroom.identity.models import Account
from tests.conformance.conftest import Store

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def test_a_nested_read_sees_the_outer_write_and_the_outer_commits(store: Store) -> None:
    with store.uow(write=True) as outer:
        outer.accounts.add(Account("c" * 32, "nested", "IBMid-1", NOW))
        with store.uow() as inner:
            assert inner.accounts.get("c" * 32) is not None
        outer.revisions.bump("c" * 32)
    with store.uow() as after:
        assert after.accounts.count() == 1 and after.revisions.current("c" * 32) == 1


def test_the_outer_rollback_undoes_the_nested_work(store: Store) -> None:
    with pytest.raises(RuntimeError), store.uow(write=True) as outer:
        with store.uow(write=True) as inner:
            inner.accounts.add(Account("d" * 32, "nested", "IBMid-1", NOW))
        outer.revisions.bump("d" * 32)
        raise RuntimeError("refused")
    with store.uow() as after:
        assert after.accounts.get("d" * 32) is None


def test_a_write_cannot_nest_in_a_read(store: Store) -> None:
    with (
        store.uow() as outer,
        pytest.raises(RuntimeError, match="read-only"),
        store.uow(write=True),
    ):
        pass
    assert outer is not None
    with store.uow(write=True) as again:  # the store is usable afterwards
        again.accounts.add(Account("e" * 32, "after", "IBMid-1", NOW))
