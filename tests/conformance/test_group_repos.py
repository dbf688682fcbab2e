"""Conformance: access groups, members, rules, settings and federated logins round-trip on every
backend, names are unique per account ignoring case, and deletes touch only what they name."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from strongroom import ids
from strongroom.access.group_models import (
    AccessGroup,
    FederatedLogin,
    GroupMember,
    GroupRule,
    GroupSettings,
)
from strongroom.access.memberships import load_memberships
from strongroom.identity.models import Account
from tests.conformance.conftest import Store

NOW = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)
ACCOUNT, OTHER = "a" * 32, "b" * 32


def group(n: int, account: str = ACCOUNT, name: str | None = None) -> AccessGroup:
    return AccessGroup(
        id=f"AccessGroupId-{n:04d}",
        account_id=account,
        name=name or f"Group ünï {n}",
        description=f"described {n}",
        created_at=NOW,
        created_by_id="IBMid-OWNER",
        last_modified_at=NOW + timedelta(seconds=n),
        last_modified_by_id="IBMid-EDITOR",
        entity_tag=f"1-{n:032d}",
    )


def rule(n: int, group_id: str, realm: str = "corp") -> GroupRule:
    return GroupRule(
        id=f"ClaimRule-{n}",
        group_id=group_id,
        account_id=ACCOUNT,
        name=f"rule {n}",
        expiration=n,
        realm_name=realm,
        conditions=({"claim": "groups", "operator": "IN", "value": '["a", "b"]'},),
        created_at=NOW + timedelta(seconds=n),
        created_by_id="IBMid-OWNER",
        last_modified_at=NOW,
        last_modified_by_id="IBMid-OWNER",
        entity_tag=f"1-{n:032d}",
    )


@pytest.fixture
def filled(store: Store) -> Store:
    with store.uow(write=True) as uow:
        for account in (ACCOUNT, OTHER):
            uow.accounts.add(Account(account, "acct", "IBMid-OWNER", NOW))
        for n in range(3):
            uow.access_groups.add(group(n))
        uow.access_groups.add(group(9, OTHER))
    return store


def test_groups_round_trip_and_update_on_their_tag(filled: Store) -> None:
    with filled.uow() as uow:
        found = uow.access_groups.get("AccessGroupId-0001")
        assert found is not None and found.name == "Group ünï 1"
        assert found.last_modified_at == NOW + timedelta(seconds=1)
        assert [g.id for g in uow.access_groups.in_account(ACCOUNT)] == [
            f"AccessGroupId-{n:04d}" for n in range(3)
        ]
        assert uow.access_groups.count(ACCOUNT) == 3 and uow.access_groups.count(OTHER) == 1
    with filled.uow(write=True) as uow:
        current = uow.access_groups.get("AccessGroupId-0001")
        assert current is not None
        renamed = replace(current, name="Renamed", entity_tag=ids.new_entity_tag(2))
        assert uow.access_groups.update(renamed, expected_tag=current.entity_tag)
        assert not uow.access_groups.update(renamed, expected_tag=current.entity_tag)
    with filled.uow() as uow:
        assert uow.access_groups.get("AccessGroupId-0001") == renamed


def test_names_are_unique_per_account_ignoring_case(filled: Store) -> None:
    with pytest.raises(IntegrityError), filled.uow(write=True) as uow:
        uow.access_groups.add(group(5, name="GROUP ÜNÏ 1"))
    with filled.uow(write=True) as uow:
        uow.access_groups.add(group(6, OTHER, name="group ünï 1"))  # another account: fine


def test_members_by_group_by_iam_id_and_by_account(filled: Store) -> None:
    with filled.uow(write=True) as uow:
        for g in ("AccessGroupId-0000", "AccessGroupId-0001"):
            uow.group_members.add(GroupMember(g, ACCOUNT, "IBMid-M1", "user", NOW, "IBMid-OWNER"))
        uow.group_members.add(
            GroupMember("AccessGroupId-0000", ACCOUNT, "iam-ServiceId-x", "service", NOW, "o")
        )
        uow.group_members.add(
            GroupMember("AccessGroupId-0009", OTHER, "IBMid-M1", "user", NOW, "o")
        )
    with filled.uow() as uow:
        member = uow.group_members.get("AccessGroupId-0000", "IBMid-M1")
        assert member == GroupMember(
            "AccessGroupId-0000", ACCOUNT, "IBMid-M1", "user", NOW, "IBMid-OWNER"
        )
        assert len(uow.group_members.of_group("AccessGroupId-0000")) == 2
        assert {m.group_id for m in uow.group_members.of_iam_id(ACCOUNT, "IBMid-M1")} == {
            "AccessGroupId-0000",
            "AccessGroupId-0001",
        }
        assert len(uow.group_members.in_account(ACCOUNT)) == 3
    with filled.uow(write=True) as uow:
        assert uow.group_members.delete("AccessGroupId-0001", "IBMid-M1")
        assert not uow.group_members.delete("AccessGroupId-0001", "IBMid-M1")
        assert uow.group_members.delete_group("AccessGroupId-0000") == 2
    with filled.uow() as uow:
        assert uow.group_members.in_account(ACCOUNT) == []
        assert len(uow.group_members.in_account(OTHER)) == 1


def test_rules_keep_their_conditions_as_sent(filled: Store) -> None:
    with filled.uow(write=True) as uow:
        uow.group_rules.add(rule(1, "AccessGroupId-0000"))
        uow.group_rules.add(rule(2, "AccessGroupId-0000"))
        uow.group_rules.add(rule(3, "AccessGroupId-0001"))
    with filled.uow() as uow:
        assert uow.group_rules.get("ClaimRule-1") == rule(1, "AccessGroupId-0000")
        assert [r.id for r in uow.group_rules.of_group("AccessGroupId-0000")] == [
            "ClaimRule-1",
            "ClaimRule-2",
        ]
        assert len(uow.group_rules.in_account(ACCOUNT)) == 3
    with filled.uow(write=True) as uow:
        current = rule(1, "AccessGroupId-0000")
        stored = uow.group_rules.get(current.id)
        assert stored is not None
        changed = replace(stored, expiration=24, entity_tag=ids.new_entity_tag(2))
        assert uow.group_rules.update(changed, expected_tag=stored.entity_tag)
        assert uow.group_rules.delete("ClaimRule-2")
        assert uow.group_rules.delete_group("AccessGroupId-0001") == 1
    with filled.uow() as uow:
        assert [r.expiration for r in uow.group_rules.in_account(ACCOUNT)] == [24]


def test_settings_default_to_public_access_on(filled: Store) -> None:
    with filled.uow(write=True) as uow:
        assert uow.group_settings.get(ACCOUNT) == GroupSettings(ACCOUNT, True, None, None)
        uow.group_settings.put(GroupSettings(ACCOUNT, False, NOW, "IBMid-OWNER"))
        uow.group_settings.put(GroupSettings(ACCOUNT, False, NOW, "IBMid-OTHER"))
    with filled.uow() as uow:
        assert uow.group_settings.get(ACCOUNT) == GroupSettings(ACCOUNT, False, NOW, "IBMid-OTHER")
        assert uow.group_settings.get(OTHER).public_access_enabled is True


def test_logins_keep_the_latest_per_realm_and_make_dynamic_members(filled: Store) -> None:
    first = FederatedLogin(ACCOUNT, "IBMid-F1", "corp", {"groups": ["x"]}, NOW)
    latest = replace(first, claims={"groups": ["a", "z"], "dept": "ops"}, logged_in_at=NOW)
    with filled.uow(write=True) as uow:
        uow.federated_logins.put(first)
        uow.federated_logins.put(latest)
        uow.federated_logins.put(
            FederatedLogin(ACCOUNT, "IBMid-OLD", "corp", {}, NOW - timedelta(days=2))
        )
        uow.group_rules.add(rule(2, "AccessGroupId-0000"))
        uow.group_rules.add(rule(3, "AccessGroupId-0001", realm="elsewhere"))
    with filled.uow() as uow:
        assert [x.iam_id for x in uow.federated_logins.in_account(ACCOUNT)] == [
            "IBMid-F1",
            "IBMid-OLD",
        ]
        snapshot = load_memberships(uow, ACCOUNT)
    assert snapshot.dynamic == {"IBMid-F1": (("AccessGroupId-0000", NOW + timedelta(hours=2)),)}
    assert snapshot.groups_of("IBMid-F1", NOW) == {
        "AccessGroupId-0000",
        "AccessGroupId-PublicAccess",
    }
    assert snapshot.groups_of("IBMid-F1", NOW + timedelta(hours=2)) == {
        "AccessGroupId-PublicAccess"
    }
    with filled.uow(write=True) as uow:
        assert uow.federated_logins.delete_before(ACCOUNT, NOW - timedelta(hours=24)) == 1
    with filled.uow() as uow:
        assert len(uow.federated_logins.in_account(ACCOUNT)) == 1
