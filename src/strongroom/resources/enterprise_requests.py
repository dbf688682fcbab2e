"""What callers send to Enterprise Management (spec §9) and the rules on it. Pure.

Bodies arrive as raw JSON; each check names the offending field, and nothing is written before
every check has passed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from strongroom.crn import CRN, CRNError
from strongroom.errors import Invalid
from strongroom.resources.enterprise_models import SERVICE

NAME_MIN, NAME_MAX = (
    3,
    60,
)  # spec §9: account names 3-60; IBM says the same of groups and enterprises
DOMAIN_MAX = 253
ID = re.compile(r"^[0-9a-f]{32}$")
IAM_ID = re.compile(r"^[A-Za-z0-9_.:@-]{1,128}$")
PARENT_KINDS = ("enterprise", "account-group")


@dataclass(frozen=True, slots=True)
class ParentCrn:
    """A parent as named on the wire: the enterprise account in its scope, its kind and id."""

    text: str
    enterprise_account_id: str
    kind: str  # enterprise | account-group
    ident: str


@dataclass(frozen=True, slots=True)
class NewEnterprise:
    source_account_id: str
    name: str
    primary_contact_iam_id: str
    domain: str | None


@dataclass(frozen=True, slots=True)
class NewAccount:
    parent: ParentCrn
    name: str
    owner_iam_id: str
    with_service_id: bool  # options.create_iam_service_id_with_apikey_and_owner_policies


@dataclass(frozen=True, slots=True)
class NewGroup:
    parent: ParentCrn
    name: str
    primary_contact_iam_id: str


def body_object(body: object, allowed: tuple[str, ...]) -> dict[str, Any]:
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise Invalid("the request body must be a JSON object", field="body")
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise Invalid(f"unknown field `{unknown[0]}`", field=unknown[0])
    return body


def check_name(value: object, field: str = "name") -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid(f"`{field}` is required: {NAME_MIN}-{NAME_MAX} characters", field=field)
    if not NAME_MIN <= len(value) <= NAME_MAX:
        raise Invalid(
            f"`{field}` must have {NAME_MIN}-{NAME_MAX} characters, not {len(value)}", field=field
        )
    return value


def check_iam_id(value: object, field: str) -> str:
    if not isinstance(value, str) or not IAM_ID.match(value):
        raise Invalid(f"`{field}` must be an IAM ID such as `IBMid-…`, not `{value}`", field=field)
    return value


def check_id(value: object, field: str) -> str:
    if not isinstance(value, str) or not ID.match(value):
        raise Invalid(f"`{field}` must be 32 lowercase hex characters, not `{value}`", field=field)
    return value


def check_domain(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > DOMAIN_MAX:
        raise Invalid(
            f"`domain` must be a string of at most {DOMAIN_MAX} characters", field="domain"
        )
    return value


def check_parent(value: object, field: str = "parent") -> ParentCrn:
    """`crn:v1:bluemix:public:enterprise::a/<enterprise account>::<kind>:<id>`, kind
    `enterprise` or `account-group`."""
    if not isinstance(value, str) or not value:
        raise Invalid(
            f"`{field}` is required: the CRN of an enterprise or account group", field=field
        )
    try:
        parsed = CRN.parse(value)
    except CRNError as exc:
        raise Invalid(f"`{field}`: {exc}", field=field) from exc
    account = parsed.account_id
    if (
        parsed.service_name != SERVICE
        or parsed.resource_type not in PARENT_KINDS
        or account is None
        or not ID.match(account)
        or not ID.match(parsed.resource)
    ):
        raise Invalid(
            f"`{field}` `{value}` is not the CRN of an enterprise or account group", field=field
        )
    return ParentCrn(value, account, parsed.resource_type, parsed.resource)


def check_new_enterprise(body: object) -> NewEnterprise:
    data = body_object(body, ("source_account_id", "name", "primary_contact_iam_id", "domain"))
    return NewEnterprise(
        source_account_id=check_id(data.get("source_account_id"), "source_account_id"),
        name=check_name(data.get("name")),
        primary_contact_iam_id=check_iam_id(
            data.get("primary_contact_iam_id"), "primary_contact_iam_id"
        ),
        domain=check_domain(data.get("domain")),
    )


def check_enterprise_changes(body: object) -> dict[str, Any]:
    data = body_object(body, ("name", "domain", "primary_contact_iam_id"))
    changes: dict[str, Any] = {}
    if data.get("name") is not None:
        changes["name"] = check_name(data["name"])
    if data.get("domain") is not None:
        changes["domain"] = check_domain(data["domain"])
    if data.get("primary_contact_iam_id") is not None:
        changes["primary_contact_iam_id"] = check_iam_id(
            data["primary_contact_iam_id"], "primary_contact_iam_id"
        )
    return changes


def check_new_account(body: object) -> NewAccount:
    data = body_object(body, ("parent", "name", "owner_iam_id", "traits", "options"))
    parent = check_parent(data.get("parent"))
    name = check_name(data.get("name"))
    owner = check_iam_id(data.get("owner_iam_id"), "owner_iam_id")
    traits = data.get("traits")
    if traits is not None:
        body_object(traits, ("mfa", "enterprise_iam_managed"))
    options = data.get("options")
    with_sid = False
    if options is not None:
        opts = body_object(options, ("create_iam_service_id_with_apikey_and_owner_policies",))
        flag = opts.get("create_iam_service_id_with_apikey_and_owner_policies", False)
        if not isinstance(flag, bool):
            raise Invalid(
                "`options.create_iam_service_id_with_apikey_and_owner_policies` must be a boolean",
                field="options",
            )
        with_sid = flag
    return NewAccount(parent, name, owner, with_sid)


def check_move(body: object) -> ParentCrn:
    return check_parent(body_object(body, ("parent",)).get("parent"))


def check_import(body: object) -> ParentCrn | None:
    data = body_object(body, ("parent", "billing_unit_id"))
    return None if data.get("parent") is None else check_parent(data["parent"])


def check_new_group(body: object) -> NewGroup:
    data = body_object(body, ("parent", "name", "primary_contact_iam_id"))
    return NewGroup(
        parent=check_parent(data.get("parent")),
        name=check_name(data.get("name")),
        primary_contact_iam_id=check_iam_id(
            data.get("primary_contact_iam_id"), "primary_contact_iam_id"
        ),
    )


def check_group_changes(body: object) -> dict[str, Any]:
    data = body_object(body, ("name", "primary_contact_iam_id"))
    changes: dict[str, Any] = {}
    if data.get("name") is not None:
        changes["name"] = check_name(data["name"])
    if data.get("primary_contact_iam_id") is not None:
        changes["primary_contact_iam_id"] = check_iam_id(
            data["primary_contact_iam_id"], "primary_contact_iam_id"
        )
    return changes
