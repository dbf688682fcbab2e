"""IAM Access Groups use cases (spec §5.1): groups, the account's access-group settings, and
strongroom's own federated-login record; members and rules come from group_members.py and
group_rules.py.

Every use case takes its route's `Guard`, checks it before it reads a body or an object, and
runs in one unit of work. Every write bumps the account's access revision in that unit and calls
`on_change(account_id)` after it commits (the authorizer's `invalidate`), so the next check on
this node sees it. Limits (limits.yaml; reliability.md §4, C7): 500 groups per account, 50
groups per member, 5 rules per group, each counted after the revision bump that locks the
account, so concurrent creates never pass it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from strongroom import ids
from strongroom.access import group_requests as req
from strongroom.access.group_base import GroupBase, not_found, public_group
from strongroom.access.group_members import MemberOps
from strongroom.access.group_models import (
    PUBLIC_ACCESS,
    PUBLIC_ACCESS_NAME,
    AccessGroup,
    FederatedLogin,
    GroupSettings,
)
from strongroom.access.group_rules import RuleOps
from strongroom.access.memberships import load_memberships
from strongroom.authz import Guard
from strongroom.errors import Conflict, Invalid, PreconditionFailed, QuotaExceeded
from strongroom.identity.requests import check_if_match

MAX_LIMIT = 100
SORTS = ("id", "name", "description", "is_federated")
SEARCH_FIELDS = ("id", "name", "description")
MEMBERSHIP_TYPES = ("static", "dynamic", "all")


@dataclass(frozen=True, slots=True)
class GroupQuery:
    """`GET /v2/groups` parameters (spec §5.1)."""

    account_id: str | None
    iam_id: str | None = None
    search: str | None = None
    membership_type: str | None = None
    limit: int = 50
    offset: int = 0
    sort: str | None = None
    hide_public_access: bool = False


@dataclass(frozen=True, slots=True)
class ListedGroup:
    group: AccessGroup
    is_federated: bool  # the group has dynamic rules


@dataclass(frozen=True, slots=True)
class GroupPage:
    items: list[ListedGroup]
    total: int


class GroupService(MemberOps, RuleOps, GroupBase):
    # -- groups ---------------------------------------------------------------------------------

    def create_group(self, guard: Guard, account_id: str | None, body: Any) -> AccessGroup:
        account = self._require_account(guard, account_id)
        data = req.body_object(body)
        name = req.group_name(data.get("name"))
        description = req.group_description(data.get("description"))
        now, by = self._now(), guard.principal.iam_id
        group = AccessGroup(
            id=f"AccessGroupId-{ids.new_uuid()}",
            account_id=account,
            name=name,
            description=description,
            created_at=now,
            created_by_id=by,
            last_modified_at=now,
            last_modified_by_id=by,
            entity_tag=ids.new_entity_tag(1),
        )
        with self._uow(write=True) as uow:
            if uow.accounts.get(account) is None:
                raise Invalid(f"account `{account}` does not exist", field="account_id")
            uow.revisions.bump(account)
            most = self._limits.access_groups_per_account
            if uow.access_groups.count(account) >= most:
                raise QuotaExceeded(
                    f"account `{account}` already has {most} access groups, the most allowed"
                    " (limit `access_groups_per_account`); delete one first"
                )
            self._require_unique_name(uow, account, name)
            uow.access_groups.add(group)
        self._on_change(account)
        return group

    def list_groups(self, guard: Guard, query: GroupQuery) -> GroupPage:
        account = self._require_account(guard, query.account_id)
        if not 0 <= query.limit <= MAX_LIMIT:
            raise Invalid(f"`limit` must be between 0 and {MAX_LIMIT}", field="limit")
        if query.offset < 0:
            raise Invalid("`offset` must not be negative", field="offset")
        if query.membership_type is not None and query.iam_id is None:
            raise Invalid("`membership_type` needs `iam_id`", field="membership_type")
        membership = query.membership_type or "static"
        if membership not in MEMBERSHIP_TYPES:
            raise Invalid(
                f"`membership_type` must be one of {', '.join(MEMBERSHIP_TYPES)}",
                field="membership_type",
            )
        sort, descending = _sort(query.sort)
        search = _search(query.search)
        with self._uow() as uow:
            groups = list(uow.access_groups.in_account(account))
            federated = {r.group_id for r in uow.group_rules.in_account(account)}
            public_on = uow.group_settings.get(account).public_access_enabled
            if not query.hide_public_access:
                groups.append(public_group(uow, account))
            if query.iam_id is not None:
                wanted = self._groups_of(uow, account, query.iam_id, membership, public_on)
                groups = [g for g in groups if g.id in wanted]
        listed = [
            ListedGroup(g, g.id in federated)
            for g in groups
            if search is None or search[1] in str(getattr(g, search[0])).casefold()
        ]
        listed.sort(key=lambda item: _sort_key(item, sort), reverse=descending)
        return GroupPage(listed[query.offset : query.offset + query.limit], len(listed))

    def _groups_of(
        self, uow: Any, account: str, iam_id: str, membership: str, public_on: bool
    ) -> set[str]:
        found: set[str] = set()
        if membership in ("static", "all"):
            found |= {m.group_id for m in uow.group_members.of_iam_id(account, iam_id)}
            if public_on:
                found.add(PUBLIC_ACCESS)
        if membership in ("dynamic", "all"):
            snapshot = load_memberships(uow, account)
            now = self._now()
            found |= {g for g, expires in snapshot.dynamic.get(iam_id, ()) if expires > now}
        return found

    def get_group(self, guard: Guard, group_id: str) -> ListedGroup:
        with self._uow() as uow:
            group = self._load(uow, guard, group_id)
            federated = bool(uow.group_rules.of_group(group.id))
        return ListedGroup(group, federated)

    def update_group(
        self, guard: Guard, group_id: str, if_match: str | None, body: Any
    ) -> AccessGroup:
        with self._uow(write=True) as uow:
            current = self._load(uow, guard, group_id)
            check_if_match(if_match, current.entity_tag)
            self._not_public(current, "name and description")
            data = req.body_object(body)
            name = req.group_name(data["name"]) if "name" in data else current.name
            description = (
                req.group_description(data["description"])
                if "description" in data
                else current.description
            )
            uow.revisions.bump(current.account_id)
            if name.casefold() != current.name.casefold():
                self._require_unique_name(uow, current.account_id, name)
            updated = replace(
                current,
                name=name,
                description=description,
                last_modified_at=self._now(),
                last_modified_by_id=guard.principal.iam_id,
                entity_tag=ids.new_entity_tag(ids.entity_tag_version(current.entity_tag) + 1),
            )
            if not uow.access_groups.update(updated, expected_tag=current.entity_tag):
                raise PreconditionFailed(
                    f"access group `{group_id}` changed meanwhile; read it again"
                )
        self._on_change(current.account_id)
        return updated

    def delete_group(self, guard: Guard, group_id: str, force: bool) -> None:
        """Spec §5.1: a group with members or rules goes only with `force=true`, which also
        removes them and deletes the group's policies."""
        with self._uow(write=True) as uow:
            group = self._load(uow, guard, group_id)
            if group.id == PUBLIC_ACCESS:
                raise Invalid("the Public Access group cannot be deleted", field="access_group_id")
            uow.revisions.bump(group.account_id)
            members = uow.group_members.of_group(group.id)
            rules = uow.group_rules.of_group(group.id)
            if (members or rules) and not force:
                raise Conflict(
                    f"access group `{group_id}` has {len(members)} members and {len(rules)}"
                    " rules; delete it with `force=true` to remove them too"
                )
            uow.group_members.delete_group(group.id)
            uow.group_rules.delete_group(group.id)
            self._delete_policies_of(uow, group.account_id, group.id, guard.principal.iam_id)
            uow.access_groups.delete(group.id)
        self._on_change(group.account_id)

    @staticmethod
    def _require_unique_name(uow: Any, account: str, name: str) -> None:
        folded = name.casefold()
        taken = folded == PUBLIC_ACCESS_NAME.casefold() or any(
            g.name.casefold() == folded for g in uow.access_groups.in_account(account)
        )
        if taken:
            raise Conflict(f"an access group named `{name}` already exists in the account")

    # -- settings -------------------------------------------------------------------------------

    def get_settings(self, guard: Guard, account_id: str | None) -> GroupSettings:
        account = self._require_account(guard, account_id)
        with self._uow() as uow:
            return uow.group_settings.get(account)

    def update_settings(self, guard: Guard, account_id: str | None, body: Any) -> GroupSettings:
        """`public_access_enabled=false` also deletes every policy on the Public Access group."""
        account = self._require_account(guard, account_id)
        data = req.body_object(body)
        enabled = data.get("public_access_enabled")
        if enabled is not None and not isinstance(enabled, bool):
            raise Invalid(
                "`public_access_enabled` must be true or false", field="public_access_enabled"
            )
        if enabled is None:
            return self.get_settings(guard, account)
        updated = GroupSettings(account, enabled, self._now(), guard.principal.iam_id)
        with self._uow(write=True) as uow:
            if uow.accounts.get(account) is None:
                raise not_found(f"account `{account}` not found", "account", account)
            uow.revisions.bump(account)
            uow.group_settings.put(updated)
            if not enabled:
                self._delete_policies_of(uow, account, PUBLIC_ACCESS, guard.principal.iam_id)
        self._on_change(account)
        return updated

    # -- federated logins (strongroom's own endpoint, not IBM's) --------------------------------

    def record_login(self, guard: Guard, account_id: str | None, body: Any) -> None:
        """An identity-provider bridge reports a user's login and the claims it asserted; the
        account's dynamic rules of that realm then decide the user's groups (memberships.py)."""
        account = self._require_account(guard, account_id)
        spec = req.login_spec(body)
        now = self._now()
        with self._uow(write=True) as uow:
            if uow.accounts.get(account) is None:
                raise not_found(f"account `{account}` not found", "account", account)
            uow.revisions.bump(account)
            uow.federated_logins.put(
                FederatedLogin(account, spec.iam_id, spec.realm_name, spec.claims, now)
            )
            # No rule lasts longer than this: older logins can no longer make anyone a member.
            uow.federated_logins.delete_before(account, now - timedelta(hours=req.MAX_EXPIRATION))
        self._on_change(account)


def _sort(value: str | None) -> tuple[str, bool]:
    if value is None:
        return "name", False
    descending = value.startswith("-")
    field = value.removeprefix("-")
    if field not in SORTS:
        raise Invalid(f"`sort` must be one of {', '.join(SORTS)}", field="sort")
    return field, descending


def _sort_key(item: ListedGroup, field: str) -> tuple[Any, ...]:
    if field == "is_federated":
        return (item.is_federated, item.group.name.casefold(), item.group.id)
    return (str(getattr(item.group, field)).casefold(), item.group.id)


def _search(value: str | None) -> tuple[str, str] | None:
    """`search=name:<text>` (also `id:`, `description:`): the field contains the text, ignoring
    case; a bare text searches names."""
    if value is None or value == "":
        return None
    field, sep, text = value.partition(":")
    if sep and field in SEARCH_FIELDS:
        return field, text.casefold()
    return "name", value.casefold()
