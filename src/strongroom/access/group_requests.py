"""What callers send to IAM Access Groups (spec §5.1) and the rules on it. Pure.

Bodies reach the service raw, after the route's guard check, and are read here: a bad one is
an `Invalid` naming the field, and nothing is written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from strongroom.access.group_models import MEMBER_TYPES
from strongroom.errors import Invalid
from strongroom.identity.claim_rules import check_conditions, to_documents

MAX_NAME = 100  # IBM: an access group name is 1-100 characters
MAX_DESCRIPTION = 250
MAX_RULE_NAME = 128
MAX_REALM = 255
MAX_EXPIRATION = 24  # IBM: a dynamic membership lasts 1-24 hours after the login
MAX_MEMBERS_PER_CALL = 50
MAX_GROUPS_PER_CALL = 50
MAX_CLAIMS = 100
MAX_CLAIM_VALUES = 100
MAX_CLAIM_TEXT = 1024

# Spec §1 fact 12. A user is any `IBMid-` identifier (IBM's own test adds `IBMid-<n>`).
IAM_ID_FORMS = {
    "user": re.compile(r"^IBMid-[0-9A-Za-z]{1,64}$"),
    "service": re.compile(
        r"^iam-ServiceId-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
    ),
    "profile": re.compile(
        r"^iam-Profile-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
    ),
}
EXAMPLES = {
    "user": "IBMid-<letters and digits>",
    "service": "iam-ServiceId-<uuid>",
    "profile": "iam-Profile-<uuid>",
}


@dataclass(frozen=True, slots=True)
class RuleSpec:
    name: str
    expiration: int
    realm_name: str
    conditions: tuple[Mapping[str, str], ...]


@dataclass(frozen=True, slots=True)
class LoginSpec:
    iam_id: str
    realm_name: str
    claims: Mapping[str, str | list[str]]


def body_object(body: Any) -> Mapping[str, Any]:
    if body is None:
        return {}
    if not isinstance(body, Mapping):
        raise Invalid("`body` must be a JSON object", field="body")
    return body


def group_name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid("`name` must be a non-empty string", field="name")
    if len(value) > MAX_NAME:
        raise Invalid(f"`name` must be at most {MAX_NAME} characters", field="name")
    return value


def group_description(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > MAX_DESCRIPTION:
        raise Invalid(
            f"`description` must be a string of at most {MAX_DESCRIPTION} characters",
            field="description",
        )
    return value


def member_type(value: Any, field: str) -> str:
    if value not in MEMBER_TYPES:
        raise Invalid(f"`{field}` must be one of {', '.join(MEMBER_TYPES)}", field=field)
    return str(value)


def iam_id_of(value: Any, kind: str, field: str) -> str:
    if not isinstance(value, str) or not IAM_ID_FORMS[kind].match(value):
        shown = value if isinstance(value, str) else type(value).__name__
        raise Invalid(
            f"`{field}` `{str(shown)[:80]}` is not a {kind} iam_id ({EXAMPLES[kind]})", field=field
        )
    return value


def iam_id_any(value: Any, field: str) -> str:
    """An iam_id of any member type (a path parameter)."""
    if isinstance(value, str) and any(f.match(value) for f in IAM_ID_FORMS.values()):
        return value
    raise Invalid(
        f"`{field}` `{str(value)[:80]}` is not an iam_id of a user, service ID or profile",
        field=field,
    )


def members_to_add(body: Any) -> list[tuple[str, str]]:
    """`{members: [{iam_id, type}]}`, at most 50, duplicates dropped (spec §5.1)."""
    items = _list(body_object(body).get("members"), "members", MAX_MEMBERS_PER_CALL)
    out: dict[str, str] = {}
    for i, item in enumerate(items):
        where = f"members[{i}]"
        if not isinstance(item, Mapping):
            raise Invalid(f"`{where}` must be an object {{iam_id, type}}", field=where)
        kind = member_type(item.get("type"), f"{where}.type")
        out[iam_id_of(item.get("iam_id"), kind, f"{where}.iam_id")] = kind
    return list(out.items())


def members_to_remove(body: Any) -> list[str]:
    items = _list(body_object(body).get("members"), "members", MAX_MEMBERS_PER_CALL)
    out: dict[str, None] = {}
    for i, item in enumerate(items):
        if not isinstance(item, str) or not item:
            raise Invalid(f"`members[{i}]` must be an iam_id string", field=f"members[{i}]")
        out[item] = None
    return list(out)


def groups_to_join(body: Any) -> tuple[str, list[str]]:
    """`PUT /v2/groups/_allgroups/members/{iam_id}` body: `{type, groups: [ids]}`."""
    data = body_object(body)
    kind = member_type(data.get("type"), "type")
    items = _list(data.get("groups"), "groups", MAX_GROUPS_PER_CALL)
    for i, item in enumerate(items):
        if not isinstance(item, str) or not item:
            raise Invalid(f"`groups[{i}]` must be an access group id", field=f"groups[{i}]")
    return kind, list(dict.fromkeys(items))


def rule_spec(body: Any) -> RuleSpec:
    data = body_object(body)
    expiration = data.get("expiration")
    if (
        not isinstance(expiration, int)
        or isinstance(expiration, bool)
        or not 1 <= expiration <= MAX_EXPIRATION
    ):
        raise Invalid(
            f"`expiration` must be a whole number of hours from 1 to {MAX_EXPIRATION}",
            field="expiration",
        )
    realm = data.get("realm_name")
    if not isinstance(realm, str) or not realm.strip() or len(realm) > MAX_REALM:
        raise Invalid(
            f"`realm_name` must be a non-empty string of at most {MAX_REALM} characters",
            field="realm_name",
        )
    name = data.get("name", "")
    if not isinstance(name, str) or len(name) > MAX_RULE_NAME:
        raise Invalid(
            f"`name` must be a string of at most {MAX_RULE_NAME} characters", field="name"
        )
    conditions = to_documents(check_conditions(data.get("conditions")))
    return RuleSpec(name, expiration, realm, tuple(conditions))


def login_spec(body: Any) -> LoginSpec:
    data = body_object(body)
    iam_id = iam_id_of(data.get("iam_id"), "user", "iam_id")
    realm = data.get("realm_name")
    if not isinstance(realm, str) or not realm.strip() or len(realm) > MAX_REALM:
        raise Invalid(
            f"`realm_name` must be a non-empty string of at most {MAX_REALM} characters",
            field="realm_name",
        )
    claims = data.get("claims")
    if not isinstance(claims, Mapping) or len(claims) > MAX_CLAIMS:
        raise Invalid(f"`claims` must be an object of at most {MAX_CLAIMS} claims", field="claims")
    out: dict[str, str | list[str]] = {}
    for name, value in claims.items():
        where = f"claims.{name}"
        if not name or len(name) > MAX_CLAIM_TEXT:
            raise Invalid("claim names must be 1-1024 characters", field="claims")
        if isinstance(value, str) and len(value) <= MAX_CLAIM_TEXT:
            out[name] = value
        elif (
            isinstance(value, list)
            and len(value) <= MAX_CLAIM_VALUES
            and all(isinstance(v, str) and len(v) <= MAX_CLAIM_TEXT for v in value)
        ):
            out[name] = list(value)
        else:
            raise Invalid(
                f"`{where}` must be a string or a list of at most {MAX_CLAIM_VALUES} strings",
                field=where,
            )
    return LoginSpec(iam_id, realm, out)


def _list(value: Any, field: str, most: int) -> Sequence[Any]:
    if not isinstance(value, list) or not value:
        raise Invalid(f"`{field}` must be a non-empty list", field=field)
    if len(value) > most:
        raise Invalid(f"`{field}` holds at most {most} entries per request", field=field)
    return value
