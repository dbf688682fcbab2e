"""Resource Controller use cases for service instances (spec §8): create, list, get, update,
delete (into reclamation), lock and unlock, cancel the last operation.

Every use case takes its route's `Guard`; the resource is the instance as a resource of its
own service (`lookup.instance_resource`), so seed 004 table 1 roles on the service, on the
instance's resource group or on all services decide. Each write runs in one unit of work.
Provisioning is synchronous here: an instance is `active` when the create answers, and no
operation is ever in progress (so none can be cancelled).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from strongroom import ids
from strongroom.authz import Guard, Resource
from strongroom.clock import Clock
from strongroom.errors import Invalid, PreconditionFailed
from strongroom.resources.instance_models import (
    Instance,
    InstanceState,
    Reclamation,
    ReclamationState,
    Stamp,
)
from strongroom.resources.lookup import (
    FindResourceGroup,
    instance_resource,
    load_instance,
    permits,
)
from strongroom.resources.plans import PlanCatalog
from strongroom.resources.requests import check_instance_changes, check_new_instance
from strongroom.store.ports import InstanceQuery, KeyQuery, UnitOfWork, UnitOfWorkFactory

# IBM keeps a deleted instance restorable for 7 days before reclaiming it.
RECLAIM_AFTER = timedelta(days=7)
# Lists show these unless `state` asks for another (spec §8: "active+provisioning").
LISTED_BY_DEFAULT = (InstanceState.ACTIVE.value, InstanceState.INACTIVE.value)
STATES = tuple(s.value for s in InstanceState)

RemoveKeys = Callable[[UnitOfWork, Instance, str], int]


@dataclass(frozen=True, slots=True)
class InstanceFilters:
    guid: str | None = None
    name: str | None = None
    resource_group_id: str | None = None
    resource_id: str | None = None
    resource_plan_id: str | None = None
    type: str | None = None
    state: str | None = None
    updated_from: datetime | None = None
    updated_to: datetime | None = None


@dataclass(frozen=True, slots=True)
class InstancePage:
    items: list[Instance]
    has_more: bool


def operation(kind: str, description: str) -> dict[str, Any]:
    """A finished `last_operation` (every operation here completes before the answer)."""
    return {
        "type": kind,
        "state": "succeeded",
        "async": False,
        "description": description,
        "cancelable": False,
        "poll": False,
    }


def group_in_use(uow: UnitOfWork, group_id: str) -> bool:
    """Whether any instance that is not `removed` lives in the resource group: the Resource
    Manager refuses to delete a group while this holds (spec §7)."""
    return uow.resource_instances.any_in_group(group_id)


class InstanceService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        plans: PlanCatalog,
        find_resource_group: FindResourceGroup,
        remove_keys: RemoveKeys,
        on_change: Callable[[str], None],
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._plans = plans
        self._find_group = find_resource_group
        self._remove_keys = remove_keys  # a recursive delete takes the keys' IAM parts with it
        self._on_change = on_change

    # -- create ---------------------------------------------------------------------------------

    def create(self, guard: Guard, body: object) -> Instance:
        new = check_new_instance(body)
        plan = self._plans.plan(new.resource_plan_id)
        region = self._plans.check_location(plan.service, new.target)
        account = guard.principal.account_id
        # Seed 004 table 1: creating needs Editor or Administrator on the service (or on all
        # services), and a policy scoped to a resource group admits creation in that group only.
        guard.require(
            Resource(account, plan.service, attributes={"resourceGroupId": new.resource_group})
        )
        now, by = self._clock.now(), guard.principal.iam_id
        stamp = Stamp(now, by)
        with self._uow(write=True) as uow:
            group_crn = self._find_group(uow, account, new.resource_group)
            if group_crn is None:
                raise Invalid(
                    f"resource group `{new.resource_group}` does not exist in account `{account}`",
                    field="resource_group",
                )
            instance = Instance(
                guid=ids.new_uuid(),
                account_id=account,
                name=new.name,
                resource_id=plan.service,
                resource_plan_id=plan.id,
                region_id=region,
                resource_group_id=new.resource_group,
                resource_group_crn=group_crn,
                state=InstanceState.ACTIVE,
                locked=False,
                allow_cleanup=new.allow_cleanup,
                parameters=new.parameters,
                tags=new.tags,
                created=stamp,
                updated=stamp,
                last_operation=operation("create", "Completed create instance operation"),
                plan_history=({"resource_plan_id": plan.id, "start_date": now.isoformat()},),
            )
            uow.resource_instances.add(instance)
        return instance

    # -- read -----------------------------------------------------------------------------------

    def get(self, guard: Guard, ref: str) -> Instance:
        with self._uow() as uow:
            return load_instance(uow, guard, ref)

    def list_instances(
        self, guard: Guard, filters: InstanceFilters, *, offset: int, limit: int
    ) -> InstancePage:
        """The instances the caller may see, oldest first, one page of them."""
        if filters.state is not None and filters.state not in STATES:
            raise Invalid(f"`state` is one of {', '.join(STATES)}, not `{filters.state}`", "state")
        if filters.type not in (None, "service_instance"):
            return InstancePage([], False)  # aliases, bindings: none are kept here
        query = InstanceQuery(
            account_id=guard.principal.account_id,
            guid=filters.guid,
            name=filters.name,
            resource_group_id=filters.resource_group_id,
            resource_id=filters.resource_id,
            resource_plan_id=filters.resource_plan_id,
            states=(filters.state,) if filters.state else LISTED_BY_DEFAULT,
            updated_from=filters.updated_from,
            updated_to=filters.updated_to,
        )
        with self._uow() as uow:
            found = uow.resource_instances.list(query)
            visible = [i for i in found if permits(guard, instance_resource(i))]
        return InstancePage(visible[offset : offset + limit], len(visible) > offset + limit)

    # -- change ---------------------------------------------------------------------------------

    def update(self, guard: Guard, ref: str, body: object) -> Instance:
        with self._uow(write=True) as uow:
            current = load_instance(uow, guard, ref)
            changes = check_instance_changes(body)
            self._require_changeable(current)
            now = self._clock.now()
            history = current.plan_history
            plan_id = current.resource_plan_id
            if changes.resource_plan_id is not None:
                plan = self._plans.plan(changes.resource_plan_id)
                if plan.service != current.resource_id:
                    raise Invalid(
                        f"plan `{plan.id}` is a plan of `{plan.service}`, not of"
                        f" `{current.resource_id}`",
                        field="resource_plan_id",
                    )
                if plan.id != plan_id:
                    plan_id = plan.id
                    entry = {"resource_plan_id": plan.id, "start_date": now.isoformat()}
                    history = (*history, entry)
            updated = replace(
                current,
                name=changes.name if changes.name is not None else current.name,
                parameters=changes.parameters
                if changes.parameters is not None
                else current.parameters,
                allow_cleanup=changes.allow_cleanup
                if changes.allow_cleanup is not None
                else current.allow_cleanup,
                resource_plan_id=plan_id,
                plan_history=history,
                updated=Stamp(now, guard.principal.iam_id),
                last_operation=operation("update", "Completed update instance operation"),
            )
            self._store(uow, updated, current)
        return updated

    def set_lock(self, guard: Guard, ref: str, locked: bool) -> Instance:
        with self._uow(write=True) as uow:
            current = load_instance(uow, guard, ref)
            if current.state is not InstanceState.ACTIVE:
                raise self._not_active(current)
            if current.locked == locked:
                return current
            verb = "lock" if locked else "unlock"
            updated = replace(
                current,
                locked=locked,
                updated=Stamp(self._clock.now(), guard.principal.iam_id),
                last_operation=operation(verb, f"Completed {verb} instance operation"),
            )
            self._store(uow, updated, current)
        return updated

    def cancel_last_operation(self, guard: Guard, ref: str) -> Instance:
        with self._uow() as uow:
            load_instance(uow, guard, ref)
        # Every operation here has finished by the time it answers (spec §8 message).
        raise Invalid("The instance is not cancelable.", field="last_operation")

    def delete(self, guard: Guard, ref: str, *, recursive: bool = False) -> None:
        """Delete into reclamation: the instance goes `pending_reclamation` and a reclamation is
        SCHEDULED; `POST /v1/reclamations/{id}/actions/restore|reclaim` ends it (spec §8)."""
        by = guard.principal.iam_id
        with self._uow(write=True) as uow:
            current = load_instance(uow, guard, ref)
            self._require_changeable(current)
            removed_keys = 0
            if recursive:
                removed_keys = self._remove_keys(uow, current, by)
            else:
                self._require_no_keys(uow, current)
            now = self._clock.now()
            updated = replace(
                current,
                state=InstanceState.PENDING_RECLAMATION,
                updated=Stamp(now, by),
                deleted=Stamp(now, by),
                last_operation=operation("delete", "Completed delete instance operation"),
            )
            self._store(uow, updated, current)
            uow.reclamations.add(
                Reclamation(
                    id=ids.new_uuid(),
                    account_id=current.account_id,
                    instance_guid=current.guid,
                    instance_crn=current.crn,
                    resource_group_id=current.resource_group_id,
                    state=ReclamationState.SCHEDULED,
                    target_time=now + RECLAIM_AFTER,
                    created=Stamp(now, by),
                    updated=Stamp(now, by),
                )
            )
        if removed_keys:
            self._on_change(current.account_id)

    # -- helpers --------------------------------------------------------------------------------

    @staticmethod
    def _not_active(current: Instance) -> Invalid:
        return Invalid(
            f"resource instance `{current.guid}` is `{current.state.value}`, not `active`",
            field="state",
        )

    def _require_changeable(self, current: Instance) -> None:
        if current.state is not InstanceState.ACTIVE:
            raise self._not_active(current)
        if current.locked:
            # Spec §8: a locked instance refuses update and delete with a 400.
            raise Invalid(
                f"resource instance `{current.guid}` is locked; unlock it first", field="locked"
            )

    @staticmethod
    def _require_no_keys(uow: UnitOfWork, current: Instance) -> None:
        keys = uow.resource_keys.list(
            KeyQuery(account_id=current.account_id, source_guid=current.guid)
        )
        if keys:
            names = ", ".join(f"`{k.guid}`" for k in keys[:5])
            raise Invalid(
                f"resource instance `{current.guid}` has resource keys ({names}); delete them"
                " first or delete with `recursive=true`",
                field="recursive",
            )

    @staticmethod
    def _store(uow: UnitOfWork, updated: Instance, current: Instance) -> None:
        if not uow.resource_instances.update(updated, current.updated.at):
            raise PreconditionFailed(
                f"resource instance `{current.guid}` changed meanwhile; read it again"
            )
