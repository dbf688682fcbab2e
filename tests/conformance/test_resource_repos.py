"""Conformance: resource groups (spec §7) on every backend: kept exactly, listed per account in
creation order, live names unique per account whatever the case, and a deleted group keeping
its row while freeing its name."""

from __future__ import annotations

import secrets
from dataclasses import replace

from strongroom.resources.models import ACTIVE, DELETED, SUSPENDED, ResourceGroup
from tests.conformance import builders as b
from tests.conformance.conftest import Store

QUOTA = "ab308779b42f1ac6af1901a3698c4ea2"


def group(
    account_id: str, name: str, *, seconds: float = 0, default: bool = False
) -> ResourceGroup:
    return ResourceGroup(
        id=secrets.token_hex(16),
        account_id=account_id,
        name=name,
        state=ACTIVE,
        default=default,
        quota_id=QUOTA,
        created_at=b.at(seconds),
        updated_at=b.at(seconds),
    )


def _accounts(store: Store) -> tuple[str, str]:
    first, second = b.account(), b.account()
    with store.uow(write=True) as uow:
        uow.accounts.add(first)
        uow.accounts.add(second)
    return first.id, second.id


def test_groups_round_trip_and_list_per_account(store: Store) -> None:
    first, second = _accounts(store)
    default = group(first, "Default", default=True)
    later = group(first, "Later", seconds=5)
    theirs = group(second, "Default", default=True)
    with store.uow(write=True) as uow:
        for g in (later, default, theirs):
            assert uow.resource_groups.add(g)
    with store.uow() as uow:
        assert uow.resource_groups.get(default.id) == default
        assert uow.resource_groups.get(secrets.token_hex(16)) is None
        assert uow.resource_groups.in_account(first) == [default, later]
        assert uow.resource_groups.in_account(second) == [theirs]


def test_live_names_are_unique_per_account_whatever_the_case(store: Store) -> None:
    first, second = _accounts(store)
    with store.uow(write=True) as uow:
        assert uow.resource_groups.add(group(first, "Team"))
        # The refused add leaves the unit of work usable: the next write still commits.
        assert not uow.resource_groups.add(group(first, "TEAM"))
        assert uow.resource_groups.add(group(second, "team"))
        assert uow.resource_groups.add(group(first, "Other"))
    with store.uow() as uow:
        assert sorted(g.name for g in uow.resource_groups.in_account(first)) == ["Other", "Team"]


def test_update_renames_and_refuses_a_taken_name(store: Store) -> None:
    first, _ = _accounts(store)
    team, other = group(first, "Team"), group(first, "Other")
    with store.uow(write=True) as uow:
        uow.resource_groups.add(team)
        uow.resource_groups.add(other)
        renamed = replace(team, name="Renamed", state=SUSPENDED, updated_at=b.at(9))
        assert uow.resource_groups.update(renamed)
        assert not uow.resource_groups.update(replace(other, name="renamed"))
    with store.uow() as uow:
        assert uow.resource_groups.get(team.id) == renamed
        assert uow.resource_groups.get(other.id) == other


def test_a_deleted_group_stays_frees_its_name_and_changes_no_more(store: Store) -> None:
    first, _ = _accounts(store)
    team = group(first, "Team")
    gone = replace(team, state=DELETED, updated_at=b.at(3), deleted_at=b.at(3))
    with store.uow(write=True) as uow:
        uow.resource_groups.add(team)
        assert uow.resource_groups.update(gone)
        assert uow.resource_groups.add(group(first, "Team", seconds=4))
        assert not uow.resource_groups.update(replace(gone, state=ACTIVE))
    with store.uow() as uow:
        assert uow.resource_groups.get(team.id) == gone
        assert [g.state for g in uow.resource_groups.in_account(first)] == [DELETED, ACTIVE]
