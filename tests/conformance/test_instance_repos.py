"""Conformance: service instances, resource keys and reclamations round-trip every field, filter
and update alike on every backend (spec §8)."""

from __future__ import annotations

from dataclasses import replace

from strongroom import ids
from strongroom.resources.instance_models import (
    Instance,
    InstanceState,
    KeyState,
    Reclamation,
    ReclamationState,
    ResourceKey,
    Stamp,
)
from strongroom.resources.instances import group_in_use
from strongroom.store.ports import InstanceQuery, KeyQuery
from tests.conformance import builders as b
from tests.conformance.conftest import Store


def instance(
    account_id: str, *, group: str = "g" * 32, service: str = "kms", t: int = 0
) -> Instance:
    stamp = Stamp(b.at(t), b.OWNER)
    return Instance(
        guid=ids.new_uuid(), account_id=account_id, name="kp — ünïcode", resource_id=service,
        resource_plan_id="plan-1", region_id="us-south", resource_group_id=group,
        resource_group_crn=f"crn:v1:bluemix:public:resource-controller::a/{account_id}::resource-group:{group}",
        state=InstanceState.ACTIVE, locked=False, allow_cleanup=True,
        parameters={"nested": {"list": [1, "two", None]}}, tags=("env:test", "x"),
        created=stamp, updated=stamp, last_operation={"type": "create", "async": False},
        plan_history=({"resource_plan_id": "plan-1", "start_date": "2024-05-06"},),
        deleted=None, restored=Stamp(b.at(t + 1), "iam-ServiceId-x"),
    )  # fmt: skip


def test_instances_round_trip_filter_and_update(store: Store) -> None:
    account, other = b.account(), b.account()
    with store.uow(write=True) as uow:
        uow.accounts.add(account)
        uow.accounts.add(other)
        kp, cos = instance(account.id), instance(account.id, service="cloud-object-storage", t=5)
        theirs = instance(other.id)
        for i in (kp, cos, theirs):
            uow.resource_instances.add(i)
    with store.uow() as uow:
        assert uow.resource_instances.get(kp.guid) == kp
        assert uow.resource_instances.list(InstanceQuery(account.id)) == [kp, cos]
        kms = uow.resource_instances.list(InstanceQuery(account.id, resource_id="kms"))
        assert kms == [kp]
        active = InstanceQuery(account.id, states=("pending_reclamation",))
        assert uow.resource_instances.list(active) == []
        assert uow.resource_instances.list(InstanceQuery(account.id, updated_from=b.at(3))) == [cos]
    deleted = replace(kp, state=InstanceState.REMOVED, updated=Stamp(b.at(9), b.OWNER),
                      deleted=Stamp(b.at(9), b.OWNER))  # fmt: skip
    with store.uow(write=True) as uow:
        assert not uow.resource_instances.update(deleted, b.at(100))  # stale: nothing written
        assert uow.resource_instances.update(deleted, kp.updated.at)
    with store.uow() as uow:
        assert uow.resource_instances.get(kp.guid) == deleted
        assert group_in_use(uow, kp.resource_group_id)  # cos is still there
        assert not group_in_use(uow, "h" * 32)


def test_keys_and_reclamations_round_trip(store: Store) -> None:
    account = b.account()
    kp = instance(account.id)
    stamp = Stamp(b.at(2), b.OWNER)
    key = ResourceKey(
        guid=ids.new_uuid(), account_id=account.id, name="k", source_guid=kp.guid,
        source_crn=kp.crn, resource_id="kms", resource_group_id=kp.resource_group_id,
        role_crn="crn:v1:bluemix:public:iam::::serviceRole:Reader", service_id="ServiceId-1",
        service_id_crn="crn:sid", apikey_id="ApiKey-1", apikey_name="auto", policy_id="p-1",
        state=KeyState.ACTIVE, created=stamp, updated=stamp,
    )  # fmt: skip
    reclamation = Reclamation(
        id=ids.new_uuid(), account_id=account.id, instance_guid=kp.guid, instance_crn=kp.crn,
        resource_group_id=kp.resource_group_id, state=ReclamationState.SCHEDULED,
        target_time=b.at(7 * 86400), created=stamp, updated=stamp, comment="",
    )  # fmt: skip
    with store.uow(write=True) as uow:
        uow.accounts.add(account)
        uow.resource_instances.add(kp)
        uow.resource_keys.add(key)
        uow.reclamations.add(reclamation)
    with store.uow(write=True) as uow:
        assert uow.resource_keys.get(key.guid) == key
        assert uow.resource_keys.list(KeyQuery(account.id, source_guid=kp.guid)) == [key]
        assert uow.reclamations.get(reclamation.id) == reclamation
        assert uow.reclamations.list(account.id, instance_guid=kp.guid) == [reclamation]
        gone = replace(key, state=KeyState.REMOVED, deleted=Stamp(b.at(3), b.OWNER))
        assert uow.resource_keys.update(gone)
        done = replace(reclamation, state=ReclamationState.RESTORING, comment="back")
        assert uow.reclamations.update(done)
    with store.uow() as uow:
        assert uow.resource_keys.list(KeyQuery(account.id)) == []  # active ones by default
        assert uow.resource_keys.list(KeyQuery(account.id, states=None)) == [gone]
        assert uow.reclamations.list(account.id) == []  # SCHEDULED ones by default
        assert uow.reclamations.get(reclamation.id) == done
