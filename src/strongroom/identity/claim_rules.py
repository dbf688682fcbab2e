"""Claim conditions: how access-group dynamic rules (spec §5.1 `Rule`) and trusted-profile claim
rules (spec §4.3 `ProfileClaimRule`) test the claims an identity provider or a compute resource
asserts. Pure: no I/O, no clock.

A condition is `{claim, operator, value}`, where `value` is a *stringified JSON* value (IBM's
tests send `"\\"cloud-docs-dev\\""`); a value that is not JSON is taken as the plain string. A
claim may carry one string or several (SAML attributes are multi-valued): a positive operator
holds when any of them matches, a negated one when none does. A claim the assertion leaves out
matches no operator, negated ones included, so a rule never admits on missing information.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from strongroom.errors import Invalid

OPERATORS = (
    "EQUALS",
    "NOT_EQUALS",
    "EQUALS_IGNORE_CASE",
    "NOT_EQUALS_IGNORE_CASE",
    "CONTAINS",
    "IN",
)
MAX_CONDITIONS = 20
MAX_TEXT = 1024

Claims = Mapping[str, Any]  # claim name -> a string, or a list of strings


@dataclass(frozen=True, slots=True)
class ClaimCondition:
    claim: str
    operator: str
    value: str  # exactly as the client sent it (reads echo it)

    def holds(self, claims: Claims) -> bool:
        present = _values(claims.get(self.claim))
        if not present:
            return False
        wanted = _expected(self.value)
        op = self.operator
        if op == "EQUALS":
            return any(v in wanted for v in present)
        if op == "NOT_EQUALS":
            return not any(v in wanted for v in present)
        if op == "EQUALS_IGNORE_CASE":
            folded = {w.casefold() for w in wanted}
            return any(v.casefold() in folded for v in present)
        if op == "NOT_EQUALS_IGNORE_CASE":
            folded = {w.casefold() for w in wanted}
            return not any(v.casefold() in folded for v in present)
        if op == "CONTAINS":
            return any(w in v for v in present for w in wanted)
        if op == "IN":
            return any(v in wanted for v in present)
        return False  # unreachable for a checked condition


def all_hold(conditions: Iterable[ClaimCondition], claims: Claims) -> bool:
    """A rule admits when every one of its conditions holds (IBM: conditions are ANDed)."""
    return all(c.holds(claims) for c in conditions)


def check_conditions(raw: Any, *, field: str = "conditions") -> tuple[ClaimCondition, ...]:
    """Validate a request's `conditions` list; raise Invalid naming the bad field."""
    if not isinstance(raw, Sequence) or isinstance(raw, str | bytes) or not raw:
        raise Invalid(
            f"`{field}` must be a non-empty list of {{claim, operator, value}}", field=field
        )
    if len(raw) > MAX_CONDITIONS:
        raise Invalid(f"`{field}` holds at most {MAX_CONDITIONS} conditions", field=field)
    out = []
    for i, item in enumerate(raw):
        where = f"{field}[{i}]"
        if not isinstance(item, Mapping):
            raise Invalid(f"`{where}` must be an object {{claim, operator, value}}", field=where)
        claim, operator, value = item.get("claim"), item.get("operator"), item.get("value")
        if not isinstance(claim, str) or not claim.strip() or len(claim) > MAX_TEXT:
            raise Invalid(f"`{where}.claim` must be a non-empty string", field=f"{where}.claim")
        if operator not in OPERATORS:
            raise Invalid(
                f"`{where}.operator` must be one of {', '.join(OPERATORS)}",
                field=f"{where}.operator",
            )
        if not isinstance(value, str) or not value or len(value) > MAX_TEXT:
            raise Invalid(
                f"`{where}.value` must be a non-empty string (a JSON value as text)",
                field=f"{where}.value",
            )
        if operator == "IN" and not _expected(value):
            raise Invalid(
                f"`{where}.value` for IN must be a JSON list of strings", field=f"{where}.value"
            )
        out.append(ClaimCondition(claim, operator, value))
    return tuple(out)


def to_documents(conditions: Iterable[ClaimCondition]) -> list[dict[str, str]]:
    return [{"claim": c.claim, "operator": c.operator, "value": c.value} for c in conditions]


def _expected(value: str) -> tuple[str, ...]:
    try:
        parsed = json.loads(value)
    except ValueError:
        return (value,)
    if isinstance(parsed, list):
        return tuple(str(v) for v in parsed if isinstance(v, str | int | float | bool))
    if isinstance(parsed, str | int | float | bool):
        return (parsed if isinstance(parsed, str) else json.dumps(parsed),)
    return ()


def _values(raw: Any) -> tuple[str, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str):
        return (raw,)
    if isinstance(raw, list | tuple):
        return tuple(v if isinstance(v, str) else json.dumps(v) for v in raw)
    return (json.dumps(raw),)
