"""What callers send to User Management (spec §10) and the rules on it: invitations, profile
and settings changes, the `search` expression. Pure."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from strongroom.errors import Invalid
from strongroom.identity.settings_rules import check_update
from strongroom.identity.user_models import AccountUser, MemberState

MAX_INVITES = 100  # users per invitation request
MAX_TEXT = 255
EMAIL = re.compile(
    r"^[^@\s\x00]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
# Seed 003 table 1: every invited user joins as a Member; the Owner is the account's creator.
INVITE_ROLES = ("Member",)
# States an administrator may set with PATCH; PROCESSING/PENDING come from invitations and
# ACTIVE from accepting one (spec §10).
SETTABLE_STATES = (
    MemberState.ACTIVE.value,
    MemberState.DISABLED_CLASSIC_INFRASTRUCTURE.value,
    MemberState.VPN_ONLY.value,
)
PROFILE_FIELDS = (
    "firstname",
    "lastname",
    "state",
    "email",
    "phonenumber",
    "altphonenumber",
    "photo",
)
SETTINGS_FIELDS = ("language", "notification_language", "allowed_ip_addresses", "self_manage")


@dataclass(frozen=True, slots=True)
class Invitation:
    emails: tuple[str, ...]
    policies: tuple[dict[str, Any], ...]  # `iam_policy` entries, without subjects
    access_groups: tuple[str, ...]


def check_email(value: object, field: str = "email") -> str:
    if not isinstance(value, str) or len(value) > 320 or not EMAIL.match(value):
        raise Invalid(f"`{field}` must be an e-mail address, not `{value}`", field=field)
    return value


def _object(body: object, allowed: tuple[str, ...]) -> dict[str, Any]:
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise Invalid("the request body must be a JSON object", field="body")
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise Invalid(f"unknown field `{unknown[0]}`", field=unknown[0])
    return body


def check_invitation(body: object) -> Invitation:
    data = _object(body, ("users", "iam_policy", "access_groups"))
    users = data.get("users")
    if not isinstance(users, list) or not users:
        raise Invalid("`users` must list at least one user to invite", field="users")
    if len(users) > MAX_INVITES:
        raise Invalid(f"at most {MAX_INVITES} users can be invited at once", field="users")
    emails: list[str] = []
    for i, user in enumerate(users):
        if not isinstance(user, dict) or set(user) - {"email", "account_role"}:
            raise Invalid(f"`users[{i}]` holds `email` and `account_role`", field="users")
        email = check_email(user.get("email"), f"users[{i}].email")
        role = user.get("account_role", "Member")
        if role not in INVITE_ROLES:
            raise Invalid(
                f"`users[{i}].account_role` must be `Member`, not `{role}`: an account has one"
                " owner, and invited users join as members (seed 003 table 1)",
                field="account_role",
            )
        if email.lower() in (e.lower() for e in emails):
            raise Invalid(f"`{email}` is listed twice", field="users")
        emails.append(email)
    policies = data.get("iam_policy") or []
    if not isinstance(policies, list) or not all(isinstance(p, dict) for p in policies):
        raise Invalid("`iam_policy` must be a list of policies", field="iam_policy")
    for i, policy in enumerate(policies):
        extra = set(policy) - {"type", "roles", "resources"}
        if extra:
            raise Invalid(
                f"`iam_policy[{i}]` holds `type`, `roles` and `resources`,"
                f" not `{sorted(extra)[0]}`",
                field="iam_policy",
            )
    groups = data.get("access_groups") or []
    if not isinstance(groups, list) or not all(isinstance(g, str) and g for g in groups):
        raise Invalid("`access_groups` must be a list of access group ids", field="access_groups")
    return Invitation(tuple(emails), tuple(policies), tuple(groups))


def policy_document(policy: Mapping[str, Any], iam_id: str, account_id: str) -> dict[str, Any]:
    """A v1 policy (spec §6.1) for one invited user: the invitation's roles and resources, with
    the user as subject; a resource that names no account is scoped to the inviting one."""
    resources = policy.get("resources")
    if isinstance(resources, list):
        resources = [_with_account(r, account_id) for r in resources]
    return {
        "type": policy.get("type"),
        "subjects": [{"attributes": [{"name": "iam_id", "value": iam_id}]}],
        "roles": policy.get("roles"),
        "resources": resources,
    }


def _with_account(resource: object, account_id: str) -> object:
    if not isinstance(resource, dict) or not isinstance(resource.get("attributes"), list):
        return resource
    attributes = resource["attributes"]
    if any(isinstance(a, dict) and a.get("name") == "accountId" for a in attributes):
        return resource
    return {**resource, "attributes": [{"name": "accountId", "value": account_id}, *attributes]}


def _text(data: Mapping[str, Any], name: str, *, limit: int = MAX_TEXT) -> str:
    value = data[name]
    if not isinstance(value, str) or len(value) > limit or "\x00" in value:
        raise Invalid(f"`{name}` must be a string of at most {limit} characters", field=name)
    return value


def check_profile_changes(body: object) -> dict[str, Any]:
    """`PATCH /v2/accounts/{account_id}/users/{iam_id}`: the fields it sets, each checked."""
    data = _object(body, PROFILE_FIELDS)
    changes: dict[str, Any] = {}
    for name, value in data.items():
        if value is None:
            continue
        if name == "email":
            changes[name] = check_email(value)
        elif name == "state":
            if value not in SETTABLE_STATES:
                raise Invalid(
                    f"`state` is one of {', '.join(SETTABLE_STATES)}, not `{value}`", field="state"
                )
            changes[name] = value
        else:
            changes[name] = _text(data, name, limit=65_536 if name == "photo" else MAX_TEXT)
    return changes


def check_settings_changes(body: object) -> dict[str, Any]:
    data = _object(body, SETTINGS_FIELDS)
    changes: dict[str, Any] = {}
    for name, value in data.items():
        if value is None:
            continue
        if name == "self_manage":
            if not isinstance(value, bool):
                raise Invalid("`self_manage` is true or false", field="self_manage")
            changes[name] = value
        elif name == "allowed_ip_addresses":
            changes[name] = check_update({name: value})[name]
        else:
            changes[name] = _text(data, name, limit=64)
    return changes


# -- search (spec §10 `list_users`: `prefix:value`, `,` between alternatives) ------------------

_CONTAINS: dict[str, Callable[[AccountUser], str]] = {
    "firstname": lambda u: u.profile.firstname,
    "lastname": lambda u: u.profile.lastname,
    "email": lambda u: u.profile.email,
    "userId": lambda u: u.profile.user_id,
}
_EQUALS: dict[str, Callable[[AccountUser], str]] = {
    "state": lambda u: u.state,
    "substate": lambda u: "",  # strongroom has no substates
    "iam_id": lambda u: u.user.iam_id,
    "realm": lambda u: u.user.realm,
}

Search = Callable[[AccountUser], bool]


def parse_search(expression: str | None) -> Search | None:
    if not expression:
        return None
    terms: list[tuple[Callable[[AccountUser], str], str, bool]] = []
    for term in expression.split(","):
        prefix, colon, value = term.strip().partition(":")
        if not colon or not value:
            raise Invalid(f"search term `{term}` is not `<field>:<value>`", field="search")
        if prefix in _CONTAINS:
            terms.append((_CONTAINS[prefix], value.casefold(), True))
        elif prefix in _EQUALS:
            terms.append((_EQUALS[prefix], value.casefold(), False))
        else:
            known = ", ".join([*_CONTAINS, *_EQUALS])
            raise Invalid(f"search field `{prefix}` is not one of {known}", field="search")

    def matches(user: AccountUser) -> bool:
        for get, wanted, contains in terms:
            have = get(user).casefold()
            if (wanted in have) if contains else (have == wanted):
                return True
        return False

    return matches
