"""Conformance: policies (kept exactly as sent), custom roles and account revisions, on every
backend."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from strongroom.identity.models import Account
from strongroom.store.ports import PolicyQuery, StoredAccessSettings, StoredPolicy, StoredRole
from tests.conformance.conftest import Store

NOW = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)
ACCOUNT = "a" * 32
OTHER = "b" * 32

DOCUMENT = {
    "type": "access",
    "description": "editors of kms",
    "subject": {"attributes": [{"key": "iam_id", "operator": "stringEquals", "value": "IBMid-1"}]},
    "resource": {
        "attributes": [
            {"key": "serviceName", "operator": "stringEquals", "value": "kms"},
            {"key": "accountId", "operator": "stringEquals", "value": ACCOUNT},
        ],
        "tags": [{"key": "env", "operator": "stringMatch", "value": "prod-*"}],
    },
    "control": {"grant": {"roles": [{"role_id": "crn:v1:bluemix:public:iam::::role:Editor"}]}},
    "rule": {
        "operator": "and",
        "conditions": [{"key": "k", "operator": "o", "value": ["1+00:00", "2+00:00"]}],
    },
    "pattern": "time-based-conditions:weekly:custom-hours",
}


def accounts(store: Store) -> None:
    with store.uow(write=True) as uow:
        for account in (ACCOUNT, OTHER):
            uow.accounts.add(Account(account, "acct", "IBMid-owner", NOW))


def policy(n: int, **changes: object) -> StoredPolicy:
    base = StoredPolicy(
        id=f"policy-{n:03d}",
        account_id=ACCOUNT,
        type="access",
        version="v2",
        document=DOCUMENT,
        subject_iam_id="IBMid-1",
        subject_group_id=None,
        subject_service=None,
        service_name="kms",
        service_type=None,
        state="active",
        created_at=NOW + timedelta(seconds=n),
        created_by_id="IBMid-owner",
        last_modified_at=NOW + timedelta(seconds=n),
        last_modified_by_id="IBMid-owner",
        entity_tag=f"1-{n:032x}",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def role(name: str, account: str = ACCOUNT, **changes: object) -> StoredRole:
    base = StoredRole(
        id=f"role-{name}-{account[:4]}",
        account_id=account,
        name=name,
        service_name="iam-groups",
        display_name=f"{name} role",
        description="",
        actions=("iam-groups.groups.read",),
        crn=f"crn:v1:ibmcloud:public:iam-access-management::a/{account}::customRole:{name}",
        created_at=NOW,
        created_by_id="IBMid-owner",
        last_modified_at=NOW,
        last_modified_by_id="IBMid-owner",
        entity_tag="1-" + "0" * 32,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_policy_document_round_trips_exactly(store: Store) -> None:
    accounts(store)
    with store.uow(write=True) as uow:
        uow.policies.add(policy(1))
    with store.uow() as uow:
        got = uow.policies.get("policy-001")
    assert got == policy(1)
    assert list(got.document["resource"]["attributes"][0]) == ["key", "operator", "value"]  # type: ignore[index]
    assert got.document == DOCUMENT and got.created_at.tzinfo is not None


def test_policy_update_is_conditional_and_delete_removes(store: Store) -> None:
    accounts(store)
    with store.uow(write=True) as uow:
        uow.policies.add(policy(1))
    newer = policy(1, state="deleted", entity_tag="2-" + "f" * 32)
    with store.uow(write=True) as uow:
        assert not uow.policies.update(newer, expected_tag="1-stale")
        assert uow.policies.update(newer, expected_tag=policy(1).entity_tag)
    with store.uow(write=True) as uow:
        assert uow.policies.get("policy-001") == newer
        assert uow.policies.delete("policy-001")
        assert not uow.policies.delete("policy-001")
        assert uow.policies.get("policy-001") is None


def test_policy_list_filters_and_pages(store: Store) -> None:
    accounts(store)
    made = [
        policy(1),
        policy(2, subject_iam_id=None, subject_group_id="AccessGroupId-x"),
        policy(
            3, type="authorization", subject_iam_id=None, subject_service="cloud-object-storage"
        ),
        policy(4, service_name="cloud-object-storage"),
        policy(5, state="deleted"),
        policy(6, service_name=None, service_type="platform_service"),
        policy(7, account_id=OTHER),
    ]
    with store.uow(write=True) as uow:
        for p in made:
            uow.policies.add(p)

    def ids(**query: object) -> list[str]:
        with store.uow() as uow:
            page = uow.policies.list(PolicyQuery(**{"account_id": ACCOUNT, **query}))  # type: ignore[arg-type]
        return [p.id for p in page.items]

    assert ids() == ["policy-001", "policy-002", "policy-003", "policy-004", "policy-006"]
    assert ids(iam_id="IBMid-1") == ["policy-001", "policy-004", "policy-006"]
    assert ids(access_group_id="AccessGroupId-x") == ["policy-002"]
    assert ids(type="authorization") == ["policy-003"]
    assert ids(service_name="kms") == ["policy-001", "policy-002", "policy-003"]
    assert ids(service_type="platform_service") == ["policy-006"]
    assert ids(state="deleted") == ["policy-005"]
    assert ids(state=None, sort="created_at", descending=True)[0] == "policy-006"
    seen: list[str] = []
    for offset in range(0, 10, 2):
        with store.uow() as uow:
            page = uow.policies.list(PolicyQuery(ACCOUNT, state=None, offset=offset, limit=2))
        seen += [p.id for p in page.items]
        if not page.has_more:
            break
    assert seen == [f"policy-{n:03d}" for n in (1, 2, 3, 4, 5, 6)]
    with store.uow() as uow:
        assert [p.id for p in uow.policies.active_in(ACCOUNT)] == [
            "policy-001", "policy-002", "policy-003", "policy-004", "policy-006",
        ]  # fmt: skip
        assert uow.policies.count(ACCOUNT) == 6
        assert uow.policies.count(OTHER) == 1


def test_custom_roles(store: Store) -> None:
    accounts(store)
    with store.uow(write=True) as uow:
        uow.roles.add(role("Auditor"))
        uow.roles.add(role("Auditor", account=OTHER))  # the same name in another account is fine
        uow.roles.add(role("Operator2", service_name="kms", actions=("kms.secrets.list",)))
    with store.uow() as uow:
        assert uow.roles.get_by_name(ACCOUNT, "Auditor") == role("Auditor")
        assert [r.name for r in uow.roles.list(ACCOUNT)] == ["Auditor", "Operator2"]
        assert [r.name for r in uow.roles.list(ACCOUNT, "kms")] == ["Operator2"]
    with pytest.raises(IntegrityError), store.uow(write=True) as uow:
        uow.roles.add(role("Auditor", id="another-id"))
    changed = role(
        "Auditor", actions=("iam-groups.groups.read", "iam-groups.groups.update"), entity_tag="2-x"
    )
    with store.uow(write=True) as uow:
        assert not uow.roles.update(changed, expected_tag="stale")
        assert uow.roles.update(changed, expected_tag=role("Auditor").entity_tag)
    with store.uow(write=True) as uow:
        assert uow.roles.get(changed.id) == changed
        assert uow.roles.delete(changed.id)
        assert uow.roles.get(changed.id) is None


def test_revisions_count_every_bump(store: Store) -> None:
    accounts(store)
    with store.uow() as uow:
        assert uow.revisions.current(ACCOUNT) == 0
    with store.uow(write=True) as uow:
        assert uow.revisions.bump(ACCOUNT) == 1
        assert uow.revisions.bump(ACCOUNT) == 2
    with pytest.raises(RuntimeError), store.uow(write=True) as uow:
        uow.revisions.bump(ACCOUNT)
        raise RuntimeError("rolled back")
    with store.uow() as uow:
        assert uow.revisions.current(ACCOUNT) == 2
        assert uow.revisions.current(OTHER) == 0


def test_concurrent_bumps_lose_nothing(store: Store) -> None:
    if store.backend == "sqlite-memory":
        pytest.skip("one shared connection: nothing runs concurrently")
    accounts(store)
    errors: list[BaseException] = []

    def bump_many() -> None:
        try:
            for _ in range(25):
                with store.uow(write=True) as uow:
                    uow.revisions.bump(ACCOUNT)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=bump_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with store.uow() as uow:
        assert uow.revisions.current(ACCOUNT) == 100


def test_access_settings_are_written_once_then_only_against_their_tag(store: Store) -> None:
    accounts(store)
    first = StoredAccessSettings(ACCOUNT, {"x": {"user": ["a"]}}, "1-" + "a" * 32, NOW, "IBMid-a")
    second = replace(first, settings={"x": {"user": []}}, entity_tag="2-" + "b" * 32)
    with store.uow(write=True) as uow:
        assert uow.access_settings.get(ACCOUNT) is None
        assert uow.access_settings.put(first, None)
    with store.uow(write=True) as uow:
        assert not uow.access_settings.put(first, None)  # already there: no second first write
        assert not uow.access_settings.put(second, "1-stale")
        assert uow.access_settings.put(second, first.entity_tag)
    with store.uow() as uow:
        assert uow.access_settings.get(ACCOUNT) == second
        assert uow.access_settings.get(OTHER) is None
