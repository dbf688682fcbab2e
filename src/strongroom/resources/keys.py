"""Resource keys (service credentials, spec §8): where the Resource Controller meets IAM.

Creating a key makes, in the same unit of work, a service ID, one API key of it, and a v2
access policy granting the key's role on the instance (`serviceName` + `serviceInstance`), as
IBM's resource controller does. They are made on the platform's authority: whoever may
create keys on the instance (seed 004 table 1: Operator, Editor, Administrator) gets them,
without needing IAM rights of their own. Deleting the key removes all three. The API key's
value is shown once, in the create answer; reads say `REDACTED`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from strongroom import ids
from strongroom.access.policies import PolicyService
from strongroom.authz import Guard
from strongroom.clock import Clock
from strongroom.crn import iam_identity_crn
from strongroom.errors import Invalid
from strongroom.identity.requests import NewApiKey
from strongroom.identity.service import IdentityService
from strongroom.policy import Catalog
from strongroom.resources.instance_models import (
    Instance,
    InstanceState,
    KeyState,
    ResourceKey,
    Stamp,
)
from strongroom.resources.lookup import key_resource, load_instance, load_key, permits
from strongroom.resources.requests import check_key_name, check_new_key
from strongroom.store.ports import KeyQuery, UnitOfWork, UnitOfWorkFactory

DEFAULT_ROLE = "Writer"  # when the body names none, if the service has it


@dataclass(frozen=True, slots=True)
class CreatedKey:
    key: ResourceKey
    apikey: str  # shown once


@dataclass(frozen=True, slots=True)
class KeyFilters:
    guid: str | None = None
    name: str | None = None
    resource_group_id: str | None = None
    resource_id: str | None = None
    updated_from: datetime | None = None
    updated_to: datetime | None = None


class KeyService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        catalog: Catalog,
        identity: IdentityService,
        policies: PolicyService,
        on_change: Callable[[str], None],
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._catalog = catalog
        self._identity = identity
        self._policies = policies
        self._on_change = on_change

    def create(self, guard: Guard, body: object) -> CreatedKey:
        new = check_new_key(body)
        by, now = guard.principal.iam_id, self._clock.now()
        with self._uow(write=True) as uow:
            instance = load_instance(uow, guard, new.source)
            if instance.state is not InstanceState.ACTIVE:
                raise Invalid(
                    f"resource instance `{instance.guid}` is `{instance.state.value}`; keys are"
                    " made for active instances only",
                    field="source",
                )
            role = self._role(instance.resource_id, new.role)
            guid = ids.new_uuid()
            sid, created = self._identity.add_service_id_in(
                uow,
                account_id=instance.account_id,
                name=f"auto-generated-serviceId-{guid}",
                description=f"Service ID of resource key `{new.name}` ({guid})",
                unique_instance_crns=(instance.crn,),
                by=by,
                by_account=guard.principal.account_id,
                apikey=NewApiKey(
                    name=f"auto-generated-apikey-{guid}",
                    description=f"Auto-generated for resource key {guid}",
                ),
            )
            assert created is not None  # asked for above
            policy = self._policies.grant_in(
                uow, instance.account_id, by, _policy(instance, sid.iam_id, role)
            )
            key = ResourceKey(
                guid=guid,
                account_id=instance.account_id,
                name=new.name,
                source_guid=instance.guid,
                source_crn=instance.crn,
                resource_id=instance.resource_id,
                resource_group_id=instance.resource_group_id,
                role_crn=role,
                service_id=sid.id,
                service_id_crn=iam_identity_crn(instance.account_id, "serviceid", sid.id),
                apikey_id=created.key.id,
                apikey_name=created.key.name,
                policy_id=policy.id,
                state=KeyState.ACTIVE,
                created=Stamp(now, by),
                updated=Stamp(now, by),
            )
            uow.resource_keys.add(key)
        self._on_change(instance.account_id)
        return CreatedKey(key, created.value)

    def get(self, guard: Guard, ref: str) -> ResourceKey:
        with self._uow() as uow:
            return load_key(uow, guard, ref)

    def list_keys(self, guard: Guard, filters: KeyFilters) -> list[ResourceKey]:
        query = KeyQuery(
            account_id=guard.principal.account_id,
            guid=filters.guid,
            name=filters.name,
            resource_group_id=filters.resource_group_id,
            resource_id=filters.resource_id,
            updated_from=filters.updated_from,
            updated_to=filters.updated_to,
        )
        with self._uow() as uow:
            found = uow.resource_keys.list(query)
            return [k for k in found if permits(guard, key_resource(k))]

    def list_for_instance(self, guard: Guard, ref: str) -> list[ResourceKey]:
        with self._uow() as uow:
            instance = load_instance(uow, guard, ref)
            query = KeyQuery(account_id=instance.account_id, source_guid=instance.guid)
            return list(uow.resource_keys.list(query))

    def rename(self, guard: Guard, ref: str, body: object) -> ResourceKey:
        with self._uow(write=True) as uow:
            current = load_key(uow, guard, ref)
            name = check_key_name(body)
            self._require_active(current)
            updated = replace(
                current, name=name, updated=Stamp(self._clock.now(), guard.principal.iam_id)
            )
            uow.resource_keys.update(updated)
        return updated

    def delete(self, guard: Guard, ref: str) -> None:
        with self._uow(write=True) as uow:
            current = load_key(uow, guard, ref)
            self._require_active(current)
            self._remove_in(uow, current, guard.principal.iam_id)
        self._on_change(current.account_id)

    def remove_all_in(self, uow: UnitOfWork, instance: Instance, by: str) -> int:
        """Remove every key of an instance in the caller's unit of work (a recursive instance
        delete); the caller calls `on_change` after it commits. Returns how many."""
        keys = uow.resource_keys.list(
            KeyQuery(account_id=instance.account_id, source_guid=instance.guid)
        )
        for key in keys:
            self._remove_in(uow, key, by)
        return len(keys)

    def _remove_in(self, uow: UnitOfWork, key: ResourceKey, by: str) -> None:
        sid = uow.service_ids.get(key.service_id)
        if sid is not None:
            self._identity.remove_service_id_in(uow, sid)
        self._policies.revoke_in(uow, key.policy_id, by)
        now = self._clock.now()
        uow.resource_keys.update(
            replace(key, state=KeyState.REMOVED, updated=Stamp(now, by), deleted=Stamp(now, by))
        )

    def _role(self, service_name: str, given: str | None) -> str:
        """The role CRN for `given` (a role name or CRN) among the service's own roles."""
        service = self._catalog.service(service_name)
        roles = service.roles if service is not None else {}
        ref = given if given is not None else DEFAULT_ROLE
        for crn, role in roles.items():
            if ref in (crn, role.name):
                return crn
        names = ", ".join(sorted(r.name for r in roles.values()))
        raise Invalid(f"`role` `{ref}` is not a role of `{service_name}` ({names})", field="role")

    @staticmethod
    def _require_active(key: ResourceKey) -> None:
        if key.state is not KeyState.ACTIVE:
            raise Invalid(f"resource key `{key.guid}` is `{key.state.value}`", field="state")


def _policy(instance: Instance, iam_id: str, role_crn: str) -> dict[str, Any]:
    """The v2 policy a key's service ID receives: its role on this one instance (spec §6.2)."""

    def equals(key: str, value: str) -> dict[str, str]:
        return {"key": key, "operator": "stringEquals", "value": value}

    return {
        "type": "access",
        "description": f"resource key on {instance.crn}",
        "subject": {"attributes": [equals("iam_id", iam_id)]},
        "resource": {
            "attributes": [
                equals("accountId", instance.account_id),
                equals("serviceName", instance.resource_id),
                equals("serviceInstance", instance.guid),
            ]
        },
        "control": {"grant": {"roles": [{"role_id": role_crn}]}},
    }
