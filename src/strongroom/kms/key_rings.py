"""Key rings (spec kms-api.md §3 rows 35-37, §3.9): list, create and delete.

`default` always exists, is listed first with its id alone, and can be neither created nor
deleted. An instance holds at most 50 rings of its own besides `default` (kpdocs: "a maximum of
50 key rings per service instance"; the list's documented default page of 51 is those 50 plus
`default`). A ring is deleted only once it holds no key in a state other than Destroyed (5);
`force=true` then moves its destroyed keys to `default`, which needs `secrets.patch` on each of
them and on `default`, as a move would (spec §3 row 37).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from strongroom.authz import Guard
from strongroom.clock import Clock
from strongroom.kms import lifecycle, names
from strongroom.kms.crypto.backend import CryptoBackend
from strongroom.kms.errors import KmsError
from strongroom.kms.keys import KeyLoader
from strongroom.kms.models import Key, KeyRing, KeyState, Stamp
from strongroom.kms.paging import Page
from strongroom.kms.ring_access import listable_rings
from strongroom.kms.scope import DEFAULT_RING, Scope, require
from strongroom.store.kms_ports import KmsKeyQuery
from strongroom.store.ports import UnitOfWork, UnitOfWorkFactory

RINGS_PER_INSTANCE = 50  # besides `default`
PATCH = "kms.secrets.patch"  # its `kms.` prefix becomes `hs-crypto.` on an HPCS instance


@dataclass(frozen=True, slots=True)
class RingPage:
    rings: Sequence[KeyRing]
    total: int


class KeyRingService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, backend: CryptoBackend) -> None:
        self._uow = uow
        self._clock = clock
        self._load = KeyLoader(clock, backend)

    def list_page(self, guard: Guard, instance_id: str, page: Page) -> RingPage:
        """`GET /key_rings`: the rings the caller may list, `default` first, then by age."""
        with self._uow() as uow:
            scope = self._load.scope(uow, guard, instance_id)
            rings = [KeyRing(scope.id, DEFAULT_RING, None), *uow.key_rings.list(scope.id)]
            allowed = listable_rings(guard, scope, [r.id for r in rings])
        visible = [r for r in rings if r.id in allowed]
        return RingPage(page.cut(visible), len(visible))

    def create(self, guard: Guard, instance_id: str, ring_id: str) -> KeyRing:
        what = "Key ring could not be created"
        ring_id = names.custom_key_ring_id(ring_id, what=what)
        with self._uow(write=True) as uow:
            scope = self._load.scope(uow, guard, instance_id)
            require(guard, scope, scope.resource())
            if len(uow.key_rings.list(scope.id)) >= RINGS_PER_INSTANCE:
                raise KmsError(
                    "KEY_RING_QUOTA_ERR",
                    f"instance `{scope.id}` already has {RINGS_PER_INSTANCE} key rings besides"
                    " `default`; delete one first",
                    what=what,
                )
            ring = KeyRing(scope.id, ring_id, Stamp(self._clock.now(), guard.principal.iam_id))
            if not uow.key_rings.add(ring):
                raise KmsError(
                    "KEY_RING_ALREADY_EXISTS_ERR",
                    f"key ring `{ring_id}` already exists in instance `{scope.id}`",
                    what=what,
                )
        return ring

    def delete(self, guard: Guard, instance_id: str, ring_id: str, *, force: bool) -> None:
        what = "Key ring could not be deleted"
        ring_id = names.custom_key_ring_id(ring_id, what=what)
        now = self._clock.now()
        with self._uow(write=True) as uow:
            scope = self._load.scope(uow, guard, instance_id)
            require(guard, scope, scope.resource(ring_id))
            if uow.key_rings.get(scope.id, ring_id) is None:
                raise KmsError(
                    "KEY_RING_NOT_FOUND_ERR",
                    f"key ring `{ring_id}` does not exist in instance `{scope.id}`",
                    what=what,
                )
            keys = [
                lifecycle.effective(k, now)
                for k in uow.kms_keys.list(KmsKeyQuery(scope.id, key_ring_id=ring_id))
            ]
            live = [k.id for k in keys if k.state is not KeyState.DESTROYED]
            if live:
                raise KmsError(
                    "KEY_RING_NOT_EMPTY_ERR",
                    f"key ring `{ring_id}` holds {len(live)} key(s) that are not deleted, such"
                    f" as `{live[0]}`; delete them or move them to another ring first",
                    what=what,
                )
            if keys and not force:
                raise KmsError(
                    "KEY_RING_NOT_EMPTY_ERR",
                    f"key ring `{ring_id}` holds {len(keys)} deleted key(s); delete it with"
                    " `force=true` to move them to `default`",
                    what=what,
                )
            self._move_to_default(uow, guard, scope, keys, now)
            uow.key_rings.remove(scope.id, ring_id)

    @staticmethod
    def _move_to_default(
        uow: UnitOfWork, guard: Guard, scope: Scope, keys: Sequence[Key], now: datetime
    ) -> None:
        """`force=true`: each destroyed key goes to `default`, as `PATCH /keys/{id}` would move
        it (Manager on the key and on the target ring)."""
        if not keys:
            return
        patch = guard.with_action(PATCH)
        require(patch, scope, scope.resource(DEFAULT_RING))
        for key in keys:
            require(patch, scope, scope.key_resource(key))
            uow.kms_keys.update(replace(key, key_ring_id=DEFAULT_RING, last_update_at=now))
