"""The decision model: policies, requests and decisions as frozen dataclasses.

Semantics (spec ibm-platform-api.md §6, §12; seeds 003 and 004):

- A **policy** grants `roles` to a `subject` on a `resource`, optionally under a `rule`.
  `type` is `access` (subject: a user, service ID, trusted profile or access group) or
  `authorization` (subject: a calling service, e.g. a `cloud-object-storage` instance).
- **Subject** conditions of an access policy: `iam_id` (equals the caller's iam_id) or
  `access_group_id` (the caller is a member; memberships come in the request). Of an
  authorization policy: attributes of the calling service (`serviceName`, `serviceInstance`,
  `accountId`, `resourceType`, `resource`, `resourceGroupId`) matched against the request
  subject's attributes.
- **Resource** conditions match the request's resource attributes with IBM's operators
  (`stringEquals`, `stringMatch` with `*` and `?`, `stringExists`, `stringEqualsAnyOf`,
  `stringMatchAnyOf`). An attribute the policy leaves out matches anything. `accountId` must
  always be given and equal. `serviceType` is `service` (every IAM-enabled service) or
  `platform_service` (every account management service): the catalog says which kind each
  service is.
- **Roles** grant actions per service, as the catalog says (a role grants only its own actions;
  roles do not inherit, seed 004 "Each role ... doesn't inherit the actions of the lesser roles").
  A request is permitted when some active policy in the request's account matches the subject,
  the resource and the rule, and one of its roles grants the action on the resource's service.
  There are no deny policies: the combination rule is "any permit permits, else deny".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, NamedTuple

PolicyType = Literal["access", "authorization"]
Value = str | bool | tuple[str, ...]


class PolicyError(ValueError):
    """A policy, rule or request that cannot be evaluated (malformed, unknown operator, ...)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class Condition(NamedTuple):
    """One `{key, operator, value}`: an attribute test in a subject, resource or rule.

    A named tuple rather than a dataclass: compiling a million policies hashes and compares
    conditions millions of times to share their compiled tests, and a tuple does both in C.
    """

    key: str
    operator: str
    value: Value


@dataclass(frozen=True, slots=True)
class Rule:
    """A v2 `rule`: one condition, or `and`/`or` over conditions and nested rules."""

    operator: Literal["and", "or", "single"]
    conditions: tuple[Condition | Rule, ...]


@dataclass(frozen=True, slots=True)
class Policy:
    id: str
    account_id: str
    type: PolicyType
    subject: tuple[Condition, ...]
    resource: tuple[Condition, ...]
    roles: tuple[str, ...]  # role CRNs
    tags: tuple[Condition, ...] = ()  # resource tags: `key` is the tag name
    rule: Rule | None = None
    active: bool = True


# Subject and Request are not frozen either, for the reason Decision gives below: every
# decision builds one of each (access/decisions.py), and frozen fields cost a call apiece.
# Nothing mutates them once built.
@dataclass(slots=True)
class Subject:
    """Who asks. For users, service IDs and profiles: `iam_id` plus access-group memberships.
    For a calling service (authorization policies): its attributes."""

    iam_id: str = ""
    access_groups: frozenset[str] = frozenset()
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Request:
    subject: Subject
    action: str
    resource: Mapping[str, str]  # accountId, serviceName, serviceInstance, resourceType, ...
    time: datetime  # the moment of the request (rules are evaluated against it), timezone-aware
    tags: Mapping[str, str] = field(default_factory=dict)  # the resource's access tags


# Not frozen, unlike the rest of the model: a frozen dataclass sets each field through
# object.__setattr__, which made building the decision a twentieth of a whole check. Nothing
# mutates a Decision once `decide` returns it.
@dataclass(slots=True)
class Decision:
    permitted: bool
    # The policies that permitted it: a tuple, or a function that finds them all when first
    # asked (a check stops at the first permitting policy; only explanations want every one).
    permitting: tuple[str, ...] | Callable[[], tuple[str, ...]] = ()
    # Why, for people: a string, or a function that writes it when first asked (explaining a
    # denial takes more work than deciding it, and most callers never ask). Left empty on a
    # permit, it names the permitting policies.
    explanation: str | Callable[[], str] = ""

    @property
    def policies(self) -> tuple[str, ...]:
        return self.permitting() if callable(self.permitting) else self.permitting

    @property
    def reason(self) -> str:
        if callable(self.explanation):
            return self.explanation()
        if self.explanation or not self.permitted:
            return self.explanation
        return f"permitted by {', '.join(self.policies)}"

    def __bool__(self) -> bool:
        return self.permitted
