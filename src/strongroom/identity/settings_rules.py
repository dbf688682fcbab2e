"""Identity account settings (spec §4.4 `AccountSettingsResponse`): the fields, their defaults,
and the rules on what a `PUT` may set. Pure.

Values are kept exactly as sent: the numeric settings are strings (IBM sends `"3600"`), and
`NOT_SET` is a value of its own that clears an earlier setting.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from strongroom.errors import Invalid
from strongroom.identity.models import Versioned

NOT_SET = "NOT_SET"
RESTRICTED = "RESTRICTED"
NOT_RESTRICTED = "NOT_RESTRICTED"
RESTRICTION = (RESTRICTED, NOT_RESTRICTED, NOT_SET)
MFA = ("NONE", "NONE_NO_ROPC", "TOTP", "TOTP4ALL", "LEVEL1", "LEVEL2", "LEVEL3")

# Ranges of the numeric settings (spec §4.4; session invalidation and sessions per identity
# follow IBM's documentation of the same fields).
RANGES: Mapping[str, tuple[int, int]] = MappingProxyType(
    {
        "session_expiration_in_seconds": (900, 86_400),
        "session_invalidation_in_seconds": (900, 7_200),
        "max_sessions_per_identity": (1, 10),
        "system_access_token_expiration_in_seconds": (900, 3_600),
        "system_refresh_token_expiration_in_seconds": (900, 259_200),
    }
)

# What an account that never wrote its settings answers (every field of §4.4 is required).
DEFAULTS: Mapping[str, Any] = MappingProxyType(
    {
        "restrict_create_service_id": NOT_SET,
        "restrict_create_platform_apikey": NOT_SET,
        "allowed_ip_addresses": "",
        "mfa": "NONE",
        "user_mfa": [],
        "session_expiration_in_seconds": NOT_SET,
        "session_invalidation_in_seconds": NOT_SET,
        "max_sessions_per_identity": NOT_SET,
        "system_access_token_expiration_in_seconds": NOT_SET,
        "system_refresh_token_expiration_in_seconds": NOT_SET,
        "restrict_user_list_visibility": NOT_RESTRICTED,
        "restrict_user_domains": [],
    }
)

# The tag an account's settings carry before their first write; `If-Match` with it (or `*`)
# makes the first version.
UNWRITTEN_TAG = "0-" + "0" * 32


@dataclass(frozen=True, slots=True)
class IdentitySettings:
    account_id: str
    values: Mapping[str, Any]  # every key of DEFAULTS, as last sent
    meta: Versioned | None = None  # None until the first write

    @property
    def entity_tag(self) -> str:
        return self.meta.entity_tag if self.meta is not None else UNWRITTEN_TAG

    def restricted(self, name: str) -> bool:
        return bool(self.values.get(name) == RESTRICTED)

    def seconds(self, name: str) -> int | None:
        """A numeric setting in effect, or None when it is NOT_SET (the server default)."""
        value = self.values.get(name, NOT_SET)
        return None if value == NOT_SET else int(value)


def defaults_for(account_id: str) -> IdentitySettings:
    return IdentitySettings(account_id, dict(DEFAULTS))


def check_update(body: object) -> dict[str, Any]:
    """The fields a PUT body sets, each checked; unknown or malformed fields name themselves."""
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise Invalid("the request body must be a JSON object", field="body")
    unknown = sorted(set(body) - set(DEFAULTS))
    if unknown:
        raise Invalid(f"unknown account setting `{unknown[0]}`", field=unknown[0])
    changes: dict[str, Any] = {}
    for name, value in body.items():
        if value is None:
            continue  # the SDK drops None members; a literal null changes nothing either
        changes[name] = _check(name, value)
    return changes


def _check(name: str, value: Any) -> Any:
    if name in ("restrict_create_service_id", "restrict_create_platform_apikey"):
        return _one_of(name, value, RESTRICTION)
    if name == "restrict_user_list_visibility":
        return _one_of(name, value, (RESTRICTED, NOT_RESTRICTED))
    if name == "mfa":
        return _one_of(name, value, MFA)
    if name in RANGES:
        return _seconds(name, value)
    if name == "allowed_ip_addresses":
        return _addresses(value)
    if name == "user_mfa":
        return _user_mfa(value)
    return _user_domains(value)


def _one_of(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise Invalid(f"`{name}` is one of {', '.join(allowed)}, not `{value}`", field=name)
    return str(value)


def _seconds(name: str, value: Any) -> str:
    low, high = RANGES[name]
    if value == NOT_SET:
        return NOT_SET
    if not isinstance(value, str) or not value.isascii() or not value.isdigit():
        raise Invalid(
            f'`{name}` is a number of seconds as a string (e.g. `"{high}"`) or `NOT_SET`,'
            f" not `{value}`",
            field=name,
        )
    if not low <= int(value) <= high:
        raise Invalid(f"`{name}` must lie between {low} and {high}, not {value}", field=name)
    return value


def _addresses(value: Any) -> str:
    """A comma-separated list of IP addresses and networks; `""` allows every address."""
    if not isinstance(value, str):
        raise Invalid("`allowed_ip_addresses` must be a string", field="allowed_ip_addresses")
    for part in filter(None, (p.strip() for p in value.split(","))):
        try:
            ipaddress.ip_network(part, strict=False)
        except ValueError as exc:
            raise Invalid(
                f"`allowed_ip_addresses`: `{part}` is not an IP address or network",
                field="allowed_ip_addresses",
            ) from exc
    return value


def _user_mfa(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise Invalid("`user_mfa` must be a list", field="user_mfa")
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("iam_id"), str):
            raise Invalid("each `user_mfa` entry needs an `iam_id` string", field="user_mfa")
        _one_of("user_mfa.mfa", item.get("mfa"), MFA)
        if set(item) - {"iam_id", "mfa"}:
            raise Invalid("a `user_mfa` entry holds `iam_id` and `mfa` only", field="user_mfa")
    return value


def _user_domains(value: Any) -> list[dict[str, Any]]:
    name = "restrict_user_domains"
    if not isinstance(value, list):
        raise Invalid(f"`{name}` must be a list", field=name)
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("realm_id"), str):
            raise Invalid(f"each `{name}` entry needs a `realm_id` string", field=name)
        patterns = item.get("invitation_email_allow_patterns", [])
        if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
            raise Invalid(
                f"`{name}.invitation_email_allow_patterns` is a list of strings", field=name
            )
        if not isinstance(item.get("restrict_invitation", False), bool):
            raise Invalid(f"`{name}.restrict_invitation` is true or false", field=name)
        extra = set(item) - {"realm_id", "invitation_email_allow_patterns", "restrict_invitation"}
        if extra:
            raise Invalid(f"`{name}`: unknown member `{sorted(extra)[0]}`", field=name)
    return value
