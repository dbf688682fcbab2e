"""IBM's policy JSON to `Policy`: the v2 shape (spec §6.2) and the v1 shape (§6.1, §6.4).

Pure conversion and shape validation, nothing else: no I/O and no catalog. Whether the roles
exist, the subject is one the engine can index and the resource names the policy's own account
is `compile.validate`'s business, which the caller runs next.

Conditions keep the order in which they were sent and nothing is added (no defaulted
`accountId`, no sorting), because the Policy Management API echoes exactly what it received.
Every `PolicyError` names the offending field by its path in the document, e.g.
`resource.attributes[2].operator` or `subjects[0].attributes[1].value`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from strongroom.policy.model import Condition, Policy, PolicyError, PolicyType, Rule, Value
from strongroom.policy.operators import STRING_OPERATORS

MAX_VALUE_LENGTH = 1000  # "attribute values 1-1000 characters" (spec §6.1)
MAX_ANY_OF = 10  # IBM: `stringEqualsAnyOf` takes at most 10 values
MAX_RULE_CONDITIONS = 10  # IBM: at most 10 conditions in a rule, nested at most 2 levels

POLICY_TYPES: frozenset[str] = frozenset({"access", "authorization"})
PATTERNS = frozenset(
    {
        "time-based-conditions:once",
        "time-based-conditions:weekly:all-day",
        "time-based-conditions:weekly:custom-hours",
        "attribute-based-condition:resource:literal-and-wildcard",
    }
)

# Which operators each part of a v2 document accepts (spec §6.2).
SUBJECT_OPERATORS = frozenset({"stringEquals", "stringExists"})
RESOURCE_OPERATORS = STRING_OPERATORS
TAG_OPERATORS = frozenset({"stringEquals", "stringMatch"})
_COMPARISONS = ("LessThan", "LessThanOrEquals", "GreaterThan", "GreaterThanOrEquals")
RULE_OPERATORS = (
    STRING_OPERATORS
    | {f"{family}{compare}" for family in ("time", "date", "dateTime") for compare in _COMPARISONS}
    | {"dayOfWeekEquals", "dayOfWeekAnyOf"}
)
# v1 has no operator on subjects, and `stringEquals` (the default) or `stringMatch` on resources.
V1_OPERATORS = frozenset({"stringEquals", "stringMatch"})

_BOOLEAN_OPERATORS = frozenset({"stringExists"})
_LIST_OPERATORS = frozenset({"stringEqualsAnyOf", "stringMatchAnyOf", "dayOfWeekAnyOf"})


def policy_from_v2(doc: Mapping[str, Any], *, policy_id: str, account_id: str) -> Policy:
    """A v2 policy body (`type`, `subject`, `resource`, `control`, `pattern`, `rule`)."""
    kind = _type(_mapping(doc, ""))
    subject = _mapping(_need(doc, "subject", ""), "subject")
    resource = _mapping(_need(doc, "resource", ""), "resource")
    tags = resource.get("tags")
    return Policy(
        id=policy_id,
        account_id=account_id,
        type=kind,
        subject=_v2_conditions(
            _need(subject, "attributes", "subject"), "subject.attributes", SUBJECT_OPERATORS
        ),
        resource=_v2_conditions(
            _need(resource, "attributes", "resource"), "resource.attributes", RESOURCE_OPERATORS
        ),
        roles=_v2_roles(_need(doc, "control", "")),
        tags=_v2_conditions(
            [] if tags is None else tags, "resource.tags", TAG_OPERATORS, allow_empty=True
        ),
        rule=_rule_and_pattern(doc),
    )


def policy_from_v1(doc: Mapping[str, Any], *, policy_id: str, account_id: str) -> Policy:
    """A v1 policy body (`type`, `subjects[1]`, `roles`, `resources[1]`); operators default to
    `stringEquals`."""
    kind = _type(_mapping(doc, ""))
    (subject,) = _exactly_one(_need(doc, "subjects", ""), "subjects")
    (resource,) = _exactly_one(_need(doc, "resources", ""), "resources")
    tags = resource.get("tags")
    return Policy(
        id=policy_id,
        account_id=account_id,
        type=kind,
        subject=_v1_conditions(
            _need(subject, "attributes", "subjects[0]"),
            "subjects[0].attributes",
            with_operator=False,
        ),
        resource=_v1_conditions(
            _need(resource, "attributes", "resources[0]"), "resources[0].attributes"
        ),
        roles=_roles(_need(doc, "roles", ""), "roles"),
        tags=_v1_conditions([] if tags is None else tags, "resources[0].tags", allow_empty=True),
    )


# -- the parts both shapes share ------------------------------------------------------------


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise PolicyError(f"`{where or 'the policy'}` must be an object", field=where or None)
    return value


def _need(container: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in container or container[key] is None:
        raise PolicyError(f"`{_join(where, key)}` is missing", field=_join(where, key))
    return container[key]


def _list(value: object, where: str, *, allow_empty: bool = False) -> Sequence[Any]:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise PolicyError(f"`{where}` must be a list", field=where)
    if not value and not allow_empty:
        raise PolicyError(f"`{where}` must not be empty", field=where)
    return value


def _exactly_one(value: object, where: str) -> tuple[Mapping[str, Any]]:
    items = _list(value, where)
    if len(items) != 1:
        raise PolicyError(f"`{where}` must hold exactly one element", field=where)
    return (_mapping(items[0], f"{where}[0]"),)


def _type(doc: Mapping[str, Any]) -> PolicyType:
    kind = _need(doc, "type", "")
    if kind == "access":
        return "access"
    if kind == "authorization":
        return "authorization"
    raise PolicyError(f"`type` is `access` or `authorization`, not `{kind}`", field="type")


def _string(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise PolicyError(f"`{where}` must be a string", field=where)
    if not 1 <= len(value) <= MAX_VALUE_LENGTH:
        raise PolicyError(
            f"`{where}` must be 1 to {MAX_VALUE_LENGTH} characters, not {len(value)}", field=where
        )
    return value


def _value(raw: object, operator: str, where: str) -> Value:
    """The value an operator takes: a boolean, a list of strings (as a tuple) or a string."""
    if operator in _BOOLEAN_OPERATORS:
        if not isinstance(raw, bool):
            raise PolicyError(f"`{operator}` takes true or false at `{where}`", field=where)
        return raw
    if operator in _LIST_OPERATORS:
        items = _list(raw, where)
        if operator == "stringEqualsAnyOf" and len(items) > MAX_ANY_OF:
            raise PolicyError(
                f"`{where}`: `{operator}` takes at most {MAX_ANY_OF} values, not {len(items)}",
                field=where,
            )
        return tuple(_string(item, f"{where}[{i}]") for i, item in enumerate(items))
    return _string(raw, where)


def _operator(raw: object, allowed: frozenset[str], where: str) -> str:
    if not isinstance(raw, str) or raw not in allowed:
        raise PolicyError(
            f"unknown operator `{raw}` at `{where}`; expected one of {', '.join(sorted(allowed))}",
            field=where,
        )
    return raw


def _roles(raw: object, where: str) -> tuple[str, ...]:
    roles = []
    for i, entry in enumerate(_list(raw, where)):
        here = f"{where}[{i}]"
        roles.append(_string(_need(_mapping(entry, here), "role_id", here), f"{here}.role_id"))
    return tuple(roles)


# -- v2 -------------------------------------------------------------------------------------


def _v2_condition(raw: object, where: str, operators: frozenset[str]) -> Condition:
    entry = _mapping(raw, where)
    key = _string(_need(entry, "key", where), f"{where}.key")
    operator = _operator(_need(entry, "operator", where), operators, f"{where}.operator")
    if "value" not in entry:
        raise PolicyError(f"`{where}.value` is missing", field=f"{where}.value")
    return Condition(key, operator, _value(entry["value"], operator, f"{where}.value"))


def _v2_conditions(
    raw: object, where: str, operators: frozenset[str], *, allow_empty: bool = False
) -> tuple[Condition, ...]:
    items = _list(raw, where, allow_empty=allow_empty)
    return tuple(_v2_condition(item, f"{where}[{i}]", operators) for i, item in enumerate(items))


def _v2_roles(control: object) -> tuple[str, ...]:
    grant = _need(_mapping(control, "control"), "grant", "control")
    return _roles(
        _need(_mapping(grant, "control.grant"), "roles", "control.grant"), "control.grant.roles"
    )


def _rule_and_pattern(doc: Mapping[str, Any]) -> Rule | None:
    """`pattern` is required whenever `rule` is given, and means nothing without one (§6.2)."""
    has_rule = doc.get("rule") is not None
    has_pattern = doc.get("pattern") is not None
    if has_rule and not has_pattern:
        raise PolicyError("`pattern` is required when a `rule` is given", field="pattern")
    if has_pattern and not has_rule:
        raise PolicyError("`pattern` is given without a `rule`", field="rule")
    if not has_rule:
        return None
    pattern = doc["pattern"]
    if pattern not in PATTERNS:
        raise PolicyError(
            f"`pattern`: unknown `{pattern}`; expected one of {', '.join(sorted(PATTERNS))}",
            field="pattern",
        )
    rule = _rule(doc["rule"], "rule", nested=False)
    if _leaves(rule) > MAX_RULE_CONDITIONS:
        raise PolicyError(
            f"`rule`: a rule holds at most {MAX_RULE_CONDITIONS} conditions, not {_leaves(rule)}",
            field="rule",
        )
    return rule


def _rule(raw: object, where: str, *, nested: bool) -> Rule:
    """A single `{key, operator, value}`, or `{operator: and|or, conditions: [...]}` whose
    conditions may themselves be `{operator, conditions}` one level down."""
    entry = _mapping(raw, where)
    if not _compound(entry):
        return Rule("single", (_v2_condition(entry, where, RULE_OPERATORS),))
    combine = entry.get("operator")
    if combine == "and" or combine == "or":
        parts: list[Condition | Rule] = []
        conditions = _list(_need(entry, "conditions", where), f"{where}.conditions")
        for i, item in enumerate(conditions):
            here = f"{where}.conditions[{i}]"
            if isinstance(item, Mapping) and _compound(item):
                if nested:
                    raise PolicyError(f"`{here}`: rules nest at most one level", field=here)
                parts.append(_rule(item, here, nested=True))
            else:
                parts.append(_v2_condition(item, here, RULE_OPERATORS))
        return Rule(combine, tuple(parts))
    raise PolicyError(
        f"`{where}.operator`: a rule combines its conditions with `and` or `or`, not `{combine}`",
        field=f"{where}.operator",
    )


def _compound(entry: Mapping[str, Any]) -> bool:
    return "conditions" in entry or entry.get("operator") in ("and", "or")


def _leaves(rule: Rule) -> int:
    return sum(_leaves(part) if isinstance(part, Rule) else 1 for part in rule.conditions)


# -- v1 -------------------------------------------------------------------------------------


def _v1_conditions(
    raw: object, where: str, *, with_operator: bool = True, allow_empty: bool = False
) -> tuple[Condition, ...]:
    conditions = []
    for i, item in enumerate(_list(raw, where, allow_empty=allow_empty)):
        here = f"{where}[{i}]"
        entry = _mapping(item, here)
        name = _string(_need(entry, "name", here), f"{here}.name")
        operator = "stringEquals"
        if with_operator and entry.get("operator") is not None:
            operator = _operator(entry["operator"], V1_OPERATORS, f"{here}.operator")
        value = _string(_need(entry, "value", here), f"{here}.value")
        conditions.append(Condition(name, operator, value))
    return tuple(conditions)
