"""What the IAM Access Groups use cases share: loading a group the caller may act on (the
built-in Public Access group included), the account-level resource, and who/when stamps.

Guard checks run inside the unit of work but before its first write (and before the revision
bump): the authorizer then reads, and may cache, only committed state.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from strongroom import ids
from strongroom.access.group_models import PUBLIC_ACCESS, PUBLIC_ACCESS_NAME, AccessGroup
from strongroom.authz import Guard, Resource
from strongroom.clock import Clock
from strongroom.errors import Invalid, NotFound
from strongroom.limits import Limits, load_limits
from strongroom.store.ports import PolicyQuery, UnitOfWork, UnitOfWorkFactory

SERVICE = "iam-groups"
RESOURCE_TYPE = "access-group"
PUBLIC_DESCRIPTION = "everyone in the account; policies on this group apply to every identity"

OnChange = Callable[[str], None]


def not_found(message: str, kind: str, ident: str) -> NotFound:
    """A 404 whose message says more than "`x` not found" (IBM's tests look for the id in it)."""
    error = NotFound(kind, ident)
    error.message = message
    return error


def group_missing(group_id: str) -> NotFound:
    return NotFound("access group", group_id)


def public_group(uow: UnitOfWork, account_id: str) -> AccessGroup:
    """The built-in group, the same in every account; it is not stored."""
    account = uow.accounts.get(account_id)
    if account is None:
        raise group_missing(PUBLIC_ACCESS)
    tag = hashlib.sha256(f"{account_id}/{PUBLIC_ACCESS}".encode()).hexdigest()[:32]
    return AccessGroup(
        id=PUBLIC_ACCESS,
        account_id=account_id,
        name=PUBLIC_ACCESS_NAME,
        description=PUBLIC_DESCRIPTION,
        created_at=account.created_at,
        created_by_id=account.owner_iam_id,
        last_modified_at=account.created_at,
        last_modified_by_id=account.owner_iam_id,
        entity_tag=f"1-{tag}",
    )


class GroupBase:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        on_change: OnChange,
        limits: Limits | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        # Groups per account, groups per member, rules per group (limits.yaml). Each is counted
        # after the revision bump, whose row lock serialises the account's writers (C7).
        self._limits = limits or load_limits()
        # After a commit: the authorizer drops the account's cached policies and memberships.
        self._on_change = on_change

    @staticmethod
    def _require_account(guard: Guard, account_id: str | None) -> str:
        """Account-level operations: the guard first (on the caller's account when none is
        named, so a caller that may not act learns nothing), then the parameter itself."""
        guard.require(Resource(account_id or guard.principal.account_id, SERVICE, RESOURCE_TYPE))
        if not account_id:
            raise Invalid(
                "the query parameter `account_id` is required",
                field="account_id",
                code="missing_required_query_parameter",
            )
        return account_id

    @staticmethod
    def _load(uow: UnitOfWork, guard: Guard, group_id: str) -> AccessGroup:
        """The group if the caller may act on it; another account's group answers as missing,
        and so does an unknown id once the caller's own access was checked."""
        if group_id == PUBLIC_ACCESS:
            account = guard.principal.account_id
            guard.require(Resource(account, SERVICE, RESOURCE_TYPE, PUBLIC_ACCESS))
            return public_group(uow, account)
        found = uow.access_groups.get(group_id)
        missing = group_missing(group_id)
        if found is None:
            guard.require(Resource(guard.principal.account_id, SERVICE, RESOURCE_TYPE, group_id))
            raise missing
        resource = Resource(found.account_id, SERVICE, RESOURCE_TYPE, found.id)
        guard.require(resource, missing=missing)
        return found

    @staticmethod
    def _not_public(group: AccessGroup, what: str) -> None:
        if group.id == PUBLIC_ACCESS:
            raise Invalid(
                f"the Public Access group's {what} cannot be changed: every identity in the"
                " account is implicitly its member",
                field="access_group_id",
            )

    def _now(self) -> datetime:
        return self._clock.now()

    def _delete_policies_of(self, uow: UnitOfWork, account_id: str, group_id: str, by: str) -> int:
        """Delete (state `deleted`, as Policy Management does) every active policy whose
        subject is the group."""
        now = self._now()
        deleted = 0
        query = PolicyQuery(account_id=account_id, access_group_id=group_id, limit=500)
        while items := uow.policies.list(query).items:
            before = deleted
            for policy in items:
                version = ids.entity_tag_version(policy.entity_tag) + 1
                gone = replace(
                    policy,
                    state="deleted",
                    last_modified_at=now,
                    last_modified_by_id=by,
                    entity_tag=ids.new_entity_tag(version),
                )
                deleted += uow.policies.update(gone, expected_tag=policy.entity_tag)
            if deleted == before:
                break  # nothing could change: never spin
        return deleted
