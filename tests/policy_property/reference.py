"""A deliberately naive reference PDP, written from the semantics in `strongroom.policy.model`'s
docstring (spec ibm-platform-api.md §6.2, §12), not from the production engine.

It scans EVERY policy for every request: no index, no compilation, no caching. It shares only
the data classes (`Policy`, `Condition`, `Rule`, `Request`, `Catalog`) with production, and
nothing from `strongroom.policy.compile`, `.decide`, `.operators` or `.conditions`: the
wildcard matcher, the operators, the time arithmetic and the role lookup are all its own.
Custom roles are read by duck typing (`crn`, `account_id`, `service`, `actions`).

It is meant to be obviously right, not fast. It only needs to handle policies that production
accepts; anything it does not understand raises `Unmodelled`, so that a generator drifting
outside the modelled language shows up instead of being decided silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from strongroom.policy.catalog import Catalog
from strongroom.policy.model import Condition, Policy, Request, Rule


class Unmodelled(Exception):
    """The reference was given something outside the language it models."""


class CustomRoleLike(Protocol):
    @property
    def crn(self) -> str: ...
    @property
    def account_id(self) -> str: ...
    @property
    def service(self) -> str: ...
    @property
    def actions(self) -> frozenset[str]: ...


# -- stringMatch ---------------------------------------------------------------------------------
# Tokens: ("lit", c) for a literal character, ("star",) for `*`, ("one",) for `?`.
# `{{*}}`, `{{?}}` and `{{$}}` are the literal characters; the pattern is read left to right.

_LITERAL_ESCAPES = ("{{*}}", "{{?}}", "{{$}}")


def _tokens(pattern: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(pattern):
        if pattern[i : i + 5] in _LITERAL_ESCAPES:
            out.append(("lit", pattern[i + 2]))
            i += 5
            continue
        c = pattern[i]
        if c == "*":
            out.append(("star", ""))
        elif c == "?":
            out.append(("one", ""))
        else:
            out.append(("lit", c))
        i += 1
    return out


def wildcard_match(pattern: str, text: str) -> bool:
    """Does `text` match `pattern` as a whole? Plain recursion over (token, position), memoised."""
    toks = _tokens(pattern)
    memo: dict[tuple[int, int], bool] = {}

    def match(i: int, j: int) -> bool:
        if (i, j) in memo:
            return memo[(i, j)]
        if i == len(toks):
            result = j == len(text)
        else:
            kind, char = toks[i]
            if kind == "star":
                # `*` swallows nothing, or one more character and stays.
                result = match(i + 1, j) or (j < len(text) and match(i, j + 1))
            elif kind == "one":
                result = j < len(text) and match(i + 1, j + 1)
            else:
                result = j < len(text) and text[j] == char and match(i + 1, j + 1)
        memo[(i, j)] = result
        return result

    return match(0, 0)


# -- attribute operators -------------------------------------------------------------------------


def attribute_matches(operator: str, value: Any, attrs: Mapping[str, str], name: str) -> bool:
    """One `{key, operator, value}` against a mapping of attributes (absent = not there)."""
    present = name in attrs
    actual = attrs.get(name)
    if operator == "stringExists":
        if value is True:
            return present
        if value is False:
            return not present
        raise Unmodelled(f"stringExists with {value!r}")
    if not present or actual is None:
        return False  # every other operator needs the attribute
    if operator == "stringEquals":
        return bool(actual == value)
    if operator == "stringMatch":
        return wildcard_match(value, actual)
    if operator == "stringEqualsAnyOf":
        return any(actual == v for v in value)
    if operator == "stringMatchAnyOf":
        return any(wildcard_match(v, actual) for v in value)
    raise Unmodelled(f"unknown operator {operator}")


# -- time ----------------------------------------------------------------------------------------


def _split_offset(text: str) -> tuple[str, timedelta]:
    """`...+05:30` -> (`...`, +5h30m). The offset is always the last six characters."""
    sign, hours, minutes = text[-6], text[-5:-3], text[-2:]
    if sign not in "+-" or text[-3] != ":" or not (hours + minutes).isdigit():
        raise Unmodelled(f"no UTC offset in {text!r}")
    delta = timedelta(hours=int(hours), minutes=int(minutes))
    return text[:-6], delta if sign == "+" else -delta


def _has_offset(text: str) -> bool:
    return len(text) >= 6 and text[-6] in "+-" and text[-3] == ":" and text[-2:].isdigit()


def _wall_clock(moment: datetime, offset: timedelta) -> datetime:
    """The naive wall-clock reading of `moment` at a fixed UTC offset."""
    utc = moment.astimezone(UTC).replace(tzinfo=None)
    return utc + offset


def _compare(left: Any, right: Any, how: str) -> bool:
    if how == "LessThan":
        return bool(left < right)
    if how == "LessThanOrEquals":
        return bool(left <= right)
    if how == "GreaterThan":
        return bool(left > right)
    if how == "GreaterThanOrEquals":
        return bool(left >= right)
    raise Unmodelled(f"unknown comparison {how}")


def _time_condition(operator: str, value: str, moment: datetime) -> bool:
    clock, offset = _split_offset(value)
    parts = [int(p) for p in clock.split(":")]
    while len(parts) < 3:
        parts.append(0)
    limit = (parts[0] * 3600 + parts[1] * 60 + parts[2], 0)
    local = _wall_clock(moment, offset)
    now = (local.hour * 3600 + local.minute * 60 + local.second, local.microsecond)
    return _compare(now, limit, operator[len("time") :])


def _date_condition(operator: str, value: str, moment: datetime) -> bool:
    text, offset = _split_offset(value) if _has_offset(value) else (value, timedelta(0))
    year, month, day = (int(p) for p in text.split("-"))
    local = _wall_clock(moment, offset)
    return _compare((local.year, local.month, local.day), (year, month, day), operator[4:])


def _date_time_condition(operator: str, value: str, moment: datetime) -> bool:
    text, offset = _split_offset(value)
    day, clock = text.split("T")
    year, month, dom = (int(p) for p in day.split("-"))
    hour, minute, second = (int(p) for p in clock.split(":"))
    limit_utc = datetime(year, month, dom, hour, minute, second) - offset
    now_utc = moment.astimezone(UTC).replace(tzinfo=None)
    return _compare(now_utc, limit_utc, operator[len("dateTime") :])


def _day_of_week(value: Any, moment: datetime) -> bool:
    values = value if isinstance(value, tuple) else (value,)
    for item in values:
        day, offset = _split_offset(item)
        if _wall_clock(moment, offset).isoweekday() == int(day):
            return True
    return False


_RESOURCE_PREFIX = "{{resource.attributes."


def condition_holds(condition: Condition, request: Request) -> bool:
    """One condition of a v2 `rule`."""
    op, key, value = condition.operator, condition.key, condition.value
    if op.startswith("dateTime"):
        return _date_time_condition(op, str(value), request.time)
    if op.startswith("date"):
        return _date_condition(op, str(value), request.time)
    if op.startswith("time"):
        return _time_condition(op, str(value), request.time)
    if op in ("dayOfWeekEquals", "dayOfWeekAnyOf"):
        return _day_of_week(value, request.time)
    if key.startswith(_RESOURCE_PREFIX) and key.endswith("}}"):
        name = key[len(_RESOURCE_PREFIX) : -2]
        return attribute_matches(op, value, request.resource, name)
    raise Unmodelled(f"rule condition {condition}")


def rule_holds(rule: Rule, request: Request) -> bool:
    results = [
        rule_holds(part, request) if isinstance(part, Rule) else condition_holds(part, request)
        for part in rule.conditions
    ]
    if rule.operator == "or":
        return any(results)
    if rule.operator in ("and", "single"):
        return all(results)
    raise Unmodelled(f"rule operator {rule.operator}")


# -- subject, resource, roles --------------------------------------------------------------------


def subject_matches(policy: Policy, request: Request) -> bool:
    subject = request.subject
    if policy.type == "access":
        for condition in policy.subject:
            if condition.operator != "stringEquals":
                raise Unmodelled(f"access subject operator {condition.operator}")
            if condition.key == "iam_id":
                if subject.iam_id != condition.value:
                    return False
            elif condition.key == "access_group_id":
                if condition.value not in subject.access_groups:
                    return False
            else:
                raise Unmodelled(f"access subject {condition.key}")
        return bool(policy.subject)
    # authorization: every attribute of the calling service must match
    return all(
        attribute_matches(c.operator, c.value, subject.attributes, c.key) for c in policy.subject
    )


def service_kind(request: Request, catalog: Catalog) -> str | None:
    """Which kind of service the resource is: the catalog's word for its serviceName, or, for a
    service the catalog does not know, what the resource itself declares."""
    name = request.resource.get("serviceName")
    if name is not None and name in catalog.services:
        return catalog.services[name].kind
    return request.resource.get("serviceType")


def resource_matches(policy: Policy, request: Request, catalog: Catalog) -> bool:
    for condition in policy.resource:
        if condition.key == "serviceType":
            if condition.operator != "stringEquals":
                raise Unmodelled("serviceType is tested with stringEquals")
            if service_kind(request, catalog) != condition.value:
                return False
        elif not attribute_matches(
            condition.operator, condition.value, request.resource, condition.key
        ):
            return False
    return True


def tags_match(policy: Policy, request: Request) -> bool:
    return all(attribute_matches(t.operator, t.value, request.tags, t.key) for t in policy.tags)


def target_service(request: Request) -> str:
    """The service the action is done in: the resource's serviceName, else the action's prefix."""
    name = request.resource.get("serviceName")
    if name:
        return name
    return request.action.split(".")[0]


def role_grants(
    role: str,
    policy: Policy,
    request: Request,
    catalog: Catalog,
    custom_roles: Mapping[str, CustomRoleLike],
) -> bool:
    service = target_service(request)
    custom = custom_roles.get(role)
    if custom is not None:
        return (
            custom.account_id == policy.account_id
            and custom.service == service
            and request.action in custom.actions
        )
    entry = catalog.services.get(service)
    if entry is None:
        return False
    described = entry.roles.get(role)
    return described is not None and request.action in described.actions


def policy_permits(
    policy: Policy,
    request: Request,
    catalog: Catalog,
    custom_roles: Mapping[str, CustomRoleLike],
) -> bool:
    account = request.resource.get("accountId")
    if not policy.active or not account or policy.account_id != account:
        return False
    if not any(c.key == "accountId" and c.value == account for c in policy.resource):
        return False
    if not subject_matches(policy, request):
        return False
    if not resource_matches(policy, request, catalog):
        return False
    if not tags_match(policy, request):
        return False
    if policy.rule is not None and not rule_holds(policy.rule, request):
        return False
    return any(role_grants(r, policy, request, catalog, custom_roles) for r in policy.roles)


def permitting(
    policies: Iterable[Policy],
    custom_roles: Iterable[CustomRoleLike],
    catalog: Catalog,
    request: Request,
) -> list[str]:
    """The ids of every policy that permits `request`, in the order given (duplicates kept)."""
    by_crn = {r.crn: r for r in custom_roles}
    return [p.id for p in policies if policy_permits(p, request, catalog, by_crn)]


def permits(
    policies: Iterable[Policy],
    custom_roles: Iterable[CustomRoleLike],
    catalog: Catalog,
    request: Request,
) -> bool:
    return bool(permitting(policies, custom_roles, catalog, request))
