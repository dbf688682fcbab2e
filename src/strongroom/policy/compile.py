"""Compile policies once (per account revision) into an index the decision reads directly.

The index is keyed by account, then by subject key: `("iam_id", X)`, `("group", G)` or, for
authorization policies, `("service", serviceName)`. A check therefore looks only at the policies
naming the caller or one of its groups in the resource's account, never at all policies.
Every matcher, glob and rule is compiled here, so `decide` does no parsing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from strongroom.policy.catalog import Catalog
from strongroom.policy.conditions import Check, compile_rule
from strongroom.policy.model import Condition, Policy, PolicyError, Request
from strongroom.policy.operators import Test, compile_test

SubjectKey = tuple[str, str]
ACCESS_SUBJECTS = ("iam_id", "access_group_id")
AUTHORIZATION_SUBJECTS = frozenset(
    {"serviceName", "serviceInstance", "accountId", "resourceType", "resource", "resourceGroupId"}
)


@dataclass(frozen=True, slots=True)
class CustomRole:
    """An account's own role: a name for a set of one service's actions (spec §6.3)."""

    crn: str
    account_id: str
    service: str
    actions: frozenset[str]


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    policy: Policy
    resource_tests: tuple[Test, ...]
    tag_tests: tuple[Test, ...]
    subject_tests: tuple[Test, ...]  # authorization policies: the calling service's attributes
    service_type: str | None  # `serviceType` condition, checked against the catalog
    rule: Check | None

    def matches(self, request: Request, kind_of: Callable[[str], str | None]) -> bool:
        """Subject (beyond the index key), resource, tags and rule; not the action."""
        resource = request.resource
        if not all(test(resource) for test in self.resource_tests):
            return False
        if self.service_type is not None:
            # The catalog says which kind a service is; a request's own claim counts only for a
            # service the catalog does not know (else a caller could re-label kms a platform
            # service and reach it through "all account management services").
            kind = kind_of(resource.get("serviceName", "")) or resource.get("serviceType")
            if kind != self.service_type:
                return False
        if self.tag_tests and not all(test(request.tags) for test in self.tag_tests):
            return False
        if self.subject_tests and not all(
            test(request.subject.attributes) for test in self.subject_tests
        ):
            return False
        return self.rule is None or self.rule(request)


@dataclass(frozen=True, slots=True)
class PolicySet:
    catalog: Catalog
    index: Mapping[str, Mapping[SubjectKey, tuple[CompiledPolicy, ...]]]
    custom_roles: Mapping[str, CustomRole] = field(default_factory=dict)

    def candidates(self, account: str, keys: Iterable[SubjectKey]) -> Iterable[CompiledPolicy]:
        bucket = self.index.get(account)
        if not bucket:
            return ()
        return (p for key in keys for p in bucket.get(key, ()))

    def grants(self, role: str, service: str, action: str) -> bool:
        custom = self.custom_roles.get(role)
        if custom is not None:
            return custom.service == service and action in custom.actions
        return action in self.catalog.actions_of(service, role)

    def kind_of(self, service: str) -> str | None:
        found = self.catalog.service(service)
        return found.kind if found else None


def _subject_key(policy: Policy) -> tuple[SubjectKey, tuple[Test, ...]]:
    if policy.type == "access":
        if len(policy.subject) != 1 or policy.subject[0].key not in ACCESS_SUBJECTS:
            raise PolicyError(
                "an access policy's subject is one `iam_id` or `access_group_id`", field="subject"
            )
        (only,) = policy.subject
        if only.operator != "stringEquals" or not isinstance(only.value, str) or not only.value:
            raise PolicyError(
                f"subject `{only.key}` must use stringEquals with a value", field="subject"
            )
        return ("iam_id" if only.key == "iam_id" else "group", only.value), ()
    keys = {c.key for c in policy.subject}
    unknown = keys - AUTHORIZATION_SUBJECTS
    if unknown:
        raise PolicyError(
            f"unknown authorization subject attributes {sorted(unknown)}", field="subject"
        )
    service = next((c for c in policy.subject if c.key == "serviceName"), None)
    if service is None or service.operator != "stringEquals" or not isinstance(service.value, str):
        raise PolicyError("an authorization policy's subject needs `serviceName`", field="subject")
    rest = tuple(compile_test(c) for c in policy.subject if c is not service)
    return ("service", service.value), rest


def _check_roles(policy: Policy, catalog: Catalog, custom: Mapping[str, CustomRole]) -> None:
    if not policy.roles:
        raise PolicyError("a policy grants at least one role", field="roles")
    known = {crn for s in catalog.services.values() for crn in s.roles}
    for role in policy.roles:
        if role not in known and role not in custom:
            raise PolicyError(f"unknown role `{role}`", field="roles")
        if role in custom and custom[role].account_id != policy.account_id:
            raise PolicyError(f"custom role `{role}` belongs to another account", field="roles")


def compile_policy(
    policy: Policy, catalog: Catalog, custom: Mapping[str, CustomRole]
) -> CompiledPolicy:
    account = next((c for c in policy.resource if c.key == "accountId"), None)
    if account is None or account.operator != "stringEquals" or account.value != policy.account_id:
        raise PolicyError("the resource must name the policy's own `accountId`", field="resource")
    _check_roles(policy, catalog, custom)
    service_type = next((c for c in policy.resource if c.key == "serviceType"), None)
    if service_type is not None and service_type.value not in ("service", "platform_service"):
        raise PolicyError("`serviceType` is `service` or `platform_service`", field="resource")
    _, subject_tests = _subject_key(policy)
    tests = tuple(compile_test(c) for c in policy.resource if c.key != "serviceType")
    return CompiledPolicy(
        policy=policy,
        resource_tests=tests,
        tag_tests=tuple(compile_test(c) for c in policy.tags),
        subject_tests=subject_tests,
        service_type=str(service_type.value) if service_type is not None else None,
        rule=compile_rule(policy.rule) if policy.rule is not None else None,
    )


def compile_policies(
    policies: Iterable[Policy],
    catalog: Catalog,
    custom_roles: Iterable[CustomRole] = (),
) -> PolicySet:
    """Validate and index active policies. Raises PolicyError naming the first bad policy."""
    custom = {r.crn: r for r in custom_roles}
    index: dict[str, dict[SubjectKey, list[CompiledPolicy]]] = {}
    for policy in policies:
        if not policy.active:
            continue
        try:
            compiled = compile_policy(policy, catalog, custom)
        except PolicyError as exc:
            raise PolicyError(f"policy `{policy.id}`: {exc}", field=exc.field) from exc
        key, _ = _subject_key(policy)
        index.setdefault(policy.account_id, {}).setdefault(key, []).append(compiled)
    frozen = {account: {k: tuple(v) for k, v in keys.items()} for account, keys in index.items()}
    return PolicySet(catalog=catalog, index=frozen, custom_roles=custom)


def validate(policy: Policy, catalog: Catalog, custom_roles: Iterable[CustomRole] = ()) -> None:
    """Raise PolicyError unless the policy would compile (the API checks before it stores one)."""
    compile_policy(policy, catalog, {r.crn: r for r in custom_roles})
    _subject_key(policy)


def subject_keys(request: Request) -> list[SubjectKey]:
    subject = request.subject
    keys: list[SubjectKey] = []
    if subject.iam_id:
        keys.append(("iam_id", subject.iam_id))
    keys.extend(("group", g) for g in sorted(subject.access_groups))
    service = subject.attributes.get("serviceName")
    if service:
        keys.append(("service", service))
    return keys


def conditions_text(conditions: Iterable[Condition]) -> str:
    return ", ".join(f"{c.key} {c.operator} {c.value}" for c in conditions)
