"""The enterprise tree (spec §9): loading nodes behind the caller's guard, resolving parent CRNs,
paths, subtrees and the cycle and depth rules. Shared by the enterprise and account-group use
cases; every function runs in the caller's unit of work.

Where a decision is made: an enterprise's own objects are decided in its ENTERPRISE ACCOUNT, so
a caller acts on them with a token for that account (tokens act in their own account only). A
token for any other account, a child account's included, meets them as missing: being in an
enterprise grants nothing across it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from strongroom.authz import Guard, Resource
from strongroom.errors import Invalid, NotFound
from strongroom.resources.enterprise_models import (
    DELETED,
    SERVICE,
    AccountGroup,
    Enterprise,
    ParentRef,
)
from strongroom.resources.enterprise_requests import ParentCrn, check_parent
from strongroom.store.ports import UnitOfWork

# IBM: an enterprise holds up to five tiers of account groups below the enterprise itself.
MAX_GROUP_DEPTH = 5


def require_here(guard: Guard, resource_type: str, ident: str = "") -> None:
    """Every enterprise decision but creating one is made in the caller's own account, before
    anything is read: the enterprise account for its enterprise's objects (a child account
    asking about its own enterprise reads the enterprise record the same way)."""
    guard.require(Resource(guard.principal.account_id, SERVICE, resource_type, ident))


def own_enterprise(uow: UnitOfWork, guard: Guard) -> Enterprise | None:
    """The enterprise whose enterprise account the caller's token is for, if any."""
    return uow.enterprises.get_by_account(guard.principal.account_id)


def load_enterprise(
    uow: UnitOfWork, guard: Guard, enterprise_id: str, resource_type: str = "enterprise"
) -> Enterprise:
    """The caller's own enterprise by id; any other answers as missing."""
    require_here(guard, resource_type, enterprise_id if resource_type == "enterprise" else "")
    found = uow.enterprises.get(enterprise_id)
    if found is None or found.account_id != guard.principal.account_id:
        raise NotFound("enterprise", enterprise_id)
    return found


def load_group(uow: UnitOfWork, guard: Guard, group_id: str) -> tuple[Enterprise, AccountGroup]:
    require_here(guard, "account-group", group_id)
    group = uow.account_groups.get(group_id)
    enterprise = None if group is None else uow.enterprises.get(group.enterprise_id)
    if group is None or enterprise is None or enterprise.account_id != guard.principal.account_id:
        raise NotFound("account group", group_id)
    return enterprise, group


def resolve_parent(uow: UnitOfWork, guard: Guard, parent: ParentCrn) -> ParentRef:
    """The enterprise or live account group a parent CRN names, in the caller's own enterprise
    (the caller has been checked already). Unknown and foreign parents answer alike (404)."""
    missing = NotFound("parent", parent.text)
    enterprise = own_enterprise(uow, guard)
    if enterprise is None or parent.enterprise_account_id != enterprise.account_id:
        raise missing
    if parent.kind == "enterprise":
        if parent.ident != enterprise.id:
            raise missing
        return ParentRef(enterprise, None)
    group = uow.account_groups.get(parent.ident)
    if group is None or group.enterprise_id != enterprise.id or group.state == DELETED:
        raise missing
    return ParentRef(enterprise, group)


def same_enterprise(parent: ParentCrn, enterprise: Enterprise, what: str) -> None:
    """Nodes move only within their enterprise. Decided from the CRN alone, before any lookup,
    so the refusal says nothing about the other enterprise."""
    if parent.enterprise_account_id != enterprise.account_id:
        raise Invalid(
            f"`parent` `{parent.text}` is not in enterprise `{enterprise.id}`, where {what} is;"
            " nodes move only within their enterprise",
            field="parent",
        )


def list_scope(
    uow: UnitOfWork,
    guard: Guard,
    *,
    enterprise_id: str | None,
    below_group: str | None,
    parent: object,
) -> tuple[Enterprise, dict[str, AccountGroup], tuple[str | None, ...] | None] | None:
    """What a list of an enterprise's accounts or groups covers, with the enterprise's groups
    (read once, for the filter and for the nodes' paths): `parent`, its direct children;
    `below_group`, everything below that group; else the whole enterprise, the caller's own
    (`enterprise_id`, when given, must be it). None when the caller's account is in none."""
    enterprise = own_enterprise(uow, guard)
    if enterprise_id is not None and (enterprise is None or enterprise.id != enterprise_id):
        raise NotFound("enterprise", enterprise_id)
    parents: tuple[str | None, ...] | None = None
    if parent is not None:
        parents = (resolve_parent(uow, guard, check_parent(parent)).group_id,)
    if enterprise is None:
        if below_group is not None:
            raise NotFound("account group", below_group)
        return None
    groups = groups_by_id(uow, enterprise.id)
    if parent is None and below_group is not None:
        if below_group not in groups:
            raise NotFound("account group", below_group)
        parents = subtree(groups, below_group)
    return enterprise, groups, parents


def groups_by_id(uow: UnitOfWork, enterprise_id: str) -> dict[str, AccountGroup]:
    return {g.id: g for g in uow.account_groups.in_enterprise(enterprise_id)}


def ancestors(groups: Mapping[str, AccountGroup], group_id: str | None) -> list[str]:
    """`group_id` and the groups above it, nearest first. The stored tree has no cycles (moves
    are checked), but the walk stops after one lap anyway."""
    chain: list[str] = []
    while group_id is not None and group_id not in chain:
        chain.append(group_id)
        group = groups.get(group_id)
        group_id = None if group is None else group.parent_group_id
    return chain


def descendants(groups: Mapping[str, AccountGroup], group_id: str) -> list[str]:
    """The live groups below `group_id`, at any depth (not itself)."""
    return [
        g.id
        for g in groups.values()
        if g.id != group_id and g.state != DELETED and group_id in ancestors(groups, g.id)
    ]


def path(enterprise: Enterprise, groups: Mapping[str, AccountGroup], group_id: str | None) -> str:
    """IBM's `enterprise_path` down to (and including) a group: `enterprise:<id>/account-group:
    <id>/...`; a leaf appends its own `/account:<id>`."""
    steps = [f"account-group:{g}" for g in reversed(ancestors(groups, group_id))]
    return "/".join([f"enterprise:{enterprise.id}", *steps])


def parent_crn(
    enterprise: Enterprise, groups: Mapping[str, AccountGroup], group_id: str | None
) -> str:
    if group_id is None or group_id not in groups:
        return enterprise.crn
    return groups[group_id].crn


def check_group_placement(
    groups: Mapping[str, AccountGroup], group_id: str, new_parent: str | None
) -> None:
    """A group may not move under itself or one of its descendants (a cycle), nor deeper than
    MAX_GROUP_DEPTH tiers with everything below it."""
    if new_parent is not None and group_id in ancestors(groups, new_parent):
        raise Invalid(
            f"account group `{group_id}` cannot move under `{new_parent}`, which is itself or"
            " lies below it: that would make a cycle",
            field="parent",
        )
    below = [ancestors(groups, d).index(group_id) for d in descendants(groups, group_id)]
    depth = len(ancestors(groups, new_parent)) + 1 + max(below, default=0)
    if depth > MAX_GROUP_DEPTH:
        raise Invalid(
            f"account groups nest at most {MAX_GROUP_DEPTH} tiers deep; this would make {depth}",
            field="parent",
        )


def subtree(groups: Mapping[str, AccountGroup], group_id: str) -> tuple[str | None, ...]:
    return (group_id, *descendants(groups, group_id))


def live(values: Sequence[AccountGroup]) -> list[AccountGroup]:
    return [g for g in values if g.state != DELETED]
