"""The rules a policy document must satisfy before Policy Management stores it (spec §6.1, §6.2,
§6.4), beyond what the engine's own `compile.validate` checks, and the targets seed 003 table 4
asks an administrator of. Pure: the catalog and custom roles come in as arguments.

Every refusal is an `Invalid` naming the field by its path in the document as the client sent
it (`resources[0].attributes`, `control.grant.roles[1].role_id`), so a 400 says what to fix.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from strongroom.crn import CRN, CRNError
from strongroom.errors import Invalid
from strongroom.policy import Catalog, Condition, Policy, PolicyError
from strongroom.policy.compile import CustomRole, validate
from strongroom.policy.documents import policy_from_v1, policy_from_v2

MAX_DESCRIPTION = 300  # IBM: a policy description is at most 300 characters

# The top-level members each family's body may carry (spec §6.1, §6.2). Anything else a client
# sends (e.g. `id`, `href` or `created_at` copied from a GET) is not part of the policy and is
# not stored, so it can never be echoed back as if it were current.
DOCUMENT_KEYS = {
    "v1": ("type", "description", "subjects", "roles", "resources"),
    "v2": ("type", "description", "subject", "resource", "control", "pattern", "rule"),
}

# An access policy's resource must name one of these besides `accountId` (spec §6.1).
SCOPING_ATTRIBUTES = ("serviceType", "serviceName", "resourceGroupId", "service_group_id")
# ... or be a policy on a resource group itself (seed 004 table 1, "Resource group access"):
# `resourceType: resource-group` and `resource: <group id>`, with no service, as IBM writes it.
RESOURCE_GROUP_TYPE = "resource-group"

# The resource attributes that describe a policy's target for seed 003 table 4 (who may grant
# on it). Only `stringEquals` values count: a wildcard or any-of target is treated as broader.
TARGET_ATTRIBUTES = (
    "accountId",
    "serviceName",
    "serviceInstance",
    "resourceGroupId",
    "serviceType",
    "resourceType",
    "resource",
)
SERVICE_KINDS = ("service", "platform_service")


def document_of(raw: object, version: str) -> dict[str, Any]:
    """The policy members of a request body, in the order sent; nulls count as absent."""
    if not isinstance(raw, Mapping):
        raise Invalid("the request body must be a JSON object holding the policy", field="body")
    refuse_nul(raw, "")
    doc = {key: raw[key] for key in raw if key in DOCUMENT_KEYS[version] and raw[key] is not None}
    description = doc.get("description")
    if description is not None and (
        not isinstance(description, str) or len(description) > MAX_DESCRIPTION
    ):
        raise Invalid(
            f"`description` must be a string of at most {MAX_DESCRIPTION} characters",
            field="description",
        )
    return doc


def refuse_nul(value: object, where: str) -> None:
    """PostgreSQL text cannot hold NUL; refusing it for every backend keeps them alike."""
    if isinstance(value, str):
        if "\x00" in value:
            raise Invalid(f"`{where or 'body'}` contains a NUL character", field=where or "body")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            refuse_nul(key, where)
            refuse_nul(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            refuse_nul(item, f"{where}[{i}]")


def invalid(message: str, field: str | None) -> Invalid:
    """A 400 whose message names the field (the envelope carries only the message, and the
    SDK shows only that): `resources[0].attributes`: the resource must name ..."""
    if field and field != "body" and f"`{field}" not in message:
        message = f"`{field}`: {message}"
    return Invalid(message, field=field)


def field_in(version: str, generic: str | None) -> str | None:
    """The engine names fields in v2 terms (`subject`, `resource`, `roles`); say them as the
    client's own family does."""
    if generic is None:
        return None
    if version == "v1":
        for v2, v1 in (("subject", "subjects[0]"), ("resource", "resources[0]")):
            if generic == v2 or generic.startswith(f"{v2}."):
                return v1 + generic[len(v2) :]
        return generic
    return "control.grant.roles" if generic == "roles" else generic


def roles_field(version: str, index: int) -> str:
    return f"roles[{index}].role_id" if version == "v1" else f"control.grant.roles[{index}].role_id"


def parse(doc: Mapping[str, Any], version: str, *, policy_id: str, account_id: str) -> Policy:
    parser = policy_from_v2 if version == "v2" else policy_from_v1
    try:
        return parser(doc, policy_id=policy_id, account_id=account_id)
    except PolicyError as exc:
        raise invalid(str(exc), exc.field) from exc


def equals(conditions: Iterable[Condition], key: str) -> str | None:
    for condition in conditions:
        if (
            condition.key == key
            and condition.operator == "stringEquals"
            and isinstance(condition.value, str)
        ):
            return condition.value
    return None


def custom_role_account(role_crn: str) -> tuple[str, str] | None:
    """(account, name) of a custom role CRN (`...:a/<account>::customRole:<Name>`), else None."""
    try:
        crn = CRN.parse(role_crn)
    except CRNError:
        return None
    if crn.resource_type != "customRole" or crn.account_id is None:
        return None
    return crn.account_id, crn.resource


def check(
    policy: Policy, version: str, catalog: Catalog, custom_roles: Sequence[CustomRole]
) -> None:
    """Everything a stored policy must satisfy; raises Invalid naming the first problem."""
    for i, role in enumerate(policy.roles):
        try:
            CRN.parse(role)
        except CRNError as exc:
            raise invalid(str(exc), roles_field(version, i)) from exc
    try:
        validate(policy, catalog, custom_roles)
    except PolicyError as exc:
        raise invalid(str(exc), field_in(version, exc.field)) from exc
    resource_field = field_in(version, "resource.attributes")
    keys = {c.key for c in policy.resource}
    on_group = equals(policy.resource, "resourceType") == RESOURCE_GROUP_TYPE and bool(
        equals(policy.resource, "resource")
    )
    if not keys & set(SCOPING_ATTRIBUTES) and not on_group:
        raise invalid(
            "the resource must name `accountId` and one of "
            + ", ".join(SCOPING_ATTRIBUTES)
            + ", or be a resource group (`resourceType` `resource-group` and its `resource`)",
            resource_field,
        )
    if policy.type == "authorization":
        _check_authorization_subject(policy, version, catalog)
    _check_services(policy, version, catalog, {r.crn: r for r in custom_roles})


def _check_authorization_subject(policy: Policy, version: str, catalog: Catalog) -> None:
    """Spec §6.4: the source service's own account. Tenants here are isolated from each other,
    so an authorization names a source in the policy's own account (a cross-account source
    would let another tenant's service act here)."""
    where = field_in(version, "subject.attributes")
    account = equals(policy.subject, "accountId")
    if account is not None and account != policy.account_id:
        raise invalid(
            f"the subject's `accountId` `{account}` is not the policy's account"
            f" `{policy.account_id}`",
            where,
        )
    source = equals(policy.subject, "serviceName")
    if source is not None and catalog.service(source) is None:
        raise invalid(f"unknown source service `{source}`", where)


def _check_services(
    policy: Policy, version: str, catalog: Catalog, custom: Mapping[str, CustomRole]
) -> None:
    """A named target service must exist, and every role must mean something there: a role the
    service's catalog defines, or a custom role made for that service (spec §6.3)."""
    service = equals(policy.resource, "serviceName")
    found = catalog.service(service) if service is not None else None
    if service is not None and found is None:
        where = field_in(version, "resource.attributes")
        raise invalid(f"unknown service `{service}`", where)
    for i, role in enumerate(policy.roles):
        own = custom.get(role)
        if own is not None:
            if own.service != service:
                raise invalid(
                    f"custom role `{role}` is a role of `{own.service}`; the resource must name"
                    f" serviceName `{own.service}`",
                    roles_field(version, i),
                )
        elif found is not None and role not in found.roles:
            raise invalid(
                f"role `{role}` is not a role of service `{service}`",
                roles_field(version, i),
            )


def admin_targets(policy: Policy) -> list[dict[str, str]]:
    """The resources whose Administrator may grant this policy (seed 003 table 4).

    A target naming a service or a service type needs Administrator there. One naming neither
    ("all services in the account", or all of a resource group) needs Administrator on every
    IAM-enabled service AND every account management service: the account administrator.
    """
    target = {
        key: value
        for key in TARGET_ATTRIBUTES
        if (value := equals(policy.resource, key)) is not None
    }
    target["accountId"] = policy.account_id
    if "serviceName" in target or target.get("serviceType") in SERVICE_KINDS:
        return [target]
    return [{**target, "serviceType": kind} for kind in SERVICE_KINDS]
