"""Compile policies once (per account revision) into an index the decision reads directly.

The index is keyed by account, then by subject key (`("iam_id", X)`, `("group", G)` or, for
authorization policies, `("service", serviceName)`), then by the service a policy names (`*` for
policies that name none: service types, resource groups). A check therefore looks only at the
policies naming the caller or its groups, in the resource's account, for the resource's service.

Everything is prepared here so that `decide` only compares:
- each policy's tests are compiled once, and identical conditions share one compiled test
  (a million policies naming `serviceName = kms` hold one test, not a million);
- a subject's policies on one service are grouped by their roles, and each group knows the
  actions those roles grant there (a frozenset shared by every group with the same roles), so
  the action is tested once per group and only granting groups are matched further.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from strongroom.policy.catalog import Catalog
from strongroom.policy.conditions import Check, compile_rule
from strongroom.policy.model import Condition, Policy, PolicyError, Request, Rule
from strongroom.policy.operators import Test, compile_test

SubjectKey = tuple[str, str]
# A service's name, `*`, or (attribute, value) for policies pinning a SELECTIVE attribute.
BucketName = str | tuple[str, str]
ANY_SERVICE = "*"
# Policies naming no service are indexed by the first of these they pin with stringEquals
# (`resourceGroupId=<id>`, ...), so a check sees only those for the request's own group,
# instance or resource, plus the few that pin none of them (service types, whole account).
SELECTIVE = ("resourceGroupId", "serviceInstance", "resource")
ACCESS_SUBJECTS = ("iam_id", "access_group_id")
AUTHORIZATION_SUBJECTS = frozenset(
    {"serviceName", "serviceInstance", "accountId", "resourceType", "resource", "resourceGroupId"}
)
NO_ACTIONS: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class CustomRole:
    """An account's own role: a name for a set of one service's actions (spec §6.3)."""

    crn: str
    account_id: str
    service: str
    actions: frozenset[str]


# CompiledPolicy and Group are not frozen: there is one per policy (a million at 1M), and a
# frozen dataclass sets each field through object.__setattr__, three times the cost. Nothing
# changes them after compile_policies returns.
@dataclass(slots=True)
class CompiledPolicy:
    policy: Policy
    resource_tests: tuple[Test, ...]
    tag_tests: tuple[Test, ...]
    subject_tests: tuple[Test, ...]  # authorization policies: the calling service's attributes
    service_type: str | None  # `serviceType` condition, checked against the catalog
    rule: Check | None
    service: str | None = None  # the service the policy names with stringEquals, if any
    id: str = ""  # the policy's id, kept here so that a permit reads no further object

    def matches(self, request: Request, kind_of: Callable[[str], str | None]) -> bool:
        """Subject (beyond the index key), resource, tags and rule; not the action."""
        resource = request.resource
        for test in self.resource_tests:
            if not test(resource):
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


@dataclass(slots=True)
class Group:
    """Policies of one subject, on one service (or `*`), granting the same roles: the action is
    tested once for the group, and only a group whose roles grant it is matched further."""

    roles: tuple[str, ...]
    service: BucketName  # the bucket's name: grants are known only for a service's bucket
    granted: frozenset[str]  # what `roles` grant on `service` (empty for ANY_SERVICE)
    policies: tuple[CompiledPolicy, ...]


Bucket = Mapping[BucketName, tuple[Group, ...]]  # -> the policies there, grouped by roles


@dataclass(slots=True)
class AccountIndex:
    """One account's buckets by the subject their policies name, one dictionary per kind of
    subject: a check looks its caller's iam_id and groups up as they are, with no key to build
    (tuple keys measured a quarter of the median check, at 50k policies)."""

    iam_id: dict[str, Bucket] = field(default_factory=dict)
    group: dict[str, Bucket] = field(default_factory=dict)
    service: dict[str, Bucket] = field(default_factory=dict)  # authorization policies

    def bucket(self, key: SubjectKey) -> Bucket | None:
        kind, ident = key
        by_kind: dict[str, Bucket] = getattr(self, kind)
        return by_kind.get(ident)


@dataclass(frozen=True, slots=True)
class PolicySet:
    catalog: Catalog
    index: Mapping[str, AccountIndex]
    custom_roles: Mapping[str, CustomRole] = field(default_factory=dict)
    # (roles, service) -> the actions those roles grant there; filled as decisions ask.
    _granted: dict[tuple[tuple[str, ...], str], frozenset[str]] = field(default_factory=dict)

    def lookups(self, resource: Mapping[str, str]) -> list[BucketName]:
        """The buckets a resource can reach under any subject: its service's, the one for
        policies naming no service, and those pinning its group, instance or resource."""
        found: list[BucketName] = [resource.get("serviceName", ""), ANY_SERVICE]
        for attribute in SELECTIVE:
            value = resource.get(attribute)
            if value is not None:
                found.append((attribute, value))
        return found

    def groups(
        self, account: str, keys: Iterable[SubjectKey], resource: Mapping[str, str]
    ) -> Iterator[Group]:
        """The groups of policies naming any of `keys` in `account` that can match `resource`."""
        index = self.index.get(account)
        if index is None:
            return
        lookups = self.lookups(resource)
        for key in keys:
            bucket = index.bucket(key)
            if bucket is not None:
                for lookup in lookups:
                    yield from bucket.get(lookup, ())

    def candidates(
        self,
        account: str,
        keys: Iterable[SubjectKey],
        resource: Mapping[str, str] | None = None,
    ) -> list[CompiledPolicy]:
        """The policies naming any of `keys` in `account`: only those filed where `resource`
        can reach them when it is given (what `matches` may then be asked about: the index
        has already checked the account and the service), else all of them."""
        if resource is not None:
            keys = list(keys)
            return [p for g in self.groups(account, keys, resource) for p in g.policies]
        index = self.index.get(account)
        if index is None:
            return []
        return [
            policy
            for key in keys
            for groups in (index.bucket(key) or {}).values()
            for group in groups
            for policy in group.policies
        ]

    def grants(self, role: str, service: str, action: str) -> bool:
        return action in self.granted((role,), service)

    def granted(self, roles: tuple[str, ...], service: str) -> frozenset[str]:
        """Every action `roles` grant on `service` (cached: few distinct role sets exist)."""
        key = (roles, service)
        found = self._granted.get(key)
        if found is None:
            found = _granted(roles, service, self.catalog, self.custom_roles)
            self._granted[key] = found
        return found

    def kind_of(self, service: str) -> str | None:
        found = self.catalog.service(service)
        return found.kind if found else None


def _granted(
    roles: tuple[str, ...], service: str, catalog: Catalog, custom: Mapping[str, CustomRole]
) -> frozenset[str]:
    actions: set[str] = set()
    for role in roles:
        own = custom.get(role)
        if own is not None:
            if own.service == service:
                actions |= own.actions
        else:
            actions |= catalog.actions_of(service, role)
    return frozenset(actions)


def _subject_key(policy: Policy) -> tuple[SubjectKey, tuple[Condition, ...]]:
    """The index key, and the subject conditions left to test at decision time."""
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
    return ("service", service.value), tuple(c for c in policy.subject if c is not service)


class _Compiler:
    """Compiles policies, sharing what identical conditions, rules and role sets compile to."""

    def __init__(self, catalog: Catalog, custom: Mapping[str, CustomRole]) -> None:
        self.catalog = catalog
        self.custom = custom
        self._tests: dict[Condition, Test] = {}
        self._test_tuples: dict[tuple[Condition, ...], tuple[Test, ...]] = {}
        self._rules: dict[Rule, Check] = {}
        self._granted: dict[tuple[tuple[str, ...], str], frozenset[str]] = {}

    def tests(self, conditions: tuple[Condition, ...]) -> tuple[Test, ...]:
        found = self._test_tuples.get(conditions)
        if found is None:
            found = tuple(self._test(c) for c in conditions)
            self._test_tuples[conditions] = found
        return found

    def _test(self, condition: Condition) -> Test:
        found = self._tests.get(condition)
        if found is None:
            found = compile_test(condition)
            self._tests[condition] = found
        return found

    def rule(self, rule: Rule) -> Check:
        found = self._rules.get(rule)
        if found is None:
            found = compile_rule(rule)
            self._rules[rule] = found
        return found

    def granted(self, roles: tuple[str, ...], service: str) -> frozenset[str]:
        key = (roles, service)
        found = self._granted.get(key)
        if found is None:
            found = _granted(roles, service, self.catalog, self.custom)
            self._granted[key] = found
        return found

    def check_roles(self, policy: Policy) -> None:
        if not policy.roles:
            raise PolicyError("a policy grants at least one role", field="roles")
        known = self.catalog.role_crns
        for role in policy.roles:
            custom = self.custom.get(role)
            if role not in known and custom is None:
                raise PolicyError(f"unknown role `{role}`", field="roles")
            if custom is not None and custom.account_id != policy.account_id:
                raise PolicyError(f"custom role `{role}` belongs to another account", field="roles")

    def compile(self, policy: Policy) -> tuple[SubjectKey, CompiledPolicy]:
        # One pass over the resource: the account, the service type, the service it names.
        account = service_type = service = None
        tested: list[Condition] = []
        # The index already guarantees two conditions, so they are not tested again: the
        # policy's account (policies are filed under it) and the service it names with
        # stringEquals (its bucket is reached only through a resource of that service).
        for condition in policy.resource:
            name = condition.key
            if name == "serviceType":
                service_type = condition
            elif name == "accountId":
                account = condition
            elif (
                name == "serviceName"
                and condition.operator == "stringEquals"
                and isinstance(condition.value, str)
                and service is None
            ):
                service = condition.value
            else:
                tested.append(condition)
        if (
            account is None
            or account.operator != "stringEquals"
            or account.value != policy.account_id
        ):
            raise PolicyError(
                "the resource must name the policy's own `accountId`", field="resource"
            )
        self.check_roles(policy)
        if service_type is not None and service_type.value not in ("service", "platform_service"):
            raise PolicyError("`serviceType` is `service` or `platform_service`", field="resource")
        key, subject_rest = _subject_key(policy)
        compiled = CompiledPolicy(
            policy=policy,
            resource_tests=self.tests(tuple(tested)),
            tag_tests=self.tests(policy.tags) if policy.tags else (),
            subject_tests=self.tests(subject_rest) if subject_rest else (),
            service_type=str(service_type.value) if service_type is not None else None,
            rule=self.rule(policy.rule) if policy.rule is not None else None,
            service=service,
            id=policy.id,
        )
        return key, compiled


def compile_policies(
    policies: Iterable[Policy],
    catalog: Catalog,
    custom_roles: Iterable[CustomRole] = (),
) -> PolicySet:
    """Validate and index active policies. Raises PolicyError naming the first bad policy."""
    custom = {r.crn: r for r in custom_roles}
    compiler = _Compiler(catalog, custom)
    index: dict[str, dict[SubjectKey, dict[BucketName, list[CompiledPolicy]]]] = {}
    # Compiling makes many small objects and no garbage cycles: the cyclic collector would only
    # rescan them again and again (it was half the time of compiling a million policies).
    collecting = gc.isenabled()
    gc.disable()
    try:
        for policy in policies:
            if not policy.active:
                continue
            try:
                key, compiled = compiler.compile(policy)
            except PolicyError as exc:
                raise PolicyError(f"policy `{policy.id}`: {exc}", field=exc.field) from exc
            bucket = index.setdefault(policy.account_id, {}).setdefault(key, {})
            bucket.setdefault(_bucket_of(compiled), []).append(compiled)
        frozen: dict[str, AccountIndex] = {}
        for account, keys in index.items():
            frozen[account] = by_kind = AccountIndex()
            for (kind, ident), bucket in keys.items():
                getattr(by_kind, kind)[ident] = _grouped(bucket, compiler)
    finally:
        if collecting:
            gc.enable()
    return PolicySet(catalog=catalog, index=frozen, custom_roles=custom, _granted=compiler._granted)


def _bucket_of(compiled: CompiledPolicy) -> BucketName:
    if compiled.service is not None:
        return compiled.service
    for attribute in SELECTIVE:
        for condition in compiled.policy.resource:
            if (
                condition.key == attribute
                and condition.operator == "stringEquals"
                and isinstance(condition.value, str)
            ):
                return (attribute, condition.value)
    return ANY_SERVICE


def _grouped(bucket: dict[BucketName, list[CompiledPolicy]], compiler: _Compiler) -> Bucket:
    grouped: dict[BucketName, tuple[Group, ...]] = {}
    for name, policies in bucket.items():
        by_roles: dict[tuple[str, ...], list[CompiledPolicy]] = {}
        for policy in policies:
            by_roles.setdefault(policy.policy.roles, []).append(policy)
        grouped[name] = tuple(
            Group(
                roles=roles,
                service=name,
                # A service's bucket knows its grants, also for a service that only custom
                # roles define (no catalog file); the `*` and pinned buckets ask per check.
                granted=compiler.granted(roles, name)
                if isinstance(name, str) and name != ANY_SERVICE
                else NO_ACTIONS,
                policies=tuple(members),
            )
            for roles, members in by_roles.items()
        )
    return grouped


def validate(policy: Policy, catalog: Catalog, custom_roles: Iterable[CustomRole] = ()) -> None:
    """Raise PolicyError unless the policy would compile (the API checks before it stores one)."""
    _Compiler(catalog, {r.crn: r for r in custom_roles}).compile(policy)


def subject_keys(request: Request) -> list[SubjectKey]:
    subject = request.subject
    keys: list[SubjectKey] = [("iam_id", subject.iam_id)] if subject.iam_id else []
    if subject.access_groups:
        keys += [("group", g) for g in subject.access_groups]
    if subject.attributes:
        service = subject.attributes.get("serviceName")
        if service:
            keys.append(("service", service))
    return keys
