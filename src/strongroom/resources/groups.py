"""Resource Manager use cases (spec §7): resource groups and quota definitions.

Authorization (seed 004 table 1, catalogs/resource-controller.yaml): a group is the resource
`{serviceName: resource-controller, resourceType: resource-group, resource: <group id>}`, so a
policy on the group itself grants on it (Viewer views, Editor also renames, Administrator also
deletes). Creating a group touches no group yet: it needs `resource-controller.group.create` on
the service in the account (Administrator on all account management services, or on
resource-controller). Listing shows the groups the caller may view; a caller who may view
none of the account's groups (nor groups account-wide) is refused the list (403). Quota
definitions are platform data: reading them needs `resource-controller.quota.read` on the
service in the caller's account.

Every use case checks its guard before it reads a body, and runs in one unit of work, so a
refused or invalid request writes nothing. Resource groups grant nothing by themselves (policies
name them), so their writes need no access-revision bump.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from strongroom import ids
from strongroom.authz import Guard, Resource
from strongroom.clock import Clock
from strongroom.errors import Conflict, Forbidden, Invalid, NotFound
from strongroom.identity.models import Account, User
from strongroom.resources.models import (
    ACTIVE,
    DEFAULT_GROUP_NAME,
    DELETED,
    SETTABLE_STATES,
    QuotaDefinition,
    ResourceGroup,
)
from strongroom.resources.quotas import QuotaCatalog
from strongroom.store.ports import UnitOfWork, UnitOfWorkFactory

SERVICE = "resource-controller"
RESOURCE_TYPE = "resource-group"
MAX_NAME = 40  # IBM: a resource group name is at most 40 characters
NAME_CHARS = re.compile(r"^[^\x00-\x1f\x7f]+$")
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")

# Whether something (a service instance, ...) still lives in a group: a delete is refused while
# any answers True. Wired in bootstrap; each runs in the deleting unit of work.
GroupInUse = Callable[[UnitOfWork, str], bool]


def find_resource_group(uow: UnitOfWork, account_id: str, group_id: str) -> str | None:
    """The CRN of the account's ACTIVE group `group_id`, else None: where the Resource
    Controller may create an instance (a deleted, suspended or foreign group answers None)."""
    group = uow.resource_groups.get(group_id)
    if group is None or group.account_id != account_id or group.state != ACTIVE:
        return None
    return group.crn


@dataclass(frozen=True, slots=True)
class GroupQuery:
    """`GET /v2/resource_groups` parameters (spec §7)."""

    account_id: str | None = None
    name: str | None = None
    default: bool | None = None
    include_deleted: bool = False
    date: str | None = None  # YYYY-MM: groups deleted before this month are left out


def group_missing(group_id: str) -> NotFound:
    return NotFound("resource group", group_id)


def quota_missing(quota_id: str) -> NotFound:
    return NotFound("quota definition", quota_id)


def _resource(account_id: str, group_id: str = "") -> Resource:
    return Resource(account_id, SERVICE, RESOURCE_TYPE, group_id)


def _body(body: Any) -> Mapping[str, Any]:
    if body is None:
        return {}
    if not isinstance(body, Mapping):
        raise Invalid("the body must be a JSON object", field="body")
    return body


def check_name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid("`name` is required: a non-empty string", field="name")
    name = value.strip()
    if len(name) > MAX_NAME:
        raise Invalid(f"`name` must be at most {MAX_NAME} characters", field="name")
    if not NAME_CHARS.match(name):
        raise Invalid("`name` must not contain control characters", field="name")
    return name


def _month_start(value: str) -> datetime:
    match = MONTH.match(value)
    if match is None:
        raise Invalid(f"`date` must be a month as YYYY-MM, not `{value}`", field="date")
    return datetime(int(match[1]), int(match[2]), 1, tzinfo=UTC)


class ResourceGroupService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        quotas: QuotaCatalog,
        *,
        group_in_use: Sequence[GroupInUse] = (),
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._quotas = quotas
        self._group_in_use = tuple(group_in_use)

    # -- the account hook ---------------------------------------------------------------------

    def add_default_group(self, uow: UnitOfWork, account: Account, owner: User) -> None:
        """IdentityService's `on_account_created` hook: the account's `Default` group (spec
        §7), made in the unit of work that creates the account."""
        uow.resource_groups.add(
            ResourceGroup(
                id=ids.new_account_id(),  # 32 hex, the form IBM's group ids take
                account_id=account.id,
                name=DEFAULT_GROUP_NAME,
                state=ACTIVE,
                default=True,
                quota_id=self._quotas.default.id,
                created_at=account.created_at,
                updated_at=account.created_at,
            )
        )

    # -- resource groups ----------------------------------------------------------------------

    def create(self, guard: Guard, body: Any) -> ResourceGroup:
        account = guard.principal.account_id
        data = _body(body)
        given = data.get("account_id")
        if given is not None:
            if not isinstance(given, str) or not given:
                raise Invalid("`account_id` must be a non-empty string", field="account_id")
            account = given
        guard.require(_resource(account))
        name = check_name(data.get("name"))
        now = self._clock.now()
        group = ResourceGroup(
            id=ids.new_account_id(),
            account_id=account,
            name=name,
            state=ACTIVE,
            default=False,
            quota_id=self._quotas.default.id,
            created_at=now,
            updated_at=now,
        )
        with self._uow(write=True) as uow:
            if uow.accounts.get(account) is None:
                raise Invalid(f"account `{account}` does not exist", field="account_id")
            if not uow.resource_groups.add(group):
                raise _name_taken(name, account)
        return group

    def list_groups(self, guard: Guard, query: GroupQuery) -> list[ResourceGroup]:
        account = query.account_id or guard.principal.account_id
        since = _month_start(query.date) if query.date is not None else None
        with self._uow() as uow:
            groups = uow.resource_groups.in_account(account)
        if not groups:  # an unknown account: the same answer as a refusal on a known one
            guard.require(_resource(account))
        visible: list[ResourceGroup] = []
        refusal: Forbidden | None = None
        for group in groups:
            try:
                guard.require(_resource(group.account_id, group.id))
                visible.append(group)
            except Forbidden as refused:
                refusal = refusal or refused
        if refusal is not None and not visible:
            # Viewing none of them is being refused the list (another account's included). A
            # policy on the service (not naming one group) permits on every group, so this
            # asks nothing more.
            raise refusal
        return [g for g in visible if _listed(g, query, since)]

    def get(self, guard: Guard, group_id: str) -> ResourceGroup:
        with self._uow() as uow:
            return self._load(uow, guard, group_id)

    def update(self, guard: Guard, group_id: str, body: Any) -> ResourceGroup:
        with self._uow(write=True) as uow:
            group = self._load(uow, guard, group_id)
            self._live(group)
            data = _body(body)
            if "name" not in data and "state" not in data:
                raise Invalid("give `name`, `state` or both to update", field="body")
            changed = group
            if "name" in data:
                changed = replace(changed, name=check_name(data["name"]))
            if "state" in data:
                state = data["state"]
                if state not in SETTABLE_STATES:
                    raise Invalid(
                        f"`state` must be one of {', '.join(SETTABLE_STATES)}", field="state"
                    )
                changed = replace(changed, state=state)
            changed = replace(changed, updated_at=self._clock.now())
            if not uow.resource_groups.update(changed):
                raise _name_taken(changed.name, group.account_id)
        return changed

    def delete(self, guard: Guard, group_id: str) -> None:
        """Soft delete: the group stays, in state `DELETED`, and frees its name (spec §7)."""
        with self._uow(write=True) as uow:
            group = self._load(uow, guard, group_id)
            self._live(group)
            if group.default:
                raise Invalid(
                    f"resource group `{group.id}` is the account's default group and cannot be"
                    " deleted",
                    field="id",
                    code="default_resource_group",
                )
            if any(in_use(uow, group.id) for in_use in self._group_in_use):
                raise Conflict(
                    f"resource group `{group.id}` is not empty: delete the resources in it first",
                    code="resource_group_not_empty",
                )
            now = self._clock.now()
            uow.resource_groups.update(
                replace(group, state=DELETED, updated_at=now, deleted_at=now)
            )

    @staticmethod
    def _load(uow: UnitOfWork, guard: Guard, group_id: str) -> ResourceGroup:
        """The group if the caller may act on it; another account's group answers exactly as an
        unknown id does (once the caller's own access was checked)."""
        found = uow.resource_groups.get(group_id)
        if found is None:
            guard.require(_resource(guard.principal.account_id, group_id))
            raise group_missing(group_id)
        guard.require(_resource(found.account_id, found.id), missing=group_missing(group_id))
        return found

    @staticmethod
    def _live(group: ResourceGroup) -> None:
        if group.deleted:
            raise NotFound("resource group", group.id)

    # -- quota definitions --------------------------------------------------------------------

    def list_quotas(self, guard: Guard) -> list[QuotaDefinition]:
        guard.require(Resource(guard.principal.account_id, SERVICE))
        return self._quotas.all()

    def get_quota(self, guard: Guard, quota_id: str) -> QuotaDefinition:
        guard.require(Resource(guard.principal.account_id, SERVICE))
        found = self._quotas.get(quota_id)
        if found is None:
            raise quota_missing(quota_id)
        return found


def _listed(group: ResourceGroup, query: GroupQuery, since: datetime | None) -> bool:
    if query.name is not None and group.name != query.name:
        return False
    if query.default is not None and group.default != query.default:
        return False
    if not group.deleted or query.include_deleted:
        return True
    return since is not None and group.deleted_at is not None and group.deleted_at >= since


def _name_taken(name: str, account: str) -> Conflict:
    return Conflict(
        f"a resource group named `{name}` already exists in account `{account}`",
        code="resource_group_name_taken",
    )
