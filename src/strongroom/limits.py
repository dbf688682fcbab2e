"""IBM Cloud IAM's account limits (reliability.md §4 "Account limits", test C7): the values,
read from limits.yaml (DATA) with the operator's overrides (`STRONGROOM_LIMITS__<NAME>`).

Pure: bootstrap loads them once and hands each service the `Limits`. The services count and
insert in one unit of work that holds the account's lock (the access revision row, or the
account row for identity objects), so concurrent creates never pass a limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from importlib import resources

import yaml


@dataclass(frozen=True, slots=True)
class Limits:
    policies_per_account: int
    policies_per_subject: int
    access_groups_per_account: int
    access_groups_per_member: int
    rules_per_access_group: int
    service_ids_per_account: int
    profiles_per_account: int
    custom_roles_per_account: int
    api_keys_per_identity: int


NAMES = tuple(f.name for f in fields(Limits))


class LimitsError(ValueError):
    """limits.yaml or an override is not a known limit with a positive whole value."""


def _positive(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise LimitsError(f"limit `{name}` must be a whole number, not `{value!r}`")
    try:
        number = int(value)
    except ValueError:
        raise LimitsError(f"limit `{name}` must be a whole number, not `{value!r}`") from None
    if number < 1:
        raise LimitsError(f"limit `{name}` must be at least 1, not {number}")
    return number


def defaults() -> dict[str, int]:
    """IBM's values, from limits.yaml."""
    text = resources.files("strongroom").joinpath("limits.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict) or set(data) != set(NAMES):
        raise LimitsError(f"limits.yaml must define exactly: {', '.join(NAMES)}")
    return {name: _positive(name, data[name]["value"]) for name in NAMES}


def load_limits(overrides: Mapping[str, object] | None = None) -> Limits:
    """The defaults with `overrides` (names case-insensitive) in their place; an unknown name
    or a value below 1 is refused, so a typo cannot silently leave IBM's value in force."""
    values = defaults()
    for key, value in (overrides or {}).items():
        name = key.lower()
        if name not in values:
            raise LimitsError(f"unknown limit `{key}`; known limits: {', '.join(NAMES)}")
        values[name] = _positive(name, value)
    return Limits(**values)
