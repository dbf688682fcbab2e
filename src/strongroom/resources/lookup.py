"""How instances and keys are addressed (by GUID or by CRN, spec §8) and how they are put to
the authorizer.

The resource of an instance action is the instance as a resource OF ITS SERVICE: its
service name, `serviceInstance` and `resourceGroupId`. The resource-controller catalog is
`acts_on_instances`, so the engine looks the action up there while the caller's policy must
match the instance: Editor on `kms`, on the instance's resource group or on all services lets
its subject delete a kms instance (seed 004 table 1).
"""

from __future__ import annotations

from collections.abc import Callable

from strongroom.authz import Guard, Resource
from strongroom.crn import CRN, CRNError
from strongroom.errors import Forbidden, NotFound
from strongroom.resources.instance_models import Instance, ResourceKey
from strongroom.store.ports import UnitOfWork

# Bootstrap's hook into the Resource Manager: the CRN of group `group_id` if it exists in
# account `account_id`, else None.
FindResourceGroup = Callable[[UnitOfWork, str, str], str | None]


def instance_resource(instance: Instance) -> Resource:
    return _resource(
        instance.account_id, instance.resource_id, instance.guid, instance.resource_group_id
    )


def key_resource(key: ResourceKey) -> Resource:
    """A key is guarded as its instance is (the key actions are done on the instance)."""
    return _resource(key.account_id, key.resource_id, key.source_guid, key.resource_group_id)


def _resource(account: str, service: str, guid: str, group: str) -> Resource:
    return Resource(
        account, service, attributes={"serviceInstance": guid, "resourceGroupId": group}
    )


def permits(guard: Guard, resource: Resource) -> bool:
    """For lists: whether the caller may see one item (the list shows only those)."""
    try:
        guard.require(resource)
    except Forbidden:
        return False
    return True


def guid_of(ref: str, resource_type: str = "") -> str:
    """The GUID in a CRN (the instance segment, or the resource segment of a key CRN), or the
    reference itself when it is not a CRN. A malformed CRN finds nothing."""
    if not ref.startswith("crn:"):
        return ref
    try:
        parsed = CRN.parse(ref)
    except CRNError:
        return ""
    if resource_type:
        return parsed.resource if parsed.resource_type == resource_type else ""
    return parsed.service_instance if not parsed.resource_type else ""


def load_instance(uow: UnitOfWork, guard: Guard, ref: str) -> Instance:
    """The instance named by GUID or CRN, if the caller may do the guard's action on it; an
    instance in another account answers exactly as a missing one."""
    missing = NotFound("resource instance", ref)
    found = uow.resource_instances.get(guid_of(ref))
    if found is None or (ref.startswith("crn:") and ref != found.crn):
        raise missing
    guard.require(instance_resource(found), missing=missing)
    return found


def load_key(uow: UnitOfWork, guard: Guard, ref: str) -> ResourceKey:
    missing = NotFound("resource key", ref)
    found = uow.resource_keys.get(guid_of(ref, "resource-key"))
    if found is None or (ref.startswith("crn:") and ref != found.crn):
        raise missing
    guard.require(key_resource(found), missing=missing)
    return found
