"""Access group members (spec §5.1): add (207, one outcome per member), check, list, remove
one, remove several (207), and the `_allgroups` pair: one iam_id into or out of many groups.

A member need not exist (IBM's own test adds a random `IBMid-<n>`), but its iam_id must be well
formed for its type. Members of the Public Access group are implicit: everyone in the account.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from strongroom.access import group_requests as req
from strongroom.access.group_base import GroupBase, group_missing, not_found
from strongroom.access.group_models import PUBLIC_ACCESS, AccessGroup, GroupMember
from strongroom.access.memberships import load_memberships
from strongroom.authz import Guard
from strongroom.errors import Invalid, QuotaExceeded
from strongroom.store.ports import UnitOfWork

MEMBER_SORTS = ("iam_id", "name", "email")


@dataclass(frozen=True, slots=True)
class Outcome:
    """One item of a 207 answer: a member (or a group) and what happened to it."""

    iam_id: str
    status: int
    group_id: str = ""
    type: str = ""
    created_at: datetime | None = None
    created_by_id: str = ""
    error_code: str = ""
    error: str = ""


@dataclass(frozen=True, slots=True)
class MemberQuery:
    membership_type: str | None = None
    type: str | None = None
    verbose: bool = False
    sort: str | None = None
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True, slots=True)
class ListedMember:
    iam_id: str
    type: str
    membership_type: str  # static | dynamic
    created_at: datetime | None
    created_by_id: str
    name: str = ""
    email: str = ""
    description: str = ""


class MemberOps(GroupBase):
    def add_members(self, guard: Guard, group_id: str, body: Any) -> list[Outcome]:
        with self._uow(write=True) as uow:
            group = self._load(uow, guard, group_id)
            self._not_public(group, "members")
            wanted = req.members_to_add(body)
            uow.revisions.bump(group.account_id)
            outcomes = [self._join(uow, guard, group, iam_id, kind) for iam_id, kind in wanted]
        self._on_change(group.account_id)
        return outcomes

    def _join(
        self, uow: UnitOfWork, guard: Guard, group: AccessGroup, iam_id: str, kind: str
    ) -> Outcome:
        existing = uow.group_members.get(group.id, iam_id)
        if existing is None:
            _require_room(uow, group.account_id, iam_id, self._limits.access_groups_per_member)
            existing = GroupMember(
                group.id, group.account_id, iam_id, kind, self._now(), guard.principal.iam_id
            )
            uow.group_members.add(existing)
        return Outcome(
            iam_id=iam_id,
            status=200,
            group_id=group.id,
            type=existing.type,
            created_at=existing.created_at,
            created_by_id=existing.created_by_id,
        )

    def is_member(self, guard: Guard, group_id: str, iam_id: str) -> bool:
        with self._uow() as uow:
            group = self._load(uow, guard, group_id)
            snapshot = load_memberships(uow, group.account_id)
        return group.id in snapshot.groups_of(iam_id, self._now())

    def list_members(
        self, guard: Guard, group_id: str, query: MemberQuery
    ) -> tuple[list[ListedMember], int]:
        membership = query.membership_type or "static"
        with self._uow() as uow:
            group = self._load(uow, guard, group_id)
            if membership not in ("static", "dynamic", "all"):
                raise Invalid(
                    "`membership_type` must be one of static, dynamic, all",
                    field="membership_type",
                )
            if query.type is not None:
                req.member_type(query.type, "type")
            if not 0 <= query.limit <= 100 or query.offset < 0:
                raise Invalid("`limit` is 0-100 and `offset` not negative", field="limit")
            if query.sort is not None and query.sort not in MEMBER_SORTS:
                raise Invalid(f"`sort` must be one of {', '.join(MEMBER_SORTS)}", field="sort")
            found: dict[str, ListedMember] = {}
            if membership in ("static", "all"):
                for m in uow.group_members.of_group(group.id):
                    found[m.iam_id] = ListedMember(
                        m.iam_id, m.type, "static", m.created_at, m.created_by_id
                    )
            if membership in ("dynamic", "all"):
                snapshot = load_memberships(uow, group.account_id)
                for iam_id in snapshot.dynamic_members(group.id, self._now()):
                    found.setdefault(iam_id, ListedMember(iam_id, "user", "dynamic", None, ""))
            members = [m for m in found.values() if query.type in (None, m.type)]
            if query.verbose:
                members = [_described(uow, m) for m in members]
        key = query.sort or "iam_id"
        members.sort(key=lambda m: (str(getattr(m, key)).casefold(), m.iam_id))
        return members[query.offset : query.offset + query.limit], len(members)

    def remove_member(self, guard: Guard, group_id: str, iam_id: str) -> None:
        with self._uow(write=True) as uow:
            group = self._load(uow, guard, group_id)
            self._not_public(group, "members")
            uow.revisions.bump(group.account_id)
            if not uow.group_members.delete(group.id, iam_id):
                raise not_found(
                    f"`{iam_id}` is not a member of access group `{group_id}`", "member", iam_id
                )
        self._on_change(group.account_id)

    def remove_members(self, guard: Guard, group_id: str, body: Any) -> list[Outcome]:
        with self._uow(write=True) as uow:
            group = self._load(uow, guard, group_id)
            self._not_public(group, "members")
            wanted = req.members_to_remove(body)
            uow.revisions.bump(group.account_id)
            outcomes = [
                Outcome(iam_id, 200, group.id)
                if uow.group_members.delete(group.id, iam_id)
                else _absent(iam_id, group.id)
                for iam_id in wanted
            ]
            if not any(o.status == 200 for o in outcomes):
                raise not_found(
                    f"none of the given members is in access group `{group_id}`",
                    "access group",
                    group_id,
                )
        self._on_change(group.account_id)
        return outcomes

    def remove_from_all(self, guard: Guard, account_id: str | None, iam_id: str) -> list[Outcome]:
        account = self._require_account(guard, account_id)
        with self._uow(write=True) as uow:
            uow.revisions.bump(account)
            memberships = uow.group_members.of_iam_id(account, iam_id)
            if not memberships:
                raise not_found(
                    f"`{iam_id}` is not a member of any access group in account `{account}`",
                    "member",
                    iam_id,
                )
            for m in memberships:
                uow.group_members.delete(m.group_id, iam_id)
        self._on_change(account)
        return [Outcome(iam_id, 200, m.group_id) for m in memberships]

    def add_to_groups(
        self, guard: Guard, account_id: str | None, iam_id: str, body: Any
    ) -> list[Outcome]:
        account = self._require_account(guard, account_id)
        kind, group_ids = req.groups_to_join(body)
        req.iam_id_of(iam_id, kind, "iam_id")
        with self._uow(write=True) as uow:
            uow.revisions.bump(account)
            outcomes = []
            for group_id in group_ids:
                group = uow.access_groups.get(group_id)
                if group_id == PUBLIC_ACCESS:
                    message = "the Public Access group's members are implicit"
                    outcomes.append(
                        Outcome(iam_id, 400, group_id, error_code="invalid_request", error=message)
                    )
                elif group is None or group.account_id != account:
                    missing = group_missing(group_id)
                    outcomes.append(
                        Outcome(
                            iam_id, 404, group_id, error_code=missing.code, error=missing.message
                        )
                    )
                else:
                    try:
                        outcomes.append(self._join(uow, guard, group, iam_id, kind))
                    except QuotaExceeded as full:  # this group only: the others still join
                        outcomes.append(
                            Outcome(iam_id, 422, group_id, error_code=full.code, error=full.message)
                        )
        self._on_change(account)
        return outcomes


def _require_room(uow: UnitOfWork, account_id: str, iam_id: str, most: int) -> None:
    """One more group for `iam_id` stays within `access_groups_per_member` (limits.yaml); the
    caller has bumped the account's revision, whose row lock serialises this count (C7)."""
    if len(uow.group_members.of_iam_id(account_id, iam_id)) >= most:
        raise QuotaExceeded(
            f"`{iam_id}` is already in {most} access groups of account `{account_id}`, the most"
            " allowed (limit `access_groups_per_member`); remove it from one first"
        )


def join_groups(
    uow: UnitOfWork,
    account_id: str,
    iam_id: str,
    group_ids: list[str],
    actor: str,
    now: datetime,
    most: int,
) -> None:
    """Add a new user to the account's access groups, inside the caller's unit of work (which
    bumps the revision and has authorized the actor): User Management's invitation with
    `access_groups` (spec §10). A group that is not the account's refuses the whole invitation,
    as does one past `most` groups per member."""
    for i, group_id in enumerate(group_ids):
        group = uow.access_groups.get(group_id)
        if group_id == PUBLIC_ACCESS or group is None or group.account_id != account_id:
            raise Invalid(
                f"`{group_id}` is not an access group of account `{account_id}` that takes members",
                field=f"access_groups[{i}]",
            )
        if uow.group_members.get(group_id, iam_id) is None:
            _require_room(uow, account_id, iam_id, most)
            uow.group_members.add(GroupMember(group_id, account_id, iam_id, "user", now, actor))


def leave_all_groups(uow: UnitOfWork, account_id: str, iam_id: str) -> None:
    """Drop every static membership of `iam_id` in the account, inside the caller's unit of work
    (which bumps the revision): a deleted profile or a removed user keeps no group's access."""
    for membership in uow.group_members.of_iam_id(account_id, iam_id):
        uow.group_members.delete(membership.group_id, iam_id)


def _absent(iam_id: str, group_id: str) -> Outcome:
    message = f"`{iam_id}` is not a member of access group `{group_id}`"
    return Outcome(iam_id, 404, group_id, error_code="not_found", error=message)


def _described(uow: UnitOfWork, member: ListedMember) -> ListedMember:
    """`verbose=true`: names (and a user's e-mail) where this server knows the identity."""
    if member.type == "user":
        user = uow.users.get(member.iam_id)
        if user is not None:
            return replace(member, name=user.name, email=user.email)
    elif member.type == "service":
        sid = uow.service_ids.get_by_iam_id(member.iam_id)
        if sid is not None:
            return replace(member, name=sid.name, description=sid.description)
    elif member.type == "profile":
        profile = uow.profiles.get_by_iam_id(member.iam_id)
        if profile is not None:
            return replace(member, name=profile.name, description=profile.description)
    return member
