"""Conformance: enterprises, their account groups and accounts' places in them (spec §9), on
every backend: round trips, lookups by enterprise account, updates, parent-filtered paging with
deleted nodes hidden unless asked for, and the account's own state."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy.exc import IntegrityError

from strongroom.resources.enterprise_models import (
    ACTIVE,
    DELETED,
    AccountGroup,
    Changed,
    Enterprise,
    EnterpriseAccount,
    NodeQuery,
    Origin,
)
from tests.conformance import builders as b
from tests.conformance.conftest import Store

CHANGED = Changed(b.at(0), b.OWNER, b.at(0), b.OWNER)


def _enterprise(store: Store) -> tuple[Enterprise, list[str]]:
    """An enterprise with its enterprise account and three more accounts."""
    accounts = [b.account(created_at=b.at(i)) for i in range(4)]
    enterprise = Enterprise(
        id="e" * 32,
        account_id=accounts[0].id,
        name="Acme",
        domain=None,
        state=ACTIVE,
        primary_contact_iam_id=b.OWNER,
        primary_contact_email="ada@example.com",
        source_account_id=accounts[1].id,
        changed=CHANGED,
    )
    with store.uow(write=True) as uow:
        for account in accounts:
            uow.accounts.add(account)
        uow.enterprises.add(enterprise)
    return enterprise, [a.id for a in accounts]


def _group(enterprise: Enterprise, ident: str, parent: str | None, at: int) -> AccountGroup:
    return AccountGroup(
        id=ident * 32,
        enterprise_id=enterprise.id,
        enterprise_account_id=enterprise.account_id,
        parent_group_id=parent,
        name=f"group {ident}",
        state=ACTIVE,
        primary_contact_iam_id=b.OWNER,
        primary_contact_email="ada@example.com",
        changed=replace(CHANGED, created_at=b.at(at)),
    )


def _place(
    enterprise: Enterprise, account_id: str, parent: str | None, at: int
) -> EnterpriseAccount:
    return EnterpriseAccount(
        account_id=account_id,
        enterprise_id=enterprise.id,
        enterprise_account_id=enterprise.account_id,
        parent_group_id=parent,
        origin=Origin.CREATED,
        state=ACTIVE,
        changed=replace(CHANGED, created_at=b.at(at)),
    )


def test_enterprises_round_trip_and_are_found_by_their_account(store: Store) -> None:
    enterprise, _ = _enterprise(store)
    with store.uow() as uow:
        assert uow.enterprises.get(enterprise.id) == enterprise
        assert uow.enterprises.get_by_account(enterprise.account_id) == enterprise
        assert uow.enterprises.get_by_account(enterprise.source_account_id) is None
        assert uow.enterprises.get("0" * 32) is None
    renamed = replace(enterprise, name="Acme Corp", domain="acme.example")
    with store.uow(write=True) as uow:
        assert uow.enterprises.update(renamed)
    with store.uow() as uow:
        assert uow.enterprises.get(enterprise.id) == renamed


def test_an_account_is_the_enterprise_account_of_one_enterprise_only(store: Store) -> None:
    enterprise, _ = _enterprise(store)
    with pytest.raises(IntegrityError), store.uow(write=True) as uow:
        uow.enterprises.add(replace(enterprise, id="f" * 32))


def test_groups_nest_and_page_by_parent(store: Store) -> None:
    enterprise, _ = _enterprise(store)
    top, inner, other = (
        _group(enterprise, "1", None, 1),
        _group(enterprise, "2", "1" * 32, 2),
        _group(enterprise, "3", None, 3),
    )
    with store.uow(write=True) as uow:
        for group in (top, inner, other):
            uow.account_groups.add(group)
    with store.uow() as uow:
        assert uow.account_groups.get(inner.id) == inner
        assert [g.id for g in uow.account_groups.in_enterprise(enterprise.id)] == [
            top.id,
            inner.id,
            other.id,
        ]
        roots = uow.account_groups.list(NodeQuery(enterprise.id, (None,)))
        assert [g.id for g in roots.items] == [top.id, other.id]
        first = uow.account_groups.list(NodeQuery(enterprise.id, None, limit=2))
        assert ([g.id for g in first.items], first.has_more) == ([top.id, inner.id], True)
        rest = uow.account_groups.list(NodeQuery(enterprise.id, None, offset=2, limit=2))
        assert ([g.id for g in rest.items], rest.has_more) == ([other.id], False)
        assert uow.account_groups.list(NodeQuery(enterprise.id, ())).items == []
    with store.uow(write=True) as uow:
        assert uow.account_groups.update(replace(other, state=DELETED, name="gone"))
    with store.uow() as uow:
        live = uow.account_groups.list(NodeQuery(enterprise.id, (None,)))
        assert [g.id for g in live.items] == [top.id]
        every = uow.account_groups.list(NodeQuery(enterprise.id, (None,), include_deleted=True))
        assert [g.name for g in every.items] == ["group 1", "gone"]


def test_accounts_keep_their_place_and_the_account_its_state(store: Store) -> None:
    enterprise, accounts = _enterprise(store)
    group = _group(enterprise, "1", None, 1)
    places = [
        _place(enterprise, accounts[1], None, 1),
        _place(enterprise, accounts[2], group.id, 2),
        _place(enterprise, accounts[3], group.id, 3),
    ]
    with store.uow(write=True) as uow:
        uow.account_groups.add(group)
        for place in places:
            uow.enterprise_accounts.add(place)
    with store.uow() as uow:
        assert uow.enterprise_accounts.get(accounts[2]) == places[1]
        assert uow.enterprise_accounts.get(accounts[0]) is None
        assert uow.enterprise_accounts.count_under(enterprise.id, group.id) == 2
        in_group = uow.enterprise_accounts.list(NodeQuery(enterprise.id, (group.id,)))
        assert [p.account_id for p in in_group.items] == accounts[2:]
        both = uow.enterprise_accounts.list(NodeQuery(enterprise.id, (None, group.id), limit=1))
        assert ([p.account_id for p in both.items], both.has_more) == ([accounts[1]], True)
    with store.uow(write=True) as uow:
        assert uow.enterprise_accounts.update(replace(places[2], parent_group_id=None))
        assert uow.enterprise_accounts.update(replace(places[1], state=DELETED))
        assert uow.enterprise_accounts.set_account_state(accounts[2], DELETED)
    with store.uow() as uow:
        assert uow.enterprise_accounts.count_under(enterprise.id, group.id) == 0
        roots = uow.enterprise_accounts.list(NodeQuery(enterprise.id, (None,)))
        assert [p.account_id for p in roots.items] == [accounts[1], accounts[3]]
        account = uow.accounts.get(accounts[2])
        assert account is not None and account.state == DELETED


def test_a_failed_unit_writes_no_enterprise(store: Store) -> None:
    enterprise, accounts = _enterprise(store)
    with pytest.raises(RuntimeError), store.uow(write=True) as uow:
        uow.account_groups.add(_group(enterprise, "1", None, 1))
        uow.enterprise_accounts.add(_place(enterprise, accounts[1], None, 1))
        raise RuntimeError("refused after writing")
    with store.uow() as uow:
        assert uow.account_groups.in_enterprise(enterprise.id) == []
        assert uow.enterprise_accounts.get(accounts[1]) is None
