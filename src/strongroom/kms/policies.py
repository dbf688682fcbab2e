"""Key policies and instance policies as use cases (spec kms-api.md §3 rows 22-26, §3.6), and
what the instance's policies do to other requests: creating and importing keys (§3.1) and the
network a request comes from (allowedIP).

The rules themselves are pure and live in kms/key_policies.py and kms/instance_policies.py; here
each operation resolves the instance, checks the route's action (on the key for key policies, on
the instance for instance policies) and writes in one unit of work.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from strongroom import ids
from strongroom.authz import Guard
from strongroom.clock import Clock
from strongroom.kms import instance_policies as rules
from strongroom.kms.crypto.backend import CryptoBackend
from strongroom.kms.errors import KmsError
from strongroom.kms.key_policies import PolicyOverrides, key_policies, put_key_policies
from strongroom.kms.keys import KeyLoader
from strongroom.kms.models import InstancePolicy, Key, KeyPolicy, KeyState, Stamp
from strongroom.kms.new_key import NewKey
from strongroom.kms.scope import Scope, require
from strongroom.store.ports import UnitOfWork, UnitOfWorkFactory


class KmsPolicyService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        backend: CryptoBackend,
        *,
        private_endpoint_port: int,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._load = KeyLoader(clock, backend)
        self._port = private_endpoint_port

    # -- key policies (spec §3.6) ----------------------------------------------------------------

    def put_key_policies(
        self, guard: Guard, instance_id: str, ref: str, resources: object, policy: str | None
    ) -> tuple[Key, tuple[KeyPolicy, ...]]:
        """`PUT /keys/{id}/policies`: the key and the policies the request wrote, in its order.
        `policy` is the raw `?policy=` value."""
        now = self._clock.now()
        with self._uow(write=True) as uow:
            _, key = self._load.authorized(uow, guard, instance_id, ref)
            _refuse_deleted(key, "Key policies could not be set")
            update = put_key_policies(
                key,
                resources,
                policy,
                new_id=ids.new_uuid,
                stamp=Stamp(now, guard.principal.iam_id),
            )
            key = replace(update.apply_to(key), last_update_at=now)
            uow.kms_keys.update(key)
        return key, update.written

    def key_policies(
        self, guard: Guard, instance_id: str, ref: str, policy: str | None
    ) -> tuple[Key, tuple[KeyPolicy, ...]]:
        """`GET /keys/{id}/policies`: none is an empty answer, not an error."""
        with self._uow() as uow:
            _, key = self._load.authorized(uow, guard, instance_id, ref)
        _refuse_deleted(key, "Key policies could not be retrieved")
        return key, key_policies(key, policy)

    # -- instance policies (spec §3.6, Appendix A) ------------------------------------------------

    def put_instance_policies(
        self, guard: Guard, instance_id: str, resources: object, policy: str | None
    ) -> None:
        """`PUT /instance/policies`: each policy sent replaces the instance's of its type. They
        shape keys created afterwards; allowedIP applies to the next request."""
        stamp = Stamp(self._clock.now(), guard.principal.iam_id)
        with self._uow(write=True) as uow:
            scope = self._instance(uow, guard, instance_id)
            current = uow.instance_policies.list(scope.id)
            for made in rules.put_instance_policies(
                scope.id, current, resources, policy, stamp=stamp
            ):
                uow.instance_policies.put(made)

    def instance_policies(
        self, guard: Guard, instance_id: str, policy: str | None
    ) -> tuple[InstancePolicy, ...]:
        with self._uow() as uow:
            scope = self._instance(uow, guard, instance_id)
            found = uow.instance_policies.list(scope.id)
        return rules.instance_policies(found, policy)

    def allowed_ip_port(self, guard: Guard, instance_id: str) -> int | None:
        """`GET /instance/allowed_ip_port`: the private endpoint port while an allowedIP policy
        is on, else None (spec §3 row 26). strongroom serves every API on one port, so this is
        the configured `kms_private_endpoint_port`, by default the server's own port."""
        with self._uow() as uow:
            scope = self._instance(uow, guard, instance_id)
            found = uow.instance_policies.list(scope.id)
        return self._port if rules.enabled_policy(found, rules.ALLOWED_IP) else None

    def _instance(self, uow: UnitOfWork, guard: Guard, instance_id: str) -> Scope:
        # The instance-policy routes are reachable from anywhere (open_scope, `check_source`).
        scope = self._load.scope(uow, guard, instance_id, check_source=False)
        require(guard, scope, scope.resource())
        return scope


def policies_for_new_key(
    uow: UnitOfWork,
    scope: Scope,
    new: NewKey,
    stamp: Stamp,
    overrides: PolicyOverrides | None,
) -> tuple[bool, Mapping[str, KeyPolicy]]:
    """KmsKeyService's `new_key_policies` hook (spec §3.1): keyCreateImportAccess may refuse the
    creation or import; dualAuthDelete and rotation shape the new key, unless `overrides` (from
    `POST /keys_with_policy_overrides`) say otherwise. An import with `encryptedNonce` and `iv`
    is one through an import token (spec §3.7)."""
    found = uow.instance_policies.list(scope.id)
    secure = new.secure_import or {}
    rules.check_create_allowed(
        found,
        extractable=new.extractable,
        imported=new.payload is not None,
        with_token="encryptedNonce" in secure and "iv" in secure,
    )
    made = rules.new_key_policies(
        found, extractable=new.extractable, new_id=ids.new_uuid, stamp=stamp, overrides=overrides
    )
    return made.dual_auth, made.policies


def _refuse_deleted(key: Key, what: str) -> None:
    if key.state is KeyState.DESTROYED:
        raise KmsError("KEY_DELETED_ERR", f"key `{key.id}` has been deleted", what=what)
