"""Key aliases (spec kms-api.md §3 rows 33-34, §3.9): `POST|DELETE /keys/{id}/aliases/{alias}`.

An alias names a key wherever its id would (KeyLoader.key looks aliases up), so the key may be
addressed by another of its aliases too. A deleted key keeps its aliases, so a restore brings
them back (spec §3.3), but it takes no new one; purge removes them (keys.erase).
"""

from __future__ import annotations

from strongroom.authz import Guard
from strongroom.clock import Clock
from strongroom.kms import names
from strongroom.kms.alias_rules import attach
from strongroom.kms.crypto.backend import CryptoBackend
from strongroom.kms.errors import KmsError
from strongroom.kms.keys import KeyLoader
from strongroom.kms.models import Alias, KeyState, Stamp
from strongroom.store.ports import UnitOfWorkFactory


class AliasService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, backend: CryptoBackend) -> None:
        self._uow = uow
        self._clock = clock
        self._load = KeyLoader(clock, backend)

    def create(self, guard: Guard, instance_id: str, ref: str, alias: str) -> Alias:
        what = "Alias could not be created"
        alias = names.alias(alias, what=what)
        stamp = Stamp(self._clock.now(), guard.principal.iam_id)
        with self._uow(write=True) as uow:
            scope, key = self._load.authorized(uow, guard, instance_id, ref)
            if key.state is KeyState.DESTROYED:
                raise KmsError("KEY_DELETED_ERR", f"key `{key.id}` has been deleted", what=what)
            (made,) = attach(uow, scope.id, key.id, [alias], stamp, what=what)
        return made

    def delete(self, guard: Guard, instance_id: str, ref: str, alias: str) -> None:
        with self._uow(write=True) as uow:
            scope, key = self._load.authorized(uow, guard, instance_id, ref)
            found = uow.key_aliases.get(scope.id, alias)
            if found is None or found.key_id != key.id:
                raise KmsError(
                    "KEY_ALIAS_NOT_FOUND_ERR",
                    f"key `{key.id}` has no alias `{alias}`",
                    what="Alias could not be deleted",
                )
            uow.key_aliases.remove(scope.id, alias)
