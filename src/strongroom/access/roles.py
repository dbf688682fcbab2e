"""IAM Policy Management roles (spec §6.3): the platform ("system") and service roles the
catalogs define, and each account's custom roles.

A custom role names a set of one service's actions; every action must be one that service's
catalog defines. Its CRN is `crn:v1:ibmcloud:public:iam-access-management::a/<account>::
customRole:<Name>` (spec §1 fact 11, §3.5) and its name is unique in the account (409
`role_conflict_error`). As with policies, each use case checks the route's Guard first, and each
write bumps the account's access revision and calls `on_change` after it commits.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from strongroom import ids
from strongroom.access import policy_checks as checks
from strongroom.access.records import to_model
from strongroom.authz import Guard, Resource
from strongroom.clock import Clock
from strongroom.errors import Conflict, Invalid, NotFound, PreconditionFailed, QuotaExceeded
from strongroom.identity.requests import check_if_match
from strongroom.limits import Limits, load_limits
from strongroom.policy import Catalog, Service
from strongroom.store.ports import StoredRole, UnitOfWorkFactory

SERVICE = "iam-access-management"
NAME = re.compile(r"^[A-Z][A-Za-z0-9]{0,29}$")  # IBM: alphanumeric, capitalised, used in the CRN
MAX_DISPLAY_NAME = 50
MAX_DESCRIPTION = 250
POLICY_TYPES = ("access", "authorization")

# The four platform roles, always listed as `system_roles` (spec §6.3); descriptions after
# seed 003 table 6.
SYSTEM_ROLES: tuple[tuple[str, str], ...] = (
    ("Viewer", "Can view service instances, but can't modify them."),
    (
        "Operator",
        "Can perform platform actions required to configure and operate service instances,"
        " such as viewing a service's dashboard.",
    ),
    (
        "Editor",
        "Can perform all platform actions except for managing the account and assigning"
        " access policies.",
    ),
    (
        "Administrator",
        "Can perform all platform actions based on the resource this role is being assigned,"
        " including assigning access policies to other users.",
    ),
)

OnChange = Callable[[str], None]


def system_role_crn(name: str) -> str:
    return f"crn:v1:bluemix:public:iam::::role:{name}"


def custom_role_crn(account_id: str, name: str) -> str:
    return f"crn:v1:ibmcloud:public:iam-access-management::a/{account_id}::customRole:{name}"


@dataclass(frozen=True, slots=True)
class RoleView:
    """A catalog role as listed: what it grants on the services the listing is about."""

    crn: str
    display_name: str
    description: str
    actions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RoleListing:
    system: list[RoleView]
    service: list[RoleView]
    custom: list[StoredRole]


@dataclass(frozen=True, slots=True)
class RoleFilters:
    account_id: str | None = None
    service_name: str | None = None
    source_service_name: str | None = None
    policy_type: str | None = None
    service_group_id: str | None = None


def _missing(role_id: str) -> NotFound:
    return NotFound("role", role_id, code="role_not_found")


def _text(body: Mapping[str, Any], key: str, *, required: bool, limit: int) -> str | None:
    value = body.get(key)
    if value is None:
        if required:
            raise Invalid(f"`{key}` is required", field=key)
        return None
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > limit:
        raise Invalid(f"`{key}` must be a string of 1 to {limit} characters", field=key)
    return value


class RoleService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        catalog: Catalog,
        on_change: OnChange,
        limits: Limits | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._catalog = catalog
        self._on_change = on_change
        self._limits = limits or load_limits()

    # -- catalog and custom roles ---------------------------------------------------------------

    def list_roles(self, guard: Guard, filters: RoleFilters) -> RoleListing:
        guard.require(Resource(filters.account_id or guard.principal.account_id, SERVICE, "role"))
        services = self._services(filters)
        names = {s.name for s in services}
        custom: list[StoredRole] = []
        # Custom roles are an account's own, for access policies only (spec §6.3).
        if filters.account_id and filters.policy_type != "authorization":
            with self._uow() as uow:
                custom = [r for r in uow.roles.list(filters.account_id) if r.service_name in names]
        return RoleListing(self._system_roles(services), self._service_roles(services), custom)

    def _services(self, filters: RoleFilters) -> list[Service]:
        if filters.policy_type is not None and filters.policy_type not in POLICY_TYPES:
            raise Invalid(
                f"`policy_type` is `access` or `authorization`, not `{filters.policy_type}`",
                field="policy_type",
            )
        if filters.service_name and filters.service_group_id:
            raise Invalid(
                "`service_name` and `service_group_id` exclude each other; give one",
                field="service_group_id",
            )
        if filters.service_name:
            found = self._catalog.service(filters.service_name)
            if found is None:
                raise checks.invalid(f"unknown service `{filters.service_name}`", "service_name")
            return [found]
        everything = list(self._catalog.services.values())
        if filters.service_group_id:
            # A service group is the catalog services that list it, e.g. `groups: [IAM]`.
            members = [s for s in everything if filters.service_group_id in s.groups]
            if not members:
                raise checks.invalid(
                    f"unknown service group `{filters.service_group_id}`", "service_group_id"
                )
            return members
        return everything

    def _system_roles(self, services: Sequence[Service]) -> list[RoleView]:
        views = []
        for name, description in SYSTEM_ROLES:
            crn = system_role_crn(name)
            actions = {a for s in services for a in self._catalog.actions_of(s.name, crn)}
            views.append(RoleView(crn, name, description, tuple(sorted(actions))))
        return views

    @staticmethod
    def _service_roles(services: Sequence[Service]) -> list[RoleView]:
        """Service roles of the services asked about, merged by CRN (the generic
        Reader/Writer/Manager mean something different in each service)."""
        merged: dict[str, RoleView] = {}
        for service in services:
            for role in service.roles.values():
                if ":serviceRole:" not in role.crn:
                    continue
                seen = merged.get(role.crn)
                actions = set(role.actions) | set(seen.actions if seen else ())
                merged[role.crn] = RoleView(
                    role.crn,
                    seen.display_name if seen else role.display_name,
                    seen.description if seen else role.description,
                    tuple(sorted(actions)),
                )
        return list(merged.values())

    def get(self, guard: Guard, role_id: str) -> StoredRole:
        return self._load(guard, role_id)

    # -- custom role changes --------------------------------------------------------------------

    def create(self, guard: Guard, body: object) -> StoredRole:
        stated = body.get("account_id") if isinstance(body, Mapping) else None
        account = stated if isinstance(stated, str) and stated else guard.principal.account_id
        guard.require(Resource(account, SERVICE, "role"))
        if not isinstance(body, Mapping):
            raise Invalid("the request body must be a JSON object holding the role", field="body")
        checks.refuse_nul(body, "")
        name = _text(body, "name", required=True, limit=30) or ""
        if not NAME.match(name):
            raise Invalid(
                f"`name` `{name}` must start with a capital letter and hold only letters and"
                " digits (at most 30)",
                field="name",
            )
        _text(body, "account_id", required=True, limit=64)
        service = _text(body, "service_name", required=True, limit=255) or ""
        display_name, description, actions = self._contents(body, service, None)
        now = self._clock.now()
        by = guard.principal.iam_id
        role = StoredRole(
            id=uuid.uuid4().hex,
            account_id=account,
            name=name,
            service_name=service,
            display_name=display_name,
            description=description,
            actions=actions,
            crn=custom_role_crn(account, name),
            created_at=now,
            created_by_id=by,
            last_modified_at=now,
            last_modified_by_id=by,
            entity_tag=ids.new_entity_tag(1),
        )
        with self._uow(write=True) as uow:
            # The bump first: it serialises this account's access writes (see policies.py).
            uow.revisions.bump(account)
            if uow.roles.get_by_name(account, name) is not None:
                raise Conflict(
                    f"a custom role named `{name}` already exists in account `{account}`",
                    code="role_conflict_error",
                )
            # Counted under the bump's lock, so concurrent creates never pass it (C7).
            most = self._limits.custom_roles_per_account
            if len(uow.roles.list(account)) >= most:
                raise QuotaExceeded(
                    f"account `{account}` already has {most} custom roles, the most allowed"
                    " (limit `custom_roles_per_account`); delete one first"
                )
            uow.roles.add(role)
        self._on_change(account)
        return role

    def replace(self, guard: Guard, role_id: str, if_match: str | None, body: object) -> StoredRole:
        """`PUT /v2/roles/{id}`: display name, description and actions; name, account and
        service never change (spec §6.3). An omitted description keeps the one it has."""
        current = self._load(guard, role_id)
        check_if_match(if_match, current.entity_tag)
        if not isinstance(body, Mapping):
            raise Invalid("the request body must be a JSON object holding the role", field="body")
        checks.refuse_nul(body, "")
        display_name, description, actions = self._contents(
            body, current.service_name, current.description
        )
        updated = replace(
            current,
            display_name=display_name,
            description=description,
            actions=actions,
            last_modified_at=self._clock.now(),
            last_modified_by_id=guard.principal.iam_id,
            entity_tag=ids.new_entity_tag(ids.entity_tag_version(current.entity_tag) + 1),
        )
        with self._uow(write=True) as uow:
            uow.revisions.bump(current.account_id)
            if not uow.roles.update(updated, expected_tag=current.entity_tag):
                raise PreconditionFailed(f"role `{role_id}` changed meanwhile; read it again")
        self._on_change(current.account_id)
        return updated

    def delete(self, guard: Guard, role_id: str) -> None:
        current = self._load(guard, role_id)
        with self._uow(write=True) as uow:
            uow.revisions.bump(current.account_id)
            users = [
                p.id
                for p in uow.policies.active_in(current.account_id)
                if current.crn in to_model(p).roles
            ]
            if users:
                raise Conflict(
                    f"custom role `{current.name}` is used by policies {', '.join(users)};"
                    " delete or change them first",
                    code="role_conflict_error",
                )
            uow.roles.delete(role_id)
        self._on_change(current.account_id)

    # -- helpers --------------------------------------------------------------------------------

    def _load(self, guard: Guard, role_id: str) -> StoredRole:
        with self._uow() as uow:
            found = uow.roles.get(role_id)
        if found is None:
            # As for policies: refused callers learn nothing about which ids exist.
            guard.require(Resource(guard.principal.account_id, SERVICE, "role", role_id))
            raise _missing(role_id)
        resource = Resource(found.account_id, SERVICE, "role", found.id)
        guard.require(resource, missing=_missing(role_id))
        return found

    def _contents(
        self, body: Mapping[str, Any], service: str, description: str | None
    ) -> tuple[str, str, tuple[str, ...]]:
        """display_name, description and actions, checked against the service's catalog."""
        display_name = _text(body, "display_name", required=True, limit=MAX_DISPLAY_NAME) or ""
        given = _text(body, "description", required=False, limit=MAX_DESCRIPTION)
        found = self._catalog.service(service)
        if found is None:
            raise checks.invalid(f"unknown service `{service}`", "service_name")
        actions = body.get("actions")
        if not isinstance(actions, list) or not actions:
            raise Invalid("`actions` must be a non-empty list of action ids", field="actions")
        for i, action in enumerate(actions):
            if not isinstance(action, str) or action not in found.actions:
                raise checks.invalid(
                    f"`{action}` is not an action of service `{service}`", f"actions[{i}]"
                )
        if len(set(actions)) != len(actions):
            raise Invalid("`actions` lists an action twice", field="actions")
        return display_name, given if given is not None else (description or ""), tuple(actions)
