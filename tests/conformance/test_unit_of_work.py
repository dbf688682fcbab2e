"""Transactions: commit on exit, roll back on exception, conditional writes, concurrent writers."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy.exc import IntegrityError

from strongroom.identity.models import ServiceId, next_version
from strongroom.store.ports import ListQuery
from strongroom.store.sql.uow import SqlUnitOfWorkFactory
from tests.conformance import builders as b
from tests.conformance.conftest import Store, open_store

R = TypeVar("R")


class Boom(Exception):
    pass


def run_together(workers: list[Callable[[], R]]) -> list[R]:
    """Start the workers at the same moment on their own threads; re-raise the first failure."""
    barrier = threading.Barrier(len(workers))
    results: list[R | None] = [None] * len(workers)
    errors: list[BaseException] = []

    def run(index: int, work: Callable[[], R]) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = work()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, w)) for i, w in enumerate(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a writer hung"
    if errors:
        raise errors[0]
    return [r for r in results if r is not None]


# -- commit and rollback --------------------------------------------------------------------------


def test_unit_commits_on_normal_exit_and_sees_its_own_writes(store: Store) -> None:
    acct = b.account()
    sid = b.service_id(acct.id)
    with store.uow(write=True) as uow:
        uow.accounts.add(acct)
        uow.service_ids.add(sid)
        assert uow.accounts.get(acct.id) == acct
        assert uow.service_ids.get(sid.id) == sid
        assert uow.service_ids.count(acct.id) == 1
    with store.uow() as uow:
        assert uow.accounts.get(acct.id) == acct
        assert uow.service_ids.get(sid.id) == sid


@pytest.mark.parametrize("write", [True, False], ids=["write", "read"])
def test_unit_rolls_back_everything_on_exception(store: Store, write: bool) -> None:
    kept = b.account(name="kept")
    with store.uow(write=True) as uow:
        uow.accounts.add(kept)
    acct = b.account(name="doomed")
    sid = b.service_id(acct.id)
    key = b.api_key(acct.id, sid.iam_id)
    signing = b.signing_key()
    token = b.refresh_token("family")
    ada = b.user()
    with pytest.raises(Boom), store.uow(write=write) as uow:
        uow.accounts.add(acct)
        uow.users.add(ada)
        uow.users.add_membership(b.membership(acct.id, ada.iam_id))
        uow.service_ids.add(sid)
        uow.api_keys.add(key)
        uow.signing_keys.add(signing)
        uow.refresh_tokens.add(token)
        assert uow.meta.put_new("doomed", "yes") is True
        assert uow.api_keys.delete(key.id) is True
        uow.api_keys.add(key)
        raise Boom
    with store.uow() as uow:
        assert uow.accounts.count() == 1
        assert uow.accounts.get(kept.id) == kept
        assert uow.accounts.get(acct.id) is None
        assert uow.users.get(ada.iam_id) is None
        assert uow.users.membership(acct.id, ada.iam_id) is None
        assert uow.service_ids.get(sid.id) is None
        assert uow.service_ids.count(acct.id) == 0
        assert uow.api_keys.get(key.id) is None
        assert uow.api_keys.count_owned_by(sid.iam_id) == 0
        assert uow.signing_keys.all() == []
        assert uow.refresh_tokens.get_by_digest(token.digest) is None
        assert uow.meta.get("doomed") is None
    # The store is still usable, and the key can be written now.
    with store.uow(write=True) as uow:
        assert uow.meta.put_new("doomed", "no") is True
    with store.uow() as uow:
        assert uow.meta.get("doomed") == "no"


def test_failed_statement_rolls_back_the_whole_unit(store: Store) -> None:
    acct = b.account()
    first = b.api_key(acct.id, "iam-ServiceId-a")
    with store.uow(write=True) as uow:
        uow.accounts.add(acct)
        uow.api_keys.add(first)
    newcomer = b.account(name="newcomer")
    with pytest.raises(IntegrityError), store.uow(write=True) as uow:
        uow.accounts.add(newcomer)
        uow.api_keys.add(b.api_key(acct.id, "iam-ServiceId-b", digest=first.value_digest))
    with store.uow() as uow:
        assert uow.accounts.get(newcomer.id) is None
        assert uow.accounts.count() == 1
        assert uow.api_keys.count_owned_by("iam-ServiceId-b") == 0


def test_rolled_back_deletes_and_updates_are_undone(store: Store) -> None:
    acct = b.account()
    sid = b.service_id(acct.id)
    key = b.api_key(acct.id, sid.iam_id)
    with store.uow(write=True) as uow:
        uow.accounts.add(acct)
        uow.service_ids.add(sid)
        uow.api_keys.add(key)
    with pytest.raises(Boom), store.uow(write=True) as uow:
        renamed = replace(
            sid, name="renamed", meta=next_version(sid.meta, b.at(9), b.history(1)[0])
        )
        assert uow.service_ids.update(renamed, expected_tag=sid.meta.entity_tag) is True
        assert uow.api_keys.delete_owned_by(sid.iam_id) == 1
        raise Boom
    with store.uow() as uow:
        assert uow.service_ids.get(sid.id) == sid
        assert uow.api_keys.get(key.id) == key


# -- conditional updates --------------------------------------------------------------------------


def test_service_id_update_is_conditional_on_the_entity_tag(store: Store) -> None:
    acct = b.account()
    sid = b.service_id(acct.id, locked=False)
    with store.uow(write=True) as uow:
        uow.accounts.add(acct)
        uow.service_ids.add(sid)
    stale_tag = sid.meta.entity_tag
    first = replace(
        sid,
        name="first writer",
        description="changed",
        unique_instance_crns=("crn:v1:bluemix:public:x::a/y:z::",),
        locked=True,
        meta=next_version(sid.meta, b.at(60), b.history(1, start=b.at(60))[0]),
    )
    second = replace(
        sid, name="second writer", meta=next_version(sid.meta, b.at(61), b.history(1)[0])
    )
    with store.uow(write=True) as uow:
        assert uow.service_ids.update(first, expected_tag=stale_tag) is True
    with store.uow(write=True) as uow:
        assert uow.service_ids.update(second, expected_tag=stale_tag) is False
        assert uow.service_ids.update(second, expected_tag="1-" + "0" * 32) is False
    with store.uow() as uow:
        got = uow.service_ids.get(sid.id)
    assert got == first
    assert got is not None and got.meta.entity_tag.startswith("2-") and len(got.meta.history) == 3
    ghost = b.service_id(acct.id)
    with store.uow(write=True) as uow:
        assert uow.service_ids.update(ghost, expected_tag=ghost.meta.entity_tag) is False
        assert uow.service_ids.get(ghost.id) is None


def test_api_key_update_is_conditional_on_the_entity_tag(store: Store) -> None:
    acct = b.account()
    key = b.api_key(acct.id, "iam-ServiceId-a", expires_at=None)
    with store.uow(write=True) as uow:
        uow.accounts.add(acct)
        uow.api_keys.add(key)
    stale_tag = key.meta.entity_tag
    first = replace(
        key,
        name="renamed",
        description="",
        disabled=True,
        sealed_value=None,
        expires_at=b.at(99),
        meta=next_version(key.meta, b.at(60), b.history(1)[0]),
    )
    second = replace(
        key, name="lost update", meta=next_version(key.meta, b.at(61), b.history(1)[0])
    )
    with store.uow(write=True) as uow:
        assert uow.api_keys.update(first, expected_tag=stale_tag) is True
        assert uow.api_keys.update(second, expected_tag=stale_tag) is False
    with store.uow() as uow:
        assert uow.api_keys.get(key.id) == first
        assert uow.api_keys.get_by_digest(key.value_digest) == first
    ghost = b.api_key(acct.id, "iam-ServiceId-a")
    with store.uow(write=True) as uow:
        assert uow.api_keys.update(ghost, expected_tag=ghost.meta.entity_tag) is False
        assert uow.api_keys.get(ghost.id) is None


def test_concurrent_updates_with_the_same_tag_have_one_winner(store: Store) -> None:
    acct = b.account()
    sid = b.service_id(acct.id)
    with store.uow(write=True) as uow:
        uow.accounts.add(acct)
        uow.service_ids.add(sid)
    candidates = [
        replace(sid, name=f"writer {i}", meta=next_version(sid.meta, b.at(i), b.history(1)[0]))
        for i in range(2)
    ]

    def writer(candidate: ServiceId) -> Callable[[], bool]:
        def work() -> bool:
            with store.uow(write=True) as uow:
                return uow.service_ids.update(candidate, expected_tag=sid.meta.entity_tag)

        return work

    outcomes = run_together([writer(c) for c in candidates])
    assert sorted(outcomes) == [False, True]
    with store.uow() as uow:
        got = uow.service_ids.get(sid.id)
    assert got == candidates[outcomes.index(True)]


# -- refresh tokens -------------------------------------------------------------------------------


def test_mark_used_succeeds_once_only(store: Store) -> None:
    token, other = b.refresh_token("family"), b.refresh_token("family")
    with store.uow(write=True) as uow:
        uow.refresh_tokens.add(token)
        uow.refresh_tokens.add(other)
    with store.uow(write=True) as uow:
        assert uow.refresh_tokens.mark_used(token.id, b.at(10)) is True
        assert uow.refresh_tokens.mark_used(token.id, b.at(11)) is False
    with store.uow(write=True) as uow:
        assert uow.refresh_tokens.mark_used(token.id, b.at(12)) is False
        assert uow.refresh_tokens.mark_used("no-such-token", b.at(12)) is False
    with store.uow() as uow:
        assert uow.refresh_tokens.get_by_digest(token.digest) == replace(token, used_at=b.at(10))
        assert uow.refresh_tokens.get_by_digest(other.digest) == other


def test_mark_used_rolled_back_can_be_used_again(store: Store) -> None:
    token = b.refresh_token("family")
    with store.uow(write=True) as uow:
        uow.refresh_tokens.add(token)
    with pytest.raises(Boom), store.uow(write=True) as uow:
        assert uow.refresh_tokens.mark_used(token.id, b.at(10)) is True
        raise Boom
    with store.uow(write=True) as uow:
        assert uow.refresh_tokens.mark_used(token.id, b.at(20)) is True
    with store.uow() as uow:
        got = uow.refresh_tokens.get_by_digest(token.digest)
    assert got is not None and got.used_at == b.at(20)


def test_concurrent_mark_used_has_one_winner(store: Store) -> None:
    tokens = [b.refresh_token(f"family-{i}") for i in range(5)]
    with store.uow(write=True) as uow:
        for token in tokens:
            uow.refresh_tokens.add(token)

    def redeem(token_id: str, second: int) -> Callable[[], bool]:
        def work() -> bool:
            with store.uow(write=True) as uow:
                return uow.refresh_tokens.mark_used(token_id, b.at(second))

        return work

    for token in tokens:
        outcomes = run_together([redeem(token.id, 1), redeem(token.id, 2)])
        assert sorted(outcomes) == [False, True]
        with store.uow() as uow:
            got = uow.refresh_tokens.get_by_digest(token.digest)
        assert got is not None
        assert got.used_at == b.at(1 if outcomes[0] else 2)


def test_revoke_family(store: Store) -> None:
    live = [b.refresh_token("family-a") for _ in range(3)]
    earlier = b.refresh_token("family-a", used_at=b.at(1), revoked_at=b.at(5))
    bystander = b.refresh_token("family-b")
    with store.uow(write=True) as uow:
        for token in (*live, earlier, bystander):
            uow.refresh_tokens.add(token)
    with store.uow(write=True) as uow:
        assert uow.refresh_tokens.revoke_family("family-a", b.at(100)) == 3
        assert uow.refresh_tokens.revoke_family("family-a", b.at(200)) == 0
        assert uow.refresh_tokens.revoke_family("no-such-family", b.at(200)) == 0
    with store.uow() as uow:
        for token in live:
            assert uow.refresh_tokens.get_by_digest(token.digest) == replace(
                token, revoked_at=b.at(100)
            )
        # The first revocation time stands.
        assert uow.refresh_tokens.get_by_digest(earlier.digest) == earlier
        assert uow.refresh_tokens.get_by_digest(bystander.digest) == bystander


# -- meta.put_new ---------------------------------------------------------------------------------


def test_put_new_is_first_writer_wins_across_units(store: Store) -> None:
    with store.uow(write=True) as uow:
        assert uow.meta.put_new("first_account", "winner") is True
    with store.uow(write=True) as uow:
        assert uow.meta.put_new("first_account", "loser") is False
        assert uow.meta.get("first_account") == "winner"
    with store.uow() as uow:
        assert uow.meta.get("first_account") == "winner"


@pytest.mark.parametrize("same_unit", [False, True], ids=["earlier-unit", "same-unit"])
def test_lost_put_new_does_not_poison_the_transaction(store: Store, same_unit: bool) -> None:
    if not same_unit:
        with store.uow(write=True) as uow:
            assert uow.meta.put_new("first_account", "winner") is True
    acct = b.account()
    sid = b.service_id(acct.id)
    with store.uow(write=True) as uow:
        if same_unit:
            assert uow.meta.put_new("first_account", "winner") is True
        assert uow.meta.put_new("first_account", "loser") is False
        uow.accounts.add(acct)
        uow.service_ids.add(sid)
        assert uow.meta.put_new("second", "value") is True
        assert uow.meta.put_new("second", "again") is False
        assert uow.accounts.get(acct.id) == acct
    with store.uow() as uow:
        assert uow.meta.get("first_account") == "winner"
        assert uow.meta.get("second") == "value"
        assert uow.accounts.get(acct.id) == acct
        assert uow.service_ids.get(sid.id) == sid


def test_concurrent_put_new_has_one_winner(store: Store) -> None:
    def claim(value: str) -> Callable[[], tuple[str, bool]]:
        def work() -> tuple[str, bool]:
            with store.uow(write=True) as uow:
                won = uow.meta.put_new("first_account", value)
                # A lost race must leave the transaction usable.
                assert uow.meta.put_new(f"after {value}", value) is True
                return value, won

        return work

    outcomes = dict(run_together([claim("one"), claim("two")]))
    assert sorted(outcomes.values()) == [False, True]
    winner = next(v for v, won in outcomes.items() if won)
    with store.uow() as uow:
        assert uow.meta.get("first_account") == winner
        assert uow.meta.get("after one") == "one"
        assert uow.meta.get("after two") == "two"


# -- concurrent writers ---------------------------------------------------------------------------

ROUNDS = 15


def read_then_write(
    uow_factory: SqlUnitOfWorkFactory, account_id: str, tag: str
) -> Callable[[], int]:
    """Each unit reads before it writes: the lock-upgrade pattern that deadlocks a plain BEGIN."""

    def work() -> int:
        for i in range(ROUNDS):
            with uow_factory(write=True) as uow:
                uow.service_ids.count(account_id)
                uow.service_ids.add(b.service_id(account_id, name=f"{tag} {i}"))
        return ROUNDS

    return work


def test_two_threads_write_at_once(store: Store) -> None:
    acct = b.account()
    with store.uow(write=True) as uow:
        uow.accounts.add(acct)
    done = run_together([read_then_write(store.uow, acct.id, tag) for tag in ("left", "right")])
    assert done == [ROUNDS, ROUNDS]
    with store.uow() as uow:
        assert uow.service_ids.count(acct.id) == 2 * ROUNDS
        page = uow.service_ids.list(ListQuery(account_id=acct.id, sort="name", limit=100))
    assert sorted(s.name for s in page.items) == sorted(
        f"{tag} {i}" for tag in ("left", "right") for i in range(ROUNDS)
    )


def test_two_databases_on_one_sqlite_file_write_at_once(tmp_path: Path) -> None:
    """Two engines on one file, as two processes would have: no shared in-process lock, so
    BEGIN IMMEDIATE and the busy timeout must queue the writers (no `database is locked`)."""
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    first, second = open_store("sqlite-file", url), open_store("sqlite-file", url)
    try:
        acct = b.account()
        with first.uow(write=True) as uow:
            uow.accounts.add(acct)
        done = run_together(
            [
                read_then_write(first.uow, acct.id, "first engine"),
                read_then_write(second.uow, acct.id, "second engine"),
            ]
        )
        assert done == [ROUNDS, ROUNDS]
        with second.uow() as uow:
            assert uow.service_ids.count(acct.id) == 2 * ROUNDS
    finally:
        first.database.dispose()
        second.database.dispose()
