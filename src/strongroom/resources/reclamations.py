"""Reclamations (spec §8): a deleted instance waits `pending_reclamation` with a SCHEDULED
reclamation until someone restores it (`active` again) or reclaims it (`removed` for good,
still readable). Both actions complete before the answer, which shows the reclamation in the
state IBM reports while it works (RESTORING, RECLAIMING); lists show the SCHEDULED ones.

Guarded as the instance is: listing with the instance read action, running an action with
the route's (instance delete) action, so Editor and Administrator decide (seed 004 table 1).
"""

from __future__ import annotations

from dataclasses import replace

from strongroom.authz import Guard
from strongroom.clock import Clock
from strongroom.errors import Invalid, NotFound, PreconditionFailed
from strongroom.resources.instance_models import InstanceState, Reclamation, ReclamationState, Stamp
from strongroom.resources.lookup import instance_resource, permits
from strongroom.resources.requests import check_name
from strongroom.store.ports import UnitOfWorkFactory

ACTIONS = {"restore": ReclamationState.RESTORING, "reclaim": ReclamationState.RECLAIMING}
MAX_COMMENT = 1024


class ReclamationService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def list_reclamations(
        self,
        guard: Guard,
        *,
        account_id: str | None = None,
        resource_instance_id: str | None = None,
        resource_group_id: str | None = None,
    ) -> list[Reclamation]:
        account = guard.principal.account_id
        if account_id is not None and account_id != account:
            return []  # another account's reclamations are never shown
        with self._uow() as uow:
            found = uow.reclamations.list(
                account,
                instance_guid=resource_instance_id,
                resource_group_id=resource_group_id,
            )
            visible = []
            for reclamation in found:
                instance = uow.resource_instances.get(reclamation.instance_guid)
                if instance is not None and permits(guard, instance_resource(instance)):
                    visible.append(reclamation)
            return visible

    def run(
        self,
        guard: Guard,
        reclamation_id: str,
        action: str,
        *,
        request_by: object = None,
        comment: object = None,
    ) -> Reclamation:
        missing = NotFound("reclamation", reclamation_id)
        now, by = self._clock.now(), guard.principal.iam_id
        with self._uow(write=True) as uow:
            current = uow.reclamations.get(reclamation_id)
            if current is None:
                raise missing
            instance = uow.resource_instances.get(current.instance_guid)
            if instance is None:
                raise missing
            guard.require(instance_resource(instance), missing=missing)
            state = ACTIONS.get(action)
            if state is None:
                raise Invalid(
                    f"`action_name` is `restore` or `reclaim`, not `{action}`", "action_name"
                )
            if request_by is not None:
                check_name(request_by, "request_by")
            if comment is not None and (not isinstance(comment, str) or len(comment) > MAX_COMMENT):
                raise Invalid(f"`comment` must be a string of at most {MAX_COMMENT}", "comment")
            if current.state is not ReclamationState.SCHEDULED:
                raise Invalid(
                    f"reclamation `{reclamation_id}` is `{current.state.value}`, not `SCHEDULED`",
                    field="state",
                )
            stamp = Stamp(now, by)
            if state is ReclamationState.RESTORING:
                changed = replace(
                    instance, state=InstanceState.ACTIVE, restored=stamp, updated=stamp
                )
            else:
                changed = replace(instance, state=InstanceState.REMOVED, updated=stamp)
            if not uow.resource_instances.update(changed, instance.updated.at):
                raise PreconditionFailed(f"resource instance `{instance.guid}` changed meanwhile")
            updated = replace(current, state=state, updated=stamp, comment=comment or "")
            uow.reclamations.update(updated)
        return updated
