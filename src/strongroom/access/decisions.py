"""The policy decision point that services call (spec ibm-platform-api.md §12): `/v2/authz`,
`/v2/authz/roles` and our own `/v2/authz/explain` ask it about subjects other than the caller.

It decides with the same compiled, per-account policy sets as the `LocalAuthorizer` that guards
every route (one cache, one staleness bound), and with the same engine: `strongroom.policy`.
The moment of a decision is the request's own when it names one, else the injected clock's, so
tests and simulations move time instead of sleeping.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from strongroom.access.memberships import MembershipSnapshot
from strongroom.clock import Clock
from strongroom.policy import Decision, PolicySet, Request, Subject, decide, permits, roles_held


class PolicySets(Protocol):
    """Where compiled policy sets come from (the LocalAuthorizer, with its cache)."""

    def access_of(self, account_id: str) -> tuple[PolicySet, MembershipSnapshot]:
        """The account's compiled policies and access-group memberships, of one revision."""
        ...

    def is_fresh(self, account_id: str) -> bool:
        """Whether `access_of(account_id)` would answer without reading the store."""
        ...


Access = tuple[PolicySet, MembershipSnapshot]


@dataclass(slots=True)  # not frozen: one per item of a batch (policy/model.py says why)
class Question:
    """One item of a decision request, already read from the wire.

    `token_account` and `expires` are set when the subject came as an access token: a token acts
    only in the account it was issued for (claim `account.bss`), and only until it expires.
    `refusal` is set when the subject cannot be trusted at all (a token that failed to verify):
    the answer is then a denial for that reason, whatever the policies say.
    """

    subject: Subject
    action: str  # empty for a roles question
    resource: Mapping[str, str]
    time: datetime | None = None  # None: now, from the clock
    token_account: str | None = None
    expires: datetime | None = None
    refusal: str | None = None


@dataclass(frozen=True, slots=True)
class RoleGrant:
    """A role the subject holds on a resource, and what it grants on the resource's service."""

    crn: str
    display_name: str
    actions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DecisionPoint:
    policy_sets: PolicySets
    clock: Clock

    def decide(self, questions: Sequence[Question]) -> list[Decision]:
        """One decision per question, in order. A batch reads each account's set once."""
        sets: dict[str, Access] = {}
        now = self.clock.now()
        return [self._decide(q, now, sets) for q in questions]

    def permits(self, questions: Sequence[Question]) -> list[bool]:
        """`[d.permitted for d in self.decide(questions)]`, without building the decisions and
        what would explain them: `/v2/authz` answers yes or no, up to 1,000 times a call."""
        sets: dict[str, Access] = {}
        now = self.clock.now()
        return [self._permits(q, now, sets) for q in questions]

    def from_memory(self, accounts: Iterable[str]) -> bool:
        """Whether deciding in these accounts reads no store (every set held and fresh): the
        decision point's caller may then decide on its own thread instead of handing the work
        to a worker thread (api/routers/authz.py)."""
        return all(self.policy_sets.is_fresh(account) for account in accounts)

    def roles(self, questions: Sequence[Question]) -> list[list[RoleGrant]]:
        sets: dict[str, Access] = {}
        now = self.clock.now()
        return [self._roles(q, now, sets) for q in questions]

    def _access(self, account: str, sets: dict[str, Access]) -> Access:
        """One revision of an account's policies and memberships for the whole batch."""
        found = sets.get(account)
        if found is None:
            found = sets[account] = self.policy_sets.access_of(account)
        return found

    def _unanswerable(self, question: Question, now: datetime) -> str | None:
        """Why the subject can hold nothing on this resource before any policy is read."""
        if question.refusal:
            return question.refusal
        account = question.resource.get("accountId")
        if not account:
            return "the resource names no `accountId`"
        if question.token_account is not None and question.token_account != account:
            return f"the subject's token is for account `{question.token_account}`"
        if question.expires is not None and question.expires <= now:
            return "the subject's access token has expired"
        return None

    def _request(self, question: Question, now: datetime, snapshot: MembershipSnapshot) -> Request:
        subject = question.subject
        moment = question.time or now
        if subject.iam_id and not subject.access_groups:
            # A user, service ID or profile: its access groups' policies apply to it too. Built
            # directly: `dataclasses.replace` took a sixth of `_decide` (cProfile, bulk /v2/authz).
            groups = snapshot.groups_of(subject.iam_id, moment)
            subject = Subject(subject.iam_id, groups, subject.attributes)
        return Request(
            subject=subject,
            action=question.action,
            resource=question.resource,
            time=moment,
        )

    def _decide(self, question: Question, now: datetime, sets: dict[str, Access]) -> Decision:
        refused = self._unanswerable(question, now)
        if refused is not None:
            return Decision(False, (), refused)
        policy_set, snapshot = self._access(question.resource["accountId"], sets)
        if not policy_set.catalog.knows_action(question.action):
            # Spec §12 does not say what IBM answers for an unregistered action. A denial keeps
            # the rule "any permit permits, else deny" with no exception, and one odd item does
            # not fail a batch; the reason spares a caller hunting through its policies.
            return Decision(False, (), f"no catalog defines the action `{question.action}`")
        return decide(self._request(question, now, snapshot), policy_set)

    def _permits(self, question: Question, now: datetime, sets: dict[str, Access]) -> bool:
        """`_decide(...).permitted`, by the same steps."""
        if self._unanswerable(question, now) is not None:
            return False
        policy_set, snapshot = self._access(question.resource["accountId"], sets)
        return policy_set.catalog.knows_action(question.action) and permits(
            self._request(question, now, snapshot), policy_set
        )

    def _roles(self, question: Question, now: datetime, sets: dict[str, Access]) -> list[RoleGrant]:
        if self._unanswerable(question, now) is not None:
            return []
        policy_set, snapshot = self._access(question.resource["accountId"], sets)
        held = roles_held(self._request(question, now, snapshot), policy_set)
        return grants_on(policy_set, question.resource.get("serviceName", ""), held)


def grants_on(policy_set: PolicySet, service_name: str, held: frozenset[str]) -> list[RoleGrant]:
    """The held roles that mean something on `service_name`, in the catalog's order, then the
    account's custom roles for that service by CRN. A role the service does not define (a
    service role held through a `serviceType` policy on a platform service, say) grants nothing
    there and is left out."""
    grants: list[RoleGrant] = []
    service = policy_set.catalog.service(service_name)
    if service is not None:
        for crn, role in service.roles.items():
            if crn in held:
                grants.append(RoleGrant(crn, role.display_name, tuple(sorted(role.actions))))
    for crn in sorted(held):
        custom = policy_set.custom_roles.get(crn)
        if custom is not None and custom.service == service_name:
            name = crn.rsplit(":", 1)[-1]
            grants.append(RoleGrant(crn, name, tuple(sorted(custom.actions))))
    return grants
