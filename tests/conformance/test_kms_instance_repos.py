"""Conformance: key rings, aliases, instance policies, import tokens and registrations
round-trip, stay in their instance and refuse duplicates alike on every backend (spec kms-api.md
§3.6-§3.9)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy.exc import IntegrityError

from strongroom.kms.models import InstancePolicy, KeyRing, KmsInstance
from tests.conformance import builders as b
from tests.conformance import kms_builders as kb
from tests.conformance.conftest import Store
from tests.conformance.test_unit_of_work import run_together


def two_instances(store: Store) -> tuple[KmsInstance, KmsInstance]:
    inst, other = kb.instance(), kb.instance()
    with store.uow(write=True) as uow:
        uow.kms_instances.add(inst)
        uow.kms_instances.add(other)
    return inst, other


def test_key_rings_are_unique_per_instance(store: Store) -> None:
    inst, other = two_instances(store)
    ring_b = KeyRing(inst.instance_id, "ring-b", kb.stamp(1))
    ring_a = KeyRing(inst.instance_id, "ring-a", kb.stamp(2, kb.MANAGER))
    with store.uow(write=True) as uow:
        assert uow.key_rings.add(ring_b) and uow.key_rings.add(ring_a)
        assert uow.key_rings.add(replace(ring_b, created=kb.stamp(9))) is False
        assert uow.key_rings.add(KeyRing(other.instance_id, "ring-b", kb.stamp(3)))
    with store.uow(write=True) as uow:
        assert (
            uow.key_rings.get(inst.instance_id, "ring-b") == ring_b
        )  # the duplicate wrote nothing
        assert uow.key_rings.list(inst.instance_id) == [ring_b, ring_a]  # oldest first
        assert uow.key_rings.get(other.instance_id, "ring-a") is None
        uow.key_rings.remove(other.instance_id, "ring-a")  # another instance's: no-op
        uow.key_rings.remove(inst.instance_id, "ring-b")
    with store.uow() as uow:
        assert uow.key_rings.list(inst.instance_id) == [ring_a]
        assert [r.id for r in uow.key_rings.list(other.instance_id)] == ["ring-b"]


def test_aliases_are_unique_per_instance_and_name_a_key_of_it(store: Store) -> None:
    inst, other = two_instances(store)
    k1, k2, bare, theirs = kb.key(inst), kb.key(inst), kb.key(inst), kb.key(other)
    a1, a2, a3 = kb.alias(k1, "app-root", t=2), kb.alias(k1, "App-Root", t=1), kb.alias(k2, "x_1")
    with store.uow(write=True) as uow:
        for k in (k1, k2, bare, theirs):
            uow.kms_keys.add(k)
        assert all(uow.key_aliases.add(a) for a in (a1, a2, a3))  # case-sensitive names
        assert uow.key_aliases.add(kb.alias(k2, "app-root")) is False  # taken in the instance
        assert uow.key_aliases.add(kb.alias(theirs, "app-root"))  # free in another instance
    with store.uow(write=True) as uow:
        assert uow.key_aliases.get(inst.instance_id, "app-root") == a1
        assert uow.key_aliases.get(other.instance_id, "x_1") is None
        assert uow.key_aliases.of_key(inst.instance_id, k1.id) == [a2, a1]  # oldest first
        assert uow.key_aliases.of_key(other.instance_id, k1.id) == []
        found = uow.key_aliases.of_keys(inst.instance_id, [k1.id, k2.id, bare.id, theirs.id])
        assert found == {k1.id: [a2, a1], k2.id: [a3], bare.id: [], theirs.id: []}
        assert uow.key_aliases.count(inst.instance_id) == 3
        assert uow.key_aliases.count(other.instance_id) == 1
        uow.key_aliases.remove(other.instance_id, "x_1")  # another instance's: no-op
        uow.key_aliases.remove(inst.instance_id, "App-Root")
        uow.key_aliases.remove_for_key(other.instance_id, k2.id)  # another instance's: no-op
    with store.uow(write=True) as uow:
        assert uow.key_aliases.of_key(inst.instance_id, k1.id) == [a1]
        assert uow.key_aliases.of_key(inst.instance_id, k2.id) == [a3]
        uow.key_aliases.remove_for_key(inst.instance_id, k1.id)
    with store.uow() as uow:
        assert uow.key_aliases.count(inst.instance_id) == 1
        assert uow.key_aliases.get(other.instance_id, "app-root") is not None
    # Not a duplicate, so not False: an alias of a missing key, or of another instance's key.
    missing_key = kb.alias(kb.key(inst), "ghost")
    cross_instance = replace(kb.alias(theirs, "cross"), instance_id=inst.instance_id)
    for stray in (missing_key, cross_instance):
        with pytest.raises(IntegrityError), store.uow(write=True) as uow:
            uow.key_aliases.add(stray)


def test_of_keys_answers_for_over_a_thousand_keys(store: Store) -> None:
    inst = kb.instance()
    keys = [kb.key(inst, t=i) for i in range(1, 1202)]
    with store.uow(write=True) as uow:
        uow.kms_instances.add(inst)
        for k in keys:
            uow.kms_keys.add(k)
        for k in keys[::100]:
            uow.key_aliases.add(kb.alias(k, f"alias-{k.id}"))
    with store.uow() as uow:
        found = uow.key_aliases.of_keys(inst.instance_id, [k.id for k in keys])
    assert len(found) == len(keys)
    assert [k.id for k in keys if found[k.id]] == [k.id for k in keys[::100]]


def test_instance_policies_put_inserts_or_replaces_one_per_kind(store: Store) -> None:
    inst, other = two_instances(store)
    network = InstancePolicy(
        inst.instance_id, "allowedNetwork", True, {"allowed_network": "private-only"},
        kb.stamp(1), kb.stamp(1),
    )  # fmt: skip
    ip = InstancePolicy(
        inst.instance_id, "allowedIP", True,
        {"allowed_ip": ["10.0.0.0/8", "2001:db8::/32"], "nested": {"n": [1, None]}},
        kb.stamp(2), kb.stamp(2),
    )  # fmt: skip
    with store.uow(write=True) as uow:
        uow.instance_policies.put(network)
        uow.instance_policies.put(ip)
    changed = replace(network, enabled=False, attributes={}, updated=kb.stamp(5, kb.MANAGER))
    with store.uow(write=True) as uow:
        assert uow.instance_policies.list(inst.instance_id) == [ip, network]  # by kind
        uow.instance_policies.put(changed)
    with store.uow() as uow:
        assert uow.instance_policies.list(inst.instance_id) == [ip, changed]
        assert uow.instance_policies.list(other.instance_id) == []


def test_import_token_is_replaced_and_used_down_to_zero(store: Store) -> None:
    inst, other = two_instances(store)
    first = kb.token(inst, retrievals=2)
    with store.uow(write=True) as uow:
        uow.import_tokens.put(first)
    with store.uow(write=True) as uow:
        assert uow.import_tokens.get(inst.instance_id) == first
        assert uow.import_tokens.get(other.instance_id) is None
        assert uow.import_tokens.use(other.instance_id) is False  # none there
        assert uow.import_tokens.use(inst.instance_id)
    with store.uow(write=True) as uow:
        assert uow.import_tokens.use(inst.instance_id)
        assert uow.import_tokens.use(inst.instance_id) is False
        assert uow.import_tokens.use(inst.instance_id) is False
    with store.uow(write=True) as uow:
        assert uow.import_tokens.get(inst.instance_id) == replace(first, remaining_retrievals=0)
        second = kb.token(inst, retrievals=500, t=60)
        uow.import_tokens.put(second)  # a new token replaces the spent one
    with store.uow() as uow:
        assert uow.import_tokens.get(inst.instance_id) == second


def test_import_token_retrievals_are_taken_once_under_concurrency(store: Store) -> None:
    inst = kb.instance()
    with store.uow(write=True) as uow:
        uow.kms_instances.add(inst)
        uow.import_tokens.put(kb.token(inst, retrievals=3))

    def take() -> bool:
        with store.uow(write=True) as uow:
            return uow.import_tokens.use(inst.instance_id)

    assert sorted(run_together([take] * 8)) == [False] * 5 + [True] * 3
    with store.uow() as uow:
        token = uow.import_tokens.get(inst.instance_id)
    assert token is not None and token.remaining_retrievals == 0


def test_registrations_are_unique_per_key_and_crn(store: Store) -> None:
    inst, other = two_instances(store)
    k, k2, theirs = kb.key(inst), kb.key(inst), kb.key(other)
    bucket = "crn:v1:bluemix:public:cloud-object-storage:global:a/1:i:bucket:b"
    volume = "crn:v1:bluemix:public:is:us-south:a/1::volume:v"
    r1, r2 = kb.registration(k, bucket, t=1), kb.registration(k, volume, t=2)
    r3, r4 = kb.registration(k2, bucket, t=3), kb.registration(theirs, bucket, t=0)
    with store.uow(write=True) as uow:
        for each in (k, k2, theirs):
            uow.kms_keys.add(each)
        assert all(uow.registrations.add(r) for r in (r1, r2, r3, r4))
        assert uow.registrations.add(replace(r1, description="again")) is False
    updated = replace(r1, prevent_key_deletion=False, metadata="", description="",
                      updated=kb.stamp(40, kb.MANAGER), key_version_id="v2",
                      key_version_created_at=b.at(40))  # fmt: skip
    with store.uow(write=True) as uow:
        assert uow.registrations.get(k.id, bucket) == r1  # the duplicate wrote nothing
        assert uow.registrations.get(k.id, "crn:v1:other") is None
        assert uow.registrations.of_key(k.id) == [r1, r2]
        assert uow.registrations.of_instance(inst.instance_id) == [r1, r2, r3]
        assert uow.registrations.of_instance(other.instance_id) == [r4]
        uow.registrations.update(updated)
        uow.registrations.remove(k.id, volume)
        uow.registrations.remove_for_key(k2.id)
    with store.uow() as uow:
        assert uow.registrations.of_instance(inst.instance_id) == [updated]
        assert uow.registrations.of_key(theirs.id) == [r4]
    with pytest.raises(IntegrityError), store.uow(write=True) as uow:
        uow.registrations.add(kb.registration(kb.key(inst), bucket))  # a missing key
