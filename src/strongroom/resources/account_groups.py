"""Enterprise Management use cases for account groups (spec §9): nested under the enterprise or
under another group, at most `MAX_GROUP_DEPTH` tiers, never in a cycle, never across
enterprises. Decided in the enterprise account (enterprise_tree.py)."""

from __future__ import annotations

from dataclasses import replace

from strongroom.authz import Guard
from strongroom.clock import Clock
from strongroom.errors import Conflict
from strongroom.resources import enterprise_requests as req
from strongroom.resources import enterprise_tree as tree
from strongroom.resources.enterprise_models import (
    ACTIVE,
    DELETED,
    AccountGroup,
    Changed,
    Enterprise,
    GroupNode,
    NodeQuery,
)
from strongroom.resources.enterprises import known_user, new_id
from strongroom.store.ports import Page, UnitOfWorkFactory


class AccountGroupService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def create(self, guard: Guard, body: object) -> str:
        tree.require_here(guard, "account-group")
        spec = req.check_new_group(body)
        by, now = guard.principal.iam_id, self._clock.now()
        with self._uow(write=True) as uow:
            ref = tree.resolve_parent(uow, guard, spec.parent)
            contact = known_user(uow, spec.primary_contact_iam_id, "primary_contact_iam_id")
            group = AccountGroup(
                id=new_id(),
                enterprise_id=ref.enterprise.id,
                enterprise_account_id=ref.enterprise.account_id,
                parent_group_id=ref.group_id,
                name=spec.name,
                state=ACTIVE,
                primary_contact_iam_id=contact.iam_id,
                primary_contact_email=contact.email,
                changed=Changed(now, by, now, by),
            )
            groups = tree.groups_by_id(uow, ref.enterprise.id)
            tree.check_group_placement({**groups, group.id: group}, group.id, ref.group_id)
            uow.account_groups.add(group)
            return group.id

    def list(
        self,
        guard: Guard,
        *,
        enterprise_id: str | None = None,
        parent_account_group_id: str | None = None,
        parent: str | None = None,
        include_deleted: bool = False,
        offset: int = 0,
        limit: int = 100,
    ) -> Page[GroupNode]:
        """`parent`: its direct children; `parent_account_group_id`: every group below it;
        `enterprise_id` (or nothing, meaning the caller's enterprise): every group."""
        tree.require_here(guard, "account-group")
        with self._uow() as uow:
            scope = tree.list_scope(
                uow,
                guard,
                enterprise_id=enterprise_id,
                below_group=parent_account_group_id,
                parent=parent,
            )
            if scope is None:
                return Page([], False)
            enterprise, groups, parents = scope
            page = uow.account_groups.list(
                NodeQuery(enterprise.id, parents, include_deleted, offset, limit)
            )
            return Page([self._node(enterprise, groups, g) for g in page.items], page.has_more)

    def get(self, guard: Guard, group_id: str) -> GroupNode:
        with self._uow() as uow:
            enterprise, group = tree.load_group(uow, guard, group_id)
            return self._node(enterprise, tree.groups_by_id(uow, enterprise.id), group)

    def update(self, guard: Guard, group_id: str, body: object) -> None:
        """Name and primary contact (spec §9); strongroom also takes `parent` to move a group,
        refusing cycles, other enterprises and trees deeper than the tier limit."""
        with self._uow(write=True) as uow:
            enterprise, group = tree.load_group(uow, guard, group_id)
            data = req.body_object(body, ("name", "primary_contact_iam_id", "parent"))
            parent = None if data.get("parent") is None else req.check_parent(data["parent"])
            changes = req.check_group_changes({k: v for k, v in data.items() if k != "parent"})
            if group.state == DELETED:
                raise Conflict(f"account group `{group_id}` is deleted")
            if "primary_contact_iam_id" in changes:
                contact = known_user(
                    uow, changes["primary_contact_iam_id"], "primary_contact_iam_id"
                )
                changes["primary_contact_email"] = contact.email
            if parent is not None:
                tree.same_enterprise(parent, enterprise, f"account group `{group_id}`")
                ref = tree.resolve_parent(uow, guard, parent)
                tree.check_group_placement(
                    tree.groups_by_id(uow, enterprise.id), group_id, ref.group_id
                )
                changes["parent_group_id"] = ref.group_id
            changed = replace(
                group.changed, updated_at=self._clock.now(), updated_by=guard.principal.iam_id
            )
            uow.account_groups.update(replace(group, **changes, changed=changed))

    def delete(self, guard: Guard, group_id: str) -> None:
        """Only an empty group goes: no live groups or accounts below it. It keeps its row with
        state DELETED (`include_deleted` lists it)."""
        with self._uow(write=True) as uow:
            enterprise, group = tree.load_group(uow, guard, group_id)
            if group.state == DELETED:
                return
            children = [
                g.id
                for g in tree.live(uow.account_groups.in_enterprise(enterprise.id))
                if g.parent_group_id == group_id
            ]
            accounts = uow.enterprise_accounts.count_under(enterprise.id, group_id)
            if children or accounts:
                raise Conflict(
                    f"account group `{group_id}` still holds {len(children)} account groups and"
                    f" {accounts} accounts; move or delete them first"
                )
            changed = replace(
                group.changed, updated_at=self._clock.now(), updated_by=guard.principal.iam_id
            )
            uow.account_groups.update(replace(group, state=DELETED, changed=changed))

    @staticmethod
    def _node(
        enterprise: Enterprise, groups: dict[str, AccountGroup], group: AccountGroup
    ) -> GroupNode:
        return GroupNode(
            group=group,
            parent=tree.parent_crn(enterprise, groups, group.parent_group_id),
            path=tree.path(enterprise, groups, group.id),
        )
