"""Conformance: key management instances, keys and key versions round-trip every field, stay in
their instance, filter, page and purge alike on every backend (spec kms-api.md §2-§3)."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from strongroom.kms.models import Key, KeyState
from strongroom.store.kms_ports import KmsKeyQuery
from strongroom.store.ports import UnitOfWork
from tests.conformance import builders as b
from tests.conformance import kms_builders as kb
from tests.conformance.conftest import Store


class Boom(Exception):
    pass


def test_instance_round_trips_and_a_second_add_changes_nothing(store: Store) -> None:
    inst = kb.instance(service="hs-crypto")
    with store.uow(write=True) as uow:
        assert uow.kms_instances.add(inst)
    with store.uow(write=True) as uow:
        assert uow.kms_instances.add(replace(inst, master_key=b"other")) is False
        assert uow.kms_instances.add(kb.instance())  # the transaction is still usable
    with store.uow() as uow:
        assert uow.kms_instances.get(inst.instance_id) == inst
        assert uow.kms_instances.get(kb.instance().instance_id) is None


def test_key_round_trips_every_field(store: Store) -> None:
    inst = kb.instance()
    full, plain = kb.full_key(inst), kb.key(inst, t=2)
    with store.uow(write=True) as uow:
        uow.kms_instances.add(inst)
        uow.kms_keys.add(full)
        uow.kms_keys.add(plain)
    with store.uow() as uow:
        got = uow.kms_keys.get(inst.instance_id, full.id)
        assert got == full
        assert uow.kms_keys.get(inst.instance_id, plain.id) == plain
    assert got is not None
    for f in fields(Key):
        value = getattr(got, f.name)
        if isinstance(value, datetime):
            assert value.tzinfo == UTC, f.name
    assert got.dual_auth.set_for_deletion == kb.stamp(7, kb.MANAGER)
    assert got.policies["rotation"].data == {"enabled": True, "interval_month": 3}
    assert got.policies["rotation"].updated.at == b.at(3)  # microseconds kept inside JSON too


def test_key_update_and_remove_stay_in_their_instance(store: Store) -> None:
    inst, other = kb.instance(), kb.instance()
    k = kb.key(inst)
    with store.uow(write=True) as uow:
        uow.kms_instances.add(inst)
        uow.kms_instances.add(other)
        uow.kms_keys.add(k)
    rotated = replace(
        k, version_id="v2", version_created_at=b.at(50), last_rotate_at=b.at(50),
        last_update_at=b.at(50), tags=("new",), state=KeyState.SUSPENDED,
    )  # fmt: skip
    with store.uow(write=True) as uow:
        assert uow.kms_keys.get(other.instance_id, k.id) is None
        uow.kms_keys.update(replace(rotated, instance_id=other.instance_id))  # another's: no-op
        uow.kms_keys.remove(other.instance_id, k.id)  # another's: no-op
    with store.uow(write=True) as uow:
        assert uow.kms_keys.get(inst.instance_id, k.id) == k
        uow.kms_keys.update(rotated)
    with store.uow(write=True) as uow:
        assert uow.kms_keys.get(inst.instance_id, k.id) == rotated
        uow.kms_keys.remove(inst.instance_id, k.id)
    with store.uow() as uow:
        assert uow.kms_keys.get(inst.instance_id, k.id) is None
        assert uow.kms_keys.count(inst.instance_id) == 0


def test_key_list_filters_and_count(store: Store) -> None:
    inst, other = kb.instance(), kb.instance()
    root = kb.key(inst, t=1)
    standard = kb.key(inst, t=2, extractable=True, key_ring_id="ring-a")
    disabled = kb.key(inst, t=3, state=KeyState.SUSPENDED, key_ring_id="ring-a")
    destroyed = kb.key(inst, t=4, state=KeyState.DESTROYED, extractable=True)
    theirs = kb.key(other, t=0, key_ring_id="ring-a")
    with store.uow(write=True) as uow:
        uow.kms_instances.add(inst)
        uow.kms_instances.add(other)
        for k in (destroyed, standard, theirs, root, disabled):  # not in creation order
            uow.kms_keys.add(k)
    with store.uow() as uow:

        def ids(**query: Any) -> list[str]:
            return [k.id for k in uow.kms_keys.list(KmsKeyQuery(inst.instance_id, **query))]

        assert ids() == [root.id, standard.id, disabled.id, destroyed.id]  # oldest first
        live = frozenset({KeyState.ACTIVE, KeyState.SUSPENDED})
        assert ids(states=live) == [root.id, standard.id, disabled.id]
        assert ids(states=frozenset({KeyState.DEACTIVATED})) == []
        assert ids(extractable=True) == [standard.id, destroyed.id]
        assert ids(extractable=False) == [root.id, disabled.id]
        assert ids(key_ring_id="ring-a") == [standard.id, disabled.id]
        assert ids(key_ring_id="ring-a", states=live, extractable=False) == [disabled.id]
        assert ids(key_ring_id="no-such-ring") == []
        assert uow.kms_keys.count(inst.instance_id) == 4
        assert uow.kms_keys.count(other.instance_id) == 1
        assert uow.kms_keys.list(KmsKeyQuery(other.instance_id)) == [theirs]
        assert uow.kms_keys.list(KmsKeyQuery("no-such-instance")) == []


def test_due_for_purge_and_due_for_expiry(store: Store) -> None:
    inst, other = kb.instance(), kb.instance()
    gone_early = kb.key(inst, t=1, state=KeyState.DESTROYED, deleted=kb.stamp(10))
    gone_late = kb.key(other, t=2, state=KeyState.DESTROYED, deleted=kb.stamp(20))
    # Deleted, then restored: the stamp stays, but the key is live and never purged.
    restored = kb.key(inst, t=3, deleted=kb.stamp(5), restored=kb.stamp(6))
    active = kb.key(inst, t=4, expiration_date=b.at(100))
    suspended = kb.key(other, t=5, state=KeyState.SUSPENDED, expiration_date=b.at(50))
    later = kb.key(inst, t=6, expiration_date=b.at(200))
    expired = kb.key(inst, t=7, state=KeyState.DEACTIVATED, expiration_date=b.at(10))
    dead = kb.key(inst, t=8, state=KeyState.DESTROYED, expiration_date=b.at(10),
                  deleted=kb.stamp(30))  # fmt: skip
    with store.uow(write=True) as uow:
        uow.kms_instances.add(inst)
        uow.kms_instances.add(other)
        for k in (gone_early, gone_late, restored, active, suspended, later, expired, dead):
            uow.kms_keys.add(k)
    with store.uow() as uow:
        purge = uow.kms_keys.due_for_purge
        assert purge(b.at(10)) == []  # deleted *before* the bound
        assert purge(b.at(20)) == [gone_early]
        assert purge(b.at(1000)) == [gone_early, gone_late, dead]  # across instances
        expiry = uow.kms_keys.due_for_expiry
        assert expiry(b.at(50)) == []  # the date must have passed
        assert expiry(b.at(100)) == [suspended]
        assert expiry(b.at(101)) == [active, suspended]
        assert expiry(b.at(10**6)) == [active, suspended, later]


def test_versions_page_newest_first_and_stay_with_their_key(store: Store) -> None:
    inst = kb.instance()
    k, other = kb.key(inst), kb.key(inst, t=2)
    with store.uow(write=True) as uow:
        uow.kms_instances.add(inst)
        uow.kms_keys.add(k)
        uow.kms_keys.add(other)
        assert uow.key_versions.newest(k.id) is None
        first = kb.version(k, 1)
        uow.key_versions.add(first)
        assert uow.key_versions.newest(k.id) == first
        for seq in range(2, 2001):
            uow.key_versions.add(kb.version(k, seq))
        theirs = kb.version(other, 1)
        uow.key_versions.add(theirs)
    with store.uow() as uow:
        versions = uow.key_versions
        newest = versions.newest(k.id)
        assert newest is not None and newest.seq == 2000
        assert newest.material == kb.AWKWARD_BYTES + (2000).to_bytes(4, "big")
        assert newest.created_at == b.at(2000) and newest.created_at.tzinfo == UTC
        assert versions.count(k.id) == 2000
        assert [v.seq for v in versions.list(k.id, 0, 3)] == [2000, 1999, 1998]
        assert [v.seq for v in versions.list(k.id, 1998, 5)] == [2, 1]
        assert versions.list(k.id, 2000, 5) == []
        assert versions.get(k.id, first.id) == first
        assert versions.get(other.id, first.id) is None  # another key's version
        assert versions.newest(other.id) == theirs and versions.count(other.id) == 1
    with store.uow(write=True) as uow:
        uow.key_versions.add(kb.version(k, 2001))  # a rotation after many
        newest = uow.key_versions.newest(k.id)
        assert newest is not None and newest.seq == 2001
    with pytest.raises(IntegrityError), store.uow(write=True) as uow:
        uow.key_versions.add(kb.version(k, 2001))  # one version per (key, seq)
    with store.uow() as uow:
        assert uow.key_versions.count(k.id) == 2001


def explain(store: Store, statement: str, parameters: Any) -> str:
    with store.database.engine.connect() as conn:
        if store.backend == "postgres":
            # Forbid the sequential scan a tiny table would tempt the planner into: the plan
            # must then show the index, or a disabled scan plus a sort if there is none.
            conn.exec_driver_sql("SET enable_seqscan = off")
            rows = conn.exec_driver_sql("EXPLAIN " + statement, parameters)
        else:
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
        return "\n".join(str(row[-1]) for row in rows)


def test_newest_and_pages_read_the_index_without_a_sort(store: Store) -> None:
    """Rotation stays cheap at 10,000 versions: `newest` is one index probe, not a scan."""
    inst = kb.instance()
    k = kb.key(inst)
    with store.uow(write=True) as uow:
        uow.kms_instances.add(inst)
        uow.kms_keys.add(k)
        for seq in range(1, 4):
            uow.key_versions.add(kb.version(k, seq))
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "kms_key_versions" in statement:
            seen.append((statement, parameters))

    sa.event.listen(store.database.engine, "before_cursor_execute", record)
    try:
        with store.uow() as uow:
            uow.key_versions.newest(k.id)
            uow.key_versions.list(k.id, 1, 2)
    finally:
        sa.event.remove(store.database.engine, "before_cursor_execute", record)
    assert len(seen) == 2
    for statement, parameters in seen:
        plan = explain(store, statement, parameters)
        if store.backend == "postgres":
            assert "Index Scan Backward using uq_kms_key_versions_key_id_seq" in plan, plan
            assert "Sort" not in plan, plan
        else:
            assert "SEARCH kms_key_versions USING INDEX" in plan, plan
            assert "TEMP B-TREE" not in plan, plan


def test_purge_removes_a_key_and_all_it_holds_in_one_unit(store: Store) -> None:
    inst = kb.instance()
    k, kept = kb.key(inst), kb.key(inst, t=2)
    crn = "crn:v1:bluemix:public:cloud-object-storage:global:a/1::bucket:b"
    with store.uow(write=True) as uow:
        uow.kms_instances.add(inst)
        for each in (k, kept):
            uow.kms_keys.add(each)
            uow.key_versions.add(kb.version(each, 1))
            uow.key_aliases.add(kb.alias(each, f"alias-{each.id[:8]}"))
            uow.registrations.add(kb.registration(each, crn))
    with pytest.raises(IntegrityError), store.uow(write=True) as uow:
        uow.kms_keys.remove(inst.instance_id, k.id)  # its versions still name it

    def purge(uow: UnitOfWork) -> None:
        uow.key_versions.erase(k.id)
        uow.key_aliases.remove_for_key(inst.instance_id, k.id)
        uow.registrations.remove_for_key(k.id)
        uow.kms_keys.remove(inst.instance_id, k.id)

    with pytest.raises(Boom), store.uow(write=True) as uow:
        purge(uow)
        assert uow.kms_keys.get(inst.instance_id, k.id) is None
        raise Boom
    with store.uow(write=True) as uow:  # the failed purge wrote nothing
        assert uow.kms_keys.get(inst.instance_id, k.id) == k
        assert uow.key_versions.count(k.id) == 1
        purge(uow)
    with store.uow() as uow:
        assert uow.kms_keys.get(inst.instance_id, k.id) is None
        assert uow.key_versions.count(k.id) == 0 and uow.key_versions.newest(k.id) is None
        assert uow.key_aliases.of_key(inst.instance_id, k.id) == []
        assert uow.registrations.of_key(k.id) == []
        # The other key keeps everything.
        assert uow.kms_keys.get(inst.instance_id, kept.id) == kept
        assert uow.key_versions.count(kept.id) == 1
        assert len(uow.key_aliases.of_key(inst.instance_id, kept.id)) == 1
        assert uow.registrations.of_instance(inst.instance_id) == [kb.registration(kept, crn)]


def test_rollback_on_an_exception_writes_nothing(store: Store) -> None:
    inst = kb.instance()
    k = kb.key(inst)
    with pytest.raises(Boom), store.uow(write=True) as uow:
        uow.kms_instances.add(inst)
        uow.kms_keys.add(k)
        uow.key_versions.add(kb.version(k, 1))
        uow.key_aliases.add(kb.alias(k, "app-root"))
        uow.import_tokens.put(kb.token(inst))
        uow.registrations.add(kb.registration(k, "crn:v1:x"))
        raise Boom
    with store.uow() as uow:
        assert uow.kms_instances.get(inst.instance_id) is None
        assert uow.kms_keys.count(inst.instance_id) == 0
        assert uow.key_versions.count(k.id) == 0
        assert uow.key_aliases.count(inst.instance_id) == 0
        assert uow.import_tokens.get(inst.instance_id) is None
        assert uow.registrations.of_instance(inst.instance_id) == []
