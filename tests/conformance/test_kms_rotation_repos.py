"""Conformance: the keys automatic rotation reads (spec kms-api.md §3.6) are found alike on every
backend, across instances, by the enabled flag inside the stored rotation policy."""

from __future__ import annotations

from strongroom import ids
from strongroom.kms.models import KeyPolicy, KeyState
from tests.conformance import kms_builders as kb
from tests.conformance.conftest import Store


def policy(kind: str, **data: object) -> dict[str, KeyPolicy]:
    return {kind: KeyPolicy(ids.new_uuid(), kind, data, kb.stamp(1), kb.stamp(1))}


def rotation(enabled: bool, months: int = 1) -> dict[str, KeyPolicy]:
    return policy("rotation", enabled=enabled, interval_month=months)


def test_rotation_candidates_are_active_generated_root_keys_with_an_enabled_policy(
    store: Store,
) -> None:
    inst, other = kb.instance(), kb.instance()
    dual = policy("dualAuthDelete", enabled=True)
    due = kb.key(inst, t=1, policies=rotation(True))
    elsewhere = kb.key(other, t=2, policies={**rotation(True, 12), **dual})
    not_due_yet = kb.key(inst, t=3, policies=rotation(True, 12), last_rotate_at=kb.stamp(3).at)
    skipped = [
        kb.key(inst, t=4),  # no policy
        kb.key(inst, t=5, policies=dual),  # another policy only
        kb.key(inst, t=6, policies=rotation(False)),  # disabled
        kb.key(inst, t=7, policies=rotation(True), extractable=True),  # a standard key
        kb.key(inst, t=8, policies=rotation(True), imported=True),  # imported material
        kb.key(inst, t=9, policies=rotation(True), state=KeyState.SUSPENDED),
        kb.key(inst, t=10, policies=rotation(True), state=KeyState.DEACTIVATED),
        kb.key(inst, t=11, policies=rotation(True), state=KeyState.DESTROYED),
    ]
    with store.uow(write=True) as uow:
        uow.kms_instances.add(inst)
        uow.kms_instances.add(other)
        for k in (due, elsewhere, not_due_yet, *skipped):
            uow.kms_keys.add(k)
    with store.uow() as uow:
        # Whether one is due is the domain's rule (kms/key_policies.rotation_due), not the store's.
        assert uow.kms_keys.rotation_candidates() == [due, elsewhere, not_due_yet]
