"""The instance a key request is addressed to (`Bluemix-Instance`, spec kms-api.md §1.2), and
the IAM resources its operations are checked against (spec §4.1, last paragraph).

A key is put to the authorizer with the attributes Key Protect policies use: `serviceName`
(`kms` / `hs-crypto`), `serviceInstance`, `keyRing`, `resourceType: key` and `resource` (the key
id), plus the instance's `resourceGroupId`. A policy leaves out what it does not pin, so a grant
on the instance, on one key ring or on one key each reach exactly the keys they name.
Instance-wide operations (list, create, import token, instance policies, key rings) are checked
on the instance, or on a key ring when the request names one.
"""

from __future__ import annotations

from dataclasses import dataclass

from strongroom.authz import Guard, Resource
from strongroom.errors import Forbidden
from strongroom.kms.crypto.backend import CryptoBackend
from strongroom.kms.errors import KmsError
from strongroom.kms.instance_policies import ALLOWED_IP, check_source_ip, enabled_policy
from strongroom.kms.models import Key, KmsInstance
from strongroom.resources.instance_models import Instance, InstanceState
from strongroom.store.ports import UnitOfWork

KMS_SERVICES = frozenset({"kms", "hs-crypto"})
DEFAULT_RING = "default"


@dataclass(frozen=True, slots=True)
class Scope:
    """A resolved `Bluemix-Instance`: the service instance and its key-management side."""

    instance: Instance
    kms: KmsInstance

    @property
    def id(self) -> str:
        return self.instance.guid

    @property
    def service(self) -> str:
        return self.instance.resource_id

    def resource(self, ring: str | None = None) -> Resource:
        attributes = {
            "serviceInstance": self.instance.guid,
            "resourceGroupId": self.instance.resource_group_id,
        }
        if ring is not None:
            attributes["keyRing"] = ring
        return Resource(self.instance.account_id, self.service, attributes=attributes)

    def key_resource(self, key: Key) -> Resource:
        return Resource(
            self.instance.account_id,
            self.service,
            resource_type="key",
            resource=key.id,
            attributes={
                "serviceInstance": self.instance.guid,
                "resourceGroupId": self.instance.resource_group_id,
                "keyRing": key.key_ring_id,
            },
        )

    def action(self, suffix: str) -> str:
        """`kms.secrets.wrap` or `hs-crypto.secrets.wrap`: the instance's own service's action
        (spec §4.1: HPCS uses the same suffixes under `hs-crypto.`)."""
        return f"{self.service}.{suffix}"


def unknown_instance(instance_id: str) -> KmsError:
    # One answer for "no such instance", "another account's instance" and "not a key
    # management instance": existence elsewhere is never disclosed.
    return KmsError(
        "UNAUTHORIZED_ERR",
        f"instance `{instance_id}` does not exist or the caller has no access to it",
        what="Instance could not be accessed",
    )


def open_scope(
    uow: UnitOfWork,
    guard: Guard,
    instance_id: str,
    backend: CryptoBackend,
    *,
    check_source: bool = True,
) -> Scope:
    """The instance, with its master key made on first use (so `uow` must be a write unit of
    work the first time; later reads only read).

    With `check_source`, a request from outside the instance's allowedIP subnets is refused
    (spec §3.6: 401, as Key Protect answers), in this unit of work. Only the instance-policy
    routes pass False: a Manager who shut themselves out can still correct the policy."""
    found = uow.resource_instances.get(instance_id)
    if (
        found is None
        or found.resource_id not in KMS_SERVICES
        or found.account_id != guard.principal.account_id
    ):
        raise unknown_instance(instance_id)
    if check_source:
        policies = uow.instance_policies.list(found.guid)
        if enabled_policy(policies, ALLOWED_IP) is not None:
            check_source_ip(policies, guard.source)
    if found.state is not InstanceState.ACTIVE:
        raise KmsError(
            "FEATURE_RESTRICTED_ERR",
            f"instance `{instance_id}` is {found.state.value}; restore it to use its keys",
            what="Instance could not be accessed",
        )
    kms = uow.kms_instances.get(found.guid)
    if kms is None:
        kms = KmsInstance(
            instance_id=found.guid,
            account_id=found.account_id,
            service=found.resource_id,
            region=found.region_id,
            master_key=backend.new_master_key(found.guid),
            created_at=found.created.at,
        )
        if not uow.kms_instances.add(kms):  # another request made it first
            made = uow.kms_instances.get(found.guid)
            assert made is not None
            kms = made
    return Scope(found, kms)


def require(guard: Guard, scope: Scope, resource: Resource) -> None:
    """The guard's action, as the instance's own service names it, on `resource`."""
    suffix = guard.action.partition(".")[2]
    try:
        guard.with_action(scope.action(suffix)).require(resource)
    except Forbidden as exc:
        raise KmsError(
            "UNAUTHORIZED_ERR", exc.message, what="The user does not have access"
        ) from exc
