"""Keys: create and import, read, list, move, and the lifecycle (spec kms-api.md §2-§3.4).

Each operation runs in one unit of work: it resolves the instance (`Bluemix-Instance`), loads
the key by id or alias, checks the route's action on the key's IAM resource (kms/scope.py),
checks the state and timing rules (kms/lifecycle.py), and writes. A refused request writes
nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from strongroom import ids
from strongroom.authz import Guard
from strongroom.clock import Clock
from strongroom.kms import lifecycle, listing, secure_import
from strongroom.kms.alias_rules import attach
from strongroom.kms.crypto.backend import CryptoBackend
from strongroom.kms.crypto.context import version_context
from strongroom.kms.errors import KmsError
from strongroom.kms.key_policies import PolicyOverrides, parse_policy_overrides
from strongroom.kms.listing import KeyListQuery
from strongroom.kms.models import DualAuth, Key, KeyPolicy, KeyState, KeyVersion, Stamp
from strongroom.kms.new_key import NewKey, parse_new_key
from strongroom.kms.ring_access import listable_rings
from strongroom.kms.scope import DEFAULT_RING, Scope, open_scope, require
from strongroom.store.kms_ports import KmsKeyQuery
from strongroom.store.ports import UnitOfWork, UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class KeyView:
    """A key as an answer shows it: its aliases and, for a standard key read by a caller
    allowed `secrets.read`, its payload."""

    key: Key
    aliases: tuple[str, ...] = ()
    payload: bytes | None = None


@dataclass(frozen=True, slots=True)
class KeyPage:
    keys: Sequence[KeyView]
    total: int
    metadata: Mapping[str, Any]  # `searchQuery` and `incompleteSearch` when `search` was used


# Bootstrap's hook for what instance policies decide about a new key (kms/policies.py
# `policies_for_new_key`): raise when creation or import is not allowed, and give the new key's
# dual-auth flag and key policies; the overrides are those of `POST /keys_with_policy_overrides`.
NewKeyPolicies = Callable[
    [UnitOfWork, Scope, NewKey, Stamp, PolicyOverrides | None],
    tuple[bool, Mapping[str, KeyPolicy]],
]


def _no_instance_policies(
    uow: UnitOfWork, scope: Scope, new: NewKey, stamp: Stamp, overrides: PolicyOverrides | None
) -> tuple[bool, Mapping[str, KeyPolicy]]:
    return False, {}


class KeyLoader:
    """Finding a key by id or alias in an instance, as it stands now."""

    def __init__(self, clock: Clock, backend: CryptoBackend) -> None:
        self.clock = clock
        self.backend = backend

    def scope(
        self, uow: UnitOfWork, guard: Guard, instance_id: str, *, check_source: bool = True
    ) -> Scope:
        return open_scope(uow, guard, instance_id, self.backend, check_source=check_source)

    def key(self, uow: UnitOfWork, scope: Scope, ref: str) -> Key:
        now = self.clock.now()
        found = uow.kms_keys.get(scope.id, ref)
        if found is None:
            alias = uow.key_aliases.get(scope.id, ref)
            if alias is not None:
                found = uow.kms_keys.get(scope.id, alias.key_id)
        if found is None or lifecycle.purge_due(found, now):
            raise KmsError(
                "KEY_NOT_FOUND_ERR", f"key `{ref}` does not exist", what="Key could not be found"
            )
        return lifecycle.effective(found, now)

    def authorized(
        self, uow: UnitOfWork, guard: Guard, instance_id: str, ref: str
    ) -> tuple[Scope, Key]:
        """The instance and the key, once the guard's action is permitted on the key."""
        scope = self.scope(uow, guard, instance_id)
        key = self.key(uow, scope, ref)
        require(guard, scope, scope.key_resource(key))
        return scope, key

    def material(self, uow: UnitOfWork, scope: Scope, key: Key, version_id: str) -> bytes:
        """The sealed material of one version (opened only inside the backend)."""
        version = uow.key_versions.get(key.id, version_id)
        if version is None:
            raise KmsError(
                "UNPROCESSABLE_CIPHERTEXT_ERR",
                f"the ciphertext was not made by key `{key.id}`",
                what="Key could not be unwrapped",
            )
        return version.material


def context(scope: Scope, key_id: str, version_id: str) -> bytes:
    """What a sealed version is bound to: a blob moved to another row does not open."""
    return version_context(scope.id, key_id, version_id)


class KmsKeyService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        backend: CryptoBackend,
        new_key_policies: NewKeyPolicies = _no_instance_policies,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._backend = backend
        self._load = KeyLoader(clock, backend)
        self._new_key_policies = new_key_policies

    # -- create and import (spec §3.1) ---------------------------------------------------------

    def create(
        self,
        guard: Guard,
        instance_id: str,
        resource: object,
        ring: str | None,
        *,
        policy_overrides: bool = False,
    ) -> KeyView:
        """`POST /keys`, or `POST /keys_with_policy_overrides` when `policy_overrides`: the
        resource's `rotation` and `dualAuthDelete` then replace the instance's (spec §3.1)."""
        new = parse_new_key(resource)
        overrides = None
        if policy_overrides:
            assert isinstance(resource, dict)  # parse_new_key refuses anything else
            overrides = parse_policy_overrides(
                resource.get("rotation"),
                resource.get("dualAuthDelete"),
                extractable=new.extractable,
            )
        now = self._clock.now()
        stamp = Stamp(now, guard.principal.iam_id)
        ring_id = ring or DEFAULT_RING
        with self._uow(write=True) as uow:
            scope = self._load.scope(uow, guard, instance_id)
            require(guard, scope, scope.resource(ring_id))
            if ring_id != DEFAULT_RING and uow.key_rings.get(scope.id, ring_id) is None:
                raise KmsError(
                    "KEY_RING_NOT_FOUND_ERR",
                    f"key ring `{ring_id}` does not exist in instance `{scope.id}`",
                    what="Key could not be created",
                )
            if new.expiration_date is not None and new.expiration_date <= now:
                raise KmsError(
                    "INVALID_FIELD_ERR",
                    "`expirationDate` must be in the future",
                    what="Key could not be created",
                    target="expirationDate",
                )
            dual_auth, policies = self._new_key_policies(uow, scope, new, stamp, overrides)
            material = new.payload
            if new.secure_import is not None:  # encrypted to the import token (spec §3.7)
                material = secure_import.for_new_key(uow, self._backend, scope, new, now)
            key_id = ids.new_uuid()
            ctx = context(scope, key_id, key_id)
            if material is not None:
                sealed = self._backend.seal(scope.kms.master_key, ctx, material)
            else:
                sealed = self._backend.generate(scope.kms.master_key, ctx)
            key = Key(
                id=key_id,
                instance_id=scope.id,
                account_id=scope.instance.account_id,
                service=scope.service,
                region=scope.instance.region_id,
                name=new.name,
                description=new.description,
                tags=new.tags,
                extractable=new.extractable,
                imported=new.payload is not None,
                key_ring_id=ring_id,
                state=KeyState.ACTIVE,
                created=stamp,
                last_update_at=None,
                last_rotate_at=None,
                expiration_date=new.expiration_date,
                version_id=key_id,  # the first version's id is the key's (spec §2.1)
                version_created_at=now,
                last_action_at=now,
                dual_auth=DualAuth(enabled=dual_auth),
                policies=policies,
                imported_with_token=new.secure_import is not None,
            )
            uow.kms_keys.add(key)
            uow.key_versions.add(KeyVersion(key_id, key_id, 1, now, sealed))
            aliases = self._add_aliases(uow, scope, key, new.aliases, stamp)
            payload = (
                self._backend.export(scope.kms.master_key, ctx, sealed) if key.extractable else None
            )
        return KeyView(key, aliases, payload)

    def _add_aliases(
        self, uow: UnitOfWork, scope: Scope, key: Key, aliases: Sequence[str], stamp: Stamp
    ) -> tuple[str, ...]:
        # The instance's alias rules (kms/alias_rules.py); their form was checked by parse_new_key.
        attach(
            uow, scope.id, key.id, aliases, stamp, what="Key could not be created", target="aliases"
        )
        return tuple(aliases)

    # -- read -----------------------------------------------------------------------------------

    def get(self, guard: Guard, instance_id: str, ref: str, *, with_payload: bool) -> KeyView:
        with self._uow() as uow:
            scope, key = self._load.authorized(uow, guard, instance_id, ref)
            payload = None
            if with_payload and key.extractable and key.state is not KeyState.DESTROYED:
                version = uow.key_versions.get(key.id, key.version_id)
                assert version is not None
                payload = self._backend.export(
                    scope.kms.master_key, context(scope, key.id, version.id), version.material
                )
            aliases = tuple(a.alias for a in uow.key_aliases.of_key(scope.id, key.id))
        return KeyView(key, aliases, payload)

    def versions(
        self, guard: Guard, instance_id: str, ref: str, offset: int, limit: int
    ) -> tuple[list[KeyVersion], int]:
        with self._uow() as uow:
            _, key = self._load.authorized(uow, guard, instance_id, ref)
            found = list(uow.key_versions.list(key.id, offset, limit))
            return found, uow.key_versions.count(key.id)

    def list_page(
        self, guard: Guard, instance_id: str, query: KeyListQuery, ring: str | None
    ) -> KeyPage:
        """`GET /keys` (spec §3.2): selected, searched, sorted and paged."""
        with self._uow() as uow:
            scope = self._load.scope(uow, guard, instance_id)
            keys = self._visible(uow, guard, scope, ring)
            by_key = uow.key_aliases.of_keys(scope.id, [k.id for k in keys])
            aliases = {k: [a.alias for a in found] for k, found in by_key.items()}
        result = listing.apply(query, keys, aliases)
        metadata: dict[str, Any] = {}
        if result.search is not None:
            metadata["searchQuery"] = result.search.metadata()
            metadata["incompleteSearch"] = result.incomplete_search
        views = [KeyView(k, tuple(aliases.get(k.id, ()))) for k in result.keys]
        return KeyPage(views, result.total, metadata)

    def total(self, guard: Guard, instance_id: str, query: KeyListQuery, ring: str | None) -> int:
        """`HEAD /keys`: how many keys `state`, `extractable` and `filter` select."""
        with self._uow() as uow:
            scope = self._load.scope(uow, guard, instance_id)
            keys = self._visible(uow, guard, scope, ring)
        return sum(1 for key in keys if query.selection.matches(key))

    def _visible(self, uow: UnitOfWork, guard: Guard, scope: Scope, ring: str | None) -> list[Key]:
        """The keys the caller may list, in every state: all of the instance's with
        `secrets.list` on the instance, else those of the rings it holds that action on
        (spec §3.2: keys seen only through key-level grants are not listed)."""
        now = self._clock.now()
        keys = [
            k
            for k in (
                lifecycle.effective(k, now)
                for k in uow.kms_keys.list(KmsKeyQuery(scope.id, key_ring_id=ring))
            )
            if not lifecycle.purge_due(k, now)
        ]
        # The rings the caller may list: all with `secrets.list` on the instance, else those
        # it holds that action on (kms/ring_access.py, shared with rings and registrations).
        allowed = listable_rings(guard, scope, {k.key_ring_id for k in keys}, ring)
        return [k for k in keys if k.key_ring_id in allowed]

    # -- move (spec §3.9) -----------------------------------------------------------------------

    def move(self, guard: Guard, instance_id: str, ref: str, body: Mapping[str, Any]) -> KeyView:
        target = body.get("keyRingID")
        if not isinstance(target, str) or not target:
            raise KmsError(
                "BAD_BODY_ERR",
                "the body must name the target key ring as `keyRingID`",
                what="Key could not be updated",
                target="keyRingID",
            )
        now = self._clock.now()
        with self._uow(write=True) as uow:
            scope, key = self._load.authorized(uow, guard, instance_id, ref)
            lifecycle.check(key, "patch", now)
            if target != DEFAULT_RING and uow.key_rings.get(scope.id, target) is None:
                raise KmsError(
                    "KEY_RING_NOT_FOUND_ERR",
                    f"key ring `{target}` does not exist in instance `{scope.id}`",
                    what="Key could not be updated",
                )
            require(guard, scope, scope.resource(target))  # Manager on the target ring too
            key = replace(key, key_ring_id=target, last_update_at=now)
            uow.kms_keys.update(key)
            aliases = tuple(a.alias for a in uow.key_aliases.of_key(scope.id, key.id))
        return KeyView(key, aliases)

    # -- lifecycle (spec §2.2, §3.3) ------------------------------------------------------------

    def delete(self, guard: Guard, instance_id: str, ref: str, *, force: bool) -> KeyView:
        now = self._clock.now()
        with self._uow(write=True) as uow:
            scope, key = self._load.authorized(uow, guard, instance_id, ref)
            lifecycle.check(key, "delete", now)
            what = lifecycle.WHAT["delete"]
            registrations = uow.registrations.of_key(key.id)
            if registrations and not force:
                raise KmsError(
                    "PROTECTED_RESOURCE_ERR",
                    f"key `{key.id}` protects {len(registrations)} registered resources;"
                    " delete it with `force=true` to remove them",
                    what=what,
                )
            if any(r.prevent_key_deletion for r in registrations):
                raise KmsError(
                    "PREV_KEY_DEL_ERR",
                    f"a registration of key `{key.id}` prevents its deletion",
                    what=what,
                )
            if key.dual_auth.enabled:
                self._check_dual_auth(key, guard.principal.iam_id, now)
            uow.registrations.remove_for_key(key.id)
            by = Stamp(now, guard.principal.iam_id)
            key = replace(
                key,
                state=KeyState.DESTROYED,
                deleted=by,
                last_action_at=now,
                last_update_at=now,
                dual_auth=replace(key.dual_auth, set_for_deletion=None, expires_at=None),
            )
            uow.kms_keys.update(key)
            aliases = tuple(a.alias for a in uow.key_aliases.of_key(scope.id, key.id))
        return KeyView(key, aliases)

    @staticmethod
    def _check_dual_auth(key: Key, caller: str, now: datetime) -> None:
        auth = key.dual_auth
        if (
            auth.set_for_deletion is None
            or auth.expires_at is None
            or auth.expires_at <= now
            or auth.set_for_deletion.by == caller
        ):
            raise KmsError(
                "AUTHORIZATIONS_NOT_MET",
                f"key `{key.id}` has a dual authorization policy: another user must set it for"
                " deletion (valid 7 days) before it can be deleted",
                what="Key could not be deleted",
            )

    def restore(self, guard: Guard, instance_id: str, ref: str) -> KeyView:
        now = self._clock.now()
        with self._uow(write=True) as uow:
            scope, key = self._load.authorized(uow, guard, instance_id, ref)
            lifecycle.check(key, "restore", now)
            key = replace(
                key,
                state=KeyState.ACTIVE,
                deleted=None,
                restored=Stamp(now, guard.principal.iam_id),
                last_action_at=now,
                last_update_at=now,
            )
            key = lifecycle.effective(key, now)
            uow.kms_keys.update(key)
            aliases = tuple(a.alias for a in uow.key_aliases.of_key(scope.id, key.id))
        return KeyView(key, aliases)

    def purge(self, guard: Guard, instance_id: str, ref: str) -> KeyView:
        now = self._clock.now()
        with self._uow(write=True) as uow:
            scope, key = self._load.authorized(uow, guard, instance_id, ref)
            lifecycle.check(key, "purge", now)
            aliases = tuple(a.alias for a in uow.key_aliases.of_key(scope.id, key.id))
            erase(uow, scope.id, key.id)
        return KeyView(key, aliases)

    def act(self, guard: Guard, instance_id: str, ref: str, action: str) -> None:
        """disable, enable, setKeyForDeletion, unsetKeyForDeletion, sync: 204, no body."""
        now = self._clock.now()
        with self._uow(write=True) as uow:
            _, key = self._load.authorized(uow, guard, instance_id, ref)
            lifecycle.check(key, action, now)
            uow.kms_keys.update(self._acted(key, action, guard.principal.iam_id, now))

    @staticmethod
    def _acted(key: Key, action: str, caller: str, now: datetime) -> Key:
        if action == "disable":
            return replace(key, state=KeyState.SUSPENDED, last_action_at=now, last_update_at=now)
        if action == "enable":
            return replace(key, state=KeyState.ACTIVE, last_action_at=now, last_update_at=now)
        if action == "sync":
            return replace(key, last_sync_at=now)
        if not key.dual_auth.enabled:
            raise KmsError(
                "NOT_DUAL_AUTH_ERR",
                f"key `{key.id}` has no dual authorization policy",
                what=lifecycle.WHAT[action],
            )
        if action == "setKeyForDeletion":
            auth = replace(
                key.dual_auth,
                set_for_deletion=Stamp(now, caller),
                expires_at=now + lifecycle.DUAL_AUTH_VALID,
            )
        else:
            auth = replace(key.dual_auth, set_for_deletion=None, expires_at=None)
        return replace(key, dual_auth=auth, last_update_at=now)


def erase(uow: UnitOfWork, instance_id: str, key_id: str) -> None:
    """Purge: the material of every version, the aliases, the registrations and the key."""
    uow.key_versions.erase(key_id)
    uow.key_aliases.remove_for_key(instance_id, key_id)
    uow.registrations.remove_for_key(key_id)
    uow.kms_keys.remove(instance_id, key_id)
