"""The Authorizer seam: every route's declared IAM action is checked here, against a resource.

Call sites hold a `Guard` (principal + the route's action + an Authorizer) and call
`guard.require(resource)` once they know which resource is touched. Which Authorizer sits
behind the guard is chosen in `bootstrap`; call sites do not change when it does.

`LocalAuthorizer` decides with the policy engine in process. It keeps each account's compiled
policy set, and the account's access-group memberships (access/memberships.py), keyed by the
account's access revision:
- a change made through this node invalidates the entry at once (`invalidate`, called after the
  change commits), so a check after an acknowledged write on the same node sees it;
- a change made through another node is seen, in *strong* mode, at the next check (each check
  reads the stored revision, one indexed read); in *cached* mode when a change notice arrives
  (`invalidate`, from the PostgreSQL listener, store/sql/notify.py) or when the entry is next
  revalidated against the stored revision, at most `max_staleness` seconds later
  (docs/architecture.md, "Consistency"; docs/deployment.md).

The entries form an LRU of at most `max_accounts` accounts, so a node serving many accounts
holds the busiest ones and recompiles the others when they come back.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from strongroom.access.memberships import MembershipSnapshot, load_memberships
from strongroom.access.records import custom_role_model, to_model
from strongroom.audit import context as audit_context
from strongroom.clock import Clock
from strongroom.errors import Forbidden, NotFound
from strongroom.identity.user_models import INVITED_STATES, MemberState
from strongroom.policy import (
    Catalog,
    PolicySet,
    Request,
    Subject,
    compile_policies,
    decide,
    permits,
    roles_held,
)
from strongroom.store.ports import UnitOfWorkFactory
from strongroom.tokens.claims import Principal


@dataclass(frozen=True, slots=True)
class Resource:
    """What an action is done to, as the policy engine matches it (service, type, id, account)."""

    account_id: str
    service_name: str
    resource_type: str = ""
    resource: str = ""
    attributes: Mapping[str, str] = field(default_factory=dict)

    def attributes_for_policies(self) -> dict[str, str]:
        attrs = {"accountId": self.account_id}
        if self.service_name:
            attrs["serviceName"] = self.service_name
        if self.resource_type:
            attrs["resourceType"] = self.resource_type
        if self.resource:
            attrs["resource"] = self.resource
        attrs.update(self.attributes)
        return attrs


@dataclass(frozen=True, slots=True)
class Verdict:
    permitted: bool
    reason: str = ""  # why not, for a refusal's message; empty on a permit


class Authorizer(Protocol):
    def authorize(self, principal: Principal, action: str, resource: Resource) -> Verdict: ...


# The invitee's own act (spec §10 `POST /v2/users/accept`): a member still PENDING may do this
# and nothing else; no policy is needed for it.
ACCEPT_INVITATION = "user-management.invitation.accept"
USER_PREFIX = "IBMid-"


@dataclass
class _Entry:
    revision: int
    checked: float
    policy_set: PolicySet
    memberships: MembershipSnapshot  # access groups
    # iam_id -> membership state of the account's users, read with the policies, so the
    # membership check below needs no read of its own (memberships bump the revision).
    members: Mapping[str, str] = field(default_factory=dict)


class LocalAuthorizer:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        catalog: Catalog,
        clock: Clock,
        *,
        max_staleness: float = 1.0,
        strong: bool = False,
        max_accounts: int = 4096,
    ) -> None:
        if max_accounts < 1:
            raise ValueError("the policy cache holds at least one account")
        self._uow = uow
        self._catalog = catalog
        self._clock = clock
        self._max_staleness = max_staleness
        self._strong = strong
        self._max_accounts = max_accounts
        self._cache: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        # Counts invalidations: an entry compiled while one arrived may predate the change it
        # announced, so it is stored as due for revalidation (see `_entry`).
        self._epoch = 0

    def authorize(self, principal: Principal, action: str, resource: Resource) -> Verdict:
        if principal.account_id != resource.account_id:
            # Tokens are issued for one account (claim account.bss) and act only there.
            return Verdict(False, f"the token is for account `{principal.account_id}`")
        now = self._clock.now()
        entry = self._entry(resource.account_id)
        refused = self._membership_refusal(principal, action, entry)
        if refused is not None:
            return refused
        if action == ACCEPT_INVITATION and principal.iam_id in entry.members:
            return Verdict(True, "a member accepts their own invitation (spec §10)")
        request = Request(
            subject=self._subject(principal.iam_id, entry, now),
            action=action,
            resource=resource.attributes_for_policies(),
            time=now,
        )
        # A permit carries no reason: naming every permitting policy walked and sorted them all
        # on each permitted call of every route, and only a refusal's message reads it.
        if permits(request, entry.policy_set):
            return Verdict(True)
        return Verdict(False, decide(request, entry.policy_set).reason)

    @staticmethod
    def _membership_refusal(principal: Principal, action: str, entry: _Entry) -> Verdict | None:
        """A user acts in an account only while an ACTIVE member of it: removal takes effect at
        the next check, and an invited user may only accept (spec §10)."""
        if not principal.iam_id.startswith(USER_PREFIX):
            return None
        state = entry.members.get(principal.iam_id)
        if state is None:
            return Verdict(False, f"`{principal.iam_id}` is not a member of the account")
        if state in INVITED_STATES and action != ACCEPT_INVITATION:
            return Verdict(
                False,
                f"`{principal.iam_id}` has not accepted the invitation to the account yet"
                " (`POST /v2/users/accept`)",
            )
        if state not in INVITED_STATES and state != MemberState.ACTIVE:
            return Verdict(False, f"`{principal.iam_id}` is a member in state `{state}`")
        return None

    def roles_held(self, principal: Principal, attributes: Mapping[str, str]) -> frozenset[str]:
        """The roles `principal` holds on a resource described by its attributes (same account)."""
        account = attributes.get("accountId", "")
        if principal.account_id != account:
            return frozenset()
        now = self._clock.now()
        entry = self._entry(account)
        if self._membership_refusal(principal, "", entry) is not None:
            return frozenset()
        request = Request(self._subject(principal.iam_id, entry, now), "", attributes, now)
        return roles_held(request, entry.policy_set)

    @staticmethod
    def _subject(iam_id: str, entry: _Entry, now: datetime) -> Subject:
        # Policies on an access group apply to its members (spec §5.1): the groups come from
        # the snapshot cached with the policies, so a check reads no store.
        return Subject(iam_id=iam_id, access_groups=entry.memberships.groups_of(iam_id, now))

    def access_of(self, account_id: str) -> tuple[PolicySet, MembershipSnapshot]:
        """The account's compiled policies and access-group memberships, of one revision."""
        entry = self._entry(account_id)
        return entry.policy_set, entry.memberships

    def is_fresh(self, account_id: str) -> bool:
        """Whether a check in this account can be answered without reading the store: its
        compiled set is held and, in cached mode, was revalidated within the staleness bound.
        In strong mode every check reads the stored revision, so never."""
        if self._strong:
            return False
        entry = self._cache.get(account_id)
        return entry is not None and time.monotonic() - entry.checked < self._max_staleness

    def invalidate(self, account_id: str) -> None:
        """Drop an account's compiled set (call after a change to its access has committed)."""
        with self._lock:
            self._epoch += 1
            self._cache.pop(account_id, None)

    def invalidate_all(self) -> None:
        """Drop every compiled set (change notices may have been missed: a listener reconnected)."""
        with self._lock:
            self._epoch += 1
            self._cache.clear()

    def cached_accounts(self) -> list[str]:
        """The accounts whose compiled sets are held, least recently used first."""
        with self._lock:
            return list(self._cache)

    def _entry(self, account_id: str) -> _Entry:
        entry = self._cache.get(account_id)
        now = time.monotonic()
        if entry is not None:
            with self._lock:
                if account_id in self._cache:
                    self._cache.move_to_end(account_id)  # most recently used
            if not self._strong and now - entry.checked < self._max_staleness:
                return entry
        epoch = self._epoch
        with self._uow() as uow:
            revision = uow.revisions.current(account_id)
            if entry is not None and entry.revision == revision:
                entry.checked = now
                return entry
            # Read after the revision: a change committing in between is compiled in and makes
            # the next check recompile once more, never the other way round.
            policies = [to_model(p) for p in uow.policies.active_in(account_id)]
            roles = [custom_role_model(r) for r in uow.roles.list(account_id)]
            memberships = load_memberships(uow, account_id)
            members = dict(uow.account_users.member_states(account_id))
        compiled = compile_policies(policies, self._catalog, roles)
        fresh = _Entry(revision, now, compiled, memberships, members)
        with self._lock:
            if self._epoch != epoch:
                # A change notice arrived while this was read: it may announce a revision newer
                # than `revision`, so the next check reads the stored revision again.
                fresh.checked = float("-inf")
            self._cache[account_id] = fresh
            self._cache.move_to_end(account_id)
            while len(self._cache) > self._max_accounts:
                self._cache.popitem(last=False)  # the least recently used account
        return fresh


class Guard:
    """One route's authorization: who is calling, with which declared action."""

    def __init__(
        self,
        principal: Principal,
        action: str,
        authorizer: Authorizer,
        *,
        source: str | None = None,
    ) -> None:
        self.principal = principal
        self.action = action
        self._authorizer = authorizer
        # The request's client address, for rules that depend on it (Key Protect's allowedIP
        # instance policy, kms/scope.py); None when the call does not come over a network.
        self.source = source

    def with_action(self, action: str) -> Guard:
        """The same caller, checked for another action the use case also performs (an
        invitation that grants policies asks `iam-access-management.policies.create` too)."""
        return Guard(self.principal, action, self._authorizer, source=self.source)

    def in_account(self, account_id: str) -> Guard:
        """The same identity and action, decided by another account's policies and membership:
        that account's consent to an act that reaches into it from outside (importing it into
        an enterprise, spec §9). Only a use case asks this; a token still acts in its own
        account alone."""
        return Guard(
            replace(self.principal, account_id=account_id),
            self.action,
            self._authorizer,
            source=self.source,
        )

    def require(self, resource: Resource, *, missing: NotFound | None = None) -> None:
        """Raise unless permitted. An object addressed by id in another account answers exactly
        as a missing one would (`missing`), so existence elsewhere is never disclosed."""
        # The audit event names what was asked on what (reliability.md A3: target.id a CRN).
        record = audit_context.active()
        if record is not None:
            record.note_target(self.action, resource)
        verdict = self._authorizer.authorize(self.principal, self.action, resource)
        if verdict.permitted:
            return
        if missing is not None and resource.account_id != self.principal.account_id:
            raise missing
        raise Forbidden(
            f"`{self.principal.iam_id}` is not permitted to perform `{self.action}`"
            f" in account `{resource.account_id}`: {verdict.reason}"
        )
