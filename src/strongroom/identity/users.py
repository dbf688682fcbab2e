"""User Management use cases (spec §10): invite, accept, list, profile, settings, remove.

Each use case checks its route's action against the user resource first, then runs in one unit
of work. Every change to a membership bumps the account's access revision in that unit of work
and calls `on_change` after it commits, so the authorizer's per-revision member list (which
lets only ACTIVE members act) is current at the next check on this node.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from strongroom import ids
from strongroom.access.policies import PolicyService
from strongroom.authz import Guard, Resource
from strongroom.clock import Clock
from strongroom.errors import Conflict, Forbidden, Invalid, NotFound
from strongroom.identity.models import AccountRole, Membership, User
from strongroom.identity.user_models import (
    INVITED_STATES,
    AccountUser,
    MemberState,
    UserProfile,
)
from strongroom.identity.user_requests import (
    check_invitation,
    check_profile_changes,
    check_settings_changes,
    parse_search,
    policy_document,
)
from strongroom.store.ports import ListQuery, PolicyQuery, UnitOfWork, UnitOfWorkFactory

SERVICE = "user-management"
POLICY_CREATE = "iam-access-management.policies.create"
SCAN = 10_000  # an account's policies or keys of one user, read at once when removing them

# Hooks for access groups (branch `groups`), wired in bootstrap; both run inside the unit of work.
AddToGroups = Callable[[UnitOfWork, str, str, list[str], str], None]
OnUserRemoved = Callable[[UnitOfWork, str, str], None]


@dataclass(frozen=True, slots=True)
class Invited:
    email: str
    iam_id: str
    state: str


@dataclass(frozen=True, slots=True)
class UserPage:
    users: Sequence[AccountUser]
    total: int


def _missing(iam_id: str) -> NotFound:
    return NotFound("user", iam_id)


GROUP_MEMBERS_ADD = "iam-groups.members.add"


class UserService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        policies: PolicyService,
        *,
        on_change: Callable[[str], None],
        add_to_groups: AddToGroups | None = None,
        on_user_removed: Sequence[OnUserRemoved] = (),
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._policies = policies
        self._on_change = on_change
        self._add_to_groups = add_to_groups
        self._on_user_removed = tuple(on_user_removed)

    # -- invitations ------------------------------------------------------------------------------

    def invite(self, guard: Guard, account_id: str, body: object) -> list[Invited]:
        guard.require(
            Resource(account_id, SERVICE, "user"), missing=NotFound("account", account_id)
        )
        if not guard.principal.iam_id.startswith("IBMid-"):
            # Spec §10: invitations need a user's token; service IDs and profiles cannot invite.
            raise Forbidden(f"`{guard.principal.iam_id}` is not a user; only users invite users")
        invitation = check_invitation(body)
        if invitation.access_groups and self._add_to_groups is None:
            raise Invalid("this server has no access groups to add users to", field="access_groups")
        now = self._clock.now()
        actor = guard.principal.iam_id
        invited: list[Invited] = []
        with self._uow(write=True) as uow:
            if uow.accounts.get(account_id) is None:
                raise NotFound("account", account_id)
            for email in invitation.emails:
                user = uow.account_users.user_by_email(email)
                if user is None:
                    given, _, family = email.partition("@")[0].partition(".")
                    user = User(ids.new_user_iam_id(), email, given.title(), family.title(), now)
                    uow.users.add(user)
                elif uow.users.membership(account_id, user.iam_id) is not None:
                    raise Conflict(f"`{email}` is already a user of account `{account_id}`")
                # No e-mail to send: processing ends in this request, the user is PENDING.
                state = MemberState.PENDING.value
                membership = Membership(account_id, user.iam_id, AccountRole.MEMBER, now, state)
                uow.users.add_membership(membership)
                profile = replace(UserProfile.default_for(user, membership), invited_by=actor)
                uow.account_users.put_profile(profile)
                policy_guard = guard.with_action(POLICY_CREATE)
                for policy in invitation.policies:
                    document = policy_document(policy, user.iam_id, account_id)
                    self._policies.add_in(uow, policy_guard, document, "v1")
                if invitation.access_groups and self._add_to_groups is not None:
                    groups = list(invitation.access_groups)
                    # Adding members to a group is the groups' own action: the inviter needs it
                    # on each group, as if adding the user there by hand.
                    member_guard = guard.with_action(GROUP_MEMBERS_ADD)
                    for group_id in groups:
                        member_guard.require(
                            Resource(account_id, "iam-groups", "access-group", group_id)
                        )
                    self._add_to_groups(uow, account_id, user.iam_id, groups, actor)
                invited.append(Invited(email, user.iam_id, MemberState.PROCESSING.value))
            uow.revisions.bump(account_id)
        self._on_change(account_id)
        return invited

    def accept(self, guard: Guard, body: object) -> None:
        """`POST /v2/users/accept` with the invited user's own token."""
        account_id = body.get("account_id") if isinstance(body, dict) else None
        me = guard.principal.iam_id
        target = account_id if isinstance(account_id, str) else guard.principal.account_id
        missing = NotFound("invitation to account", target)
        guard.require(Resource(target, SERVICE, "user", me), missing=missing)
        if not isinstance(account_id, str) or not account_id:
            raise Invalid(
                "`account_id` names the account whose invitation to accept", field="account_id"
            )
        with self._uow(write=True) as uow:
            membership = uow.users.membership(account_id, me)
            if membership is None:
                raise missing
            if membership.state not in INVITED_STATES:
                return  # already accepted: nothing to do
            uow.account_users.set_state(account_id, me, MemberState.ACTIVE.value)
            uow.revisions.bump(account_id)
        self._on_change(account_id)

    # -- reading ----------------------------------------------------------------------------------

    def list_users(
        self,
        guard: Guard,
        account_id: str,
        *,
        offset: int,
        limit: int,
        search: str | None = None,
        user_id: str | None = None,
    ) -> UserPage:
        guard.require(
            Resource(account_id, SERVICE, "user"), missing=NotFound("account", account_id)
        )
        matches = parse_search(search)
        with self._uow() as uow:
            users = [self._view(uow, m) for m in uow.account_users.memberships(account_id)]
        kept = [
            u
            for u in users
            if u is not None
            and (matches is None or matches(u))
            and (user_id is None or u.profile.user_id == user_id)
        ]
        return UserPage(kept[offset : offset + limit], len(kept))

    def get(self, guard: Guard, account_id: str, iam_id: str) -> AccountUser:
        self._require(guard, account_id, iam_id)
        with self._uow() as uow:
            return self._load(uow, account_id, iam_id)

    # -- changes ----------------------------------------------------------------------------------

    def update_profile(self, guard: Guard, account_id: str, iam_id: str, body: object) -> None:
        self._require(guard, account_id, iam_id)
        changes = check_profile_changes(body)
        state = changes.pop("state", None)
        with self._uow(write=True) as uow:
            current = self._load(uow, account_id, iam_id)
            if state is not None and state != current.state:
                if current.membership.role is AccountRole.OWNER:
                    raise Conflict("the account owner's state cannot change")
                if current.state in INVITED_STATES:
                    raise Conflict(f"`{iam_id}` has not accepted the invitation yet")
                uow.account_users.set_state(account_id, iam_id, state)
                uow.revisions.bump(account_id)
            uow.account_users.put_profile(replace(current.profile, **changes))
        if state is not None:
            self._on_change(account_id)

    def update_settings(self, guard: Guard, account_id: str, iam_id: str, body: object) -> None:
        self._require(guard, account_id, iam_id)
        changes = check_settings_changes(body)
        with self._uow(write=True) as uow:
            profile = self._load(uow, account_id, iam_id).profile
            settings = replace(profile.settings, **changes)
            uow.account_users.put_profile(replace(profile, settings=settings))

    def remove(self, guard: Guard, account_id: str, iam_id: str) -> None:
        """The user leaves the account with their policies and API keys in it; they lose access
        at their next request (the authorizer's member list) and get no new token."""
        self._require(guard, account_id, iam_id)
        with self._uow(write=True) as uow:
            current = self._load(uow, account_id, iam_id)
            if current.membership.role is AccountRole.OWNER:
                raise Conflict(f"`{iam_id}` owns account `{account_id}` and cannot be removed")
            query = PolicyQuery(account_id=account_id, iam_id=iam_id, state=None, limit=SCAN)
            for policy in uow.policies.list(query).items:
                uow.policies.delete(policy.id)
            keys = uow.api_keys.list(ListQuery(account_id=account_id, iam_id=iam_id, limit=SCAN))
            for key in keys.items:
                uow.api_keys.delete(key.id)
            for hook in self._on_user_removed:
                hook(uow, account_id, iam_id)
            uow.account_users.remove(account_id, iam_id)
            uow.revisions.bump(account_id)
        self._on_change(account_id)

    # -- helpers ----------------------------------------------------------------------------------

    @staticmethod
    def _require(guard: Guard, account_id: str, iam_id: str) -> None:
        guard.require(Resource(account_id, SERVICE, "user", iam_id), missing=_missing(iam_id))

    def _load(self, uow: UnitOfWork, account_id: str, iam_id: str) -> AccountUser:
        membership = uow.users.membership(account_id, iam_id)
        found = None if membership is None else self._view(uow, membership)
        if found is None:
            raise _missing(iam_id)
        return found

    @staticmethod
    def _view(uow: UnitOfWork, membership: Membership) -> AccountUser | None:
        user = uow.users.get(membership.iam_id)
        if user is None:
            return None
        profile = uow.account_users.profile(membership.account_id, membership.iam_id)
        return AccountUser(user, membership, profile or UserProfile.default_for(user, membership))
