"""What callers send to the trusted-profile API (spec §4.3) and the rules on it. Pure.

Each check raises `Invalid` naming the field, before anything is read or written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from strongroom import ids
from strongroom.crn import CRN, CRNError
from strongroom.errors import Invalid
from strongroom.identity.claim_rules import ClaimCondition, check_conditions
from strongroom.identity.profile_models import (
    CR_TYPES,
    SERVICE_ACCOUNT_CR_TYPES,
    IdentityType,
    LinkTarget,
    ProfileIdentity,
    RuleType,
)
from strongroom.identity.requests import MAX_NAME, check_description

MAX_RULES = 20  # per profile (spec §4.3)
MAX_IDENTITIES = 1_000  # per profile (ours: the spec gives no limit)
MAX_EMAIL = 320
MAX_TEXT = 1024
DEFAULT_EXPIRATION = 43_200  # seconds; IBM's default session length for claim rules
EXPIRATION_RANGE = (900, 86_400)


@dataclass(frozen=True, slots=True)
class ProfileChanges:
    """`update_profile` body; None leaves a field as it is, `""` clears description/email."""

    name: str | None = None
    description: str | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """A checked claim rule body (create and update send the same fields)."""

    type: RuleType
    conditions: tuple[ClaimCondition, ...]
    name: str
    realm_name: str | None
    cr_type: str | None
    expiration: int


@dataclass(frozen=True, slots=True)
class LinkSpec:
    cr_type: str
    link: LinkTarget
    name: str
    is_cross_account: bool


@dataclass(frozen=True, slots=True)
class ProfileSelector:
    """How a token request names the profile (spec §3.1): by id, by CRN, or by name in an
    account."""

    profile_id: str | None = None
    profile_crn: str | None = None
    profile_name: str | None = None
    account_id: str | None = None


def check_email(email: str) -> str:
    if len(email) > MAX_EMAIL:
        raise Invalid(f"the email must be at most {MAX_EMAIL} characters", field="email")
    if email and ("@" not in email or any(c.isspace() for c in email)):
        raise Invalid(f"`{email}` is not an e-mail address", field="email")
    return email


def check_account_id(account_id: str, field: str = "account_id") -> str:
    if not ids.ACCOUNT_ID_RE.match(account_id):
        raise Invalid(
            f"`{field}`: `{account_id}` is not an account id (32 hex characters)", field=field
        )
    return account_id


def check_rule(
    *,
    type: str,
    conditions: Any,
    name: str | None = None,
    realm_name: str | None = None,
    cr_type: str | None = None,
    expiration: int | None = None,
) -> RuleSpec:
    if type not in tuple(RuleType):
        raise Invalid(f"`type` must be Profile-SAML or Profile-CR, not `{type}`", field="type")
    rule_type = RuleType(type)
    checked = check_conditions(conditions)
    _short(name or "", "name", MAX_NAME)
    if cr_type is not None:
        _cr_type(cr_type)
    if rule_type is RuleType.SAML:
        if not realm_name or not realm_name.strip():
            raise Invalid("a Profile-SAML rule needs `realm_name`", field="realm_name")
        _short(realm_name, "realm_name", MAX_TEXT)
        if cr_type is not None:
            raise Invalid("`cr_type` belongs to Profile-CR rules only", field="cr_type")
    elif cr_type is None:
        raise Invalid(f"a Profile-CR rule needs `cr_type`: {', '.join(CR_TYPES)}", field="cr_type")
    low, high = EXPIRATION_RANGE
    if expiration is not None and not low <= expiration <= high:
        raise Invalid(
            f"`expiration` is in seconds, {low} to {high}, not {expiration}", field="expiration"
        )
    return RuleSpec(
        type=rule_type,
        conditions=checked,
        name=name or "",
        realm_name=realm_name if rule_type is RuleType.SAML else None,
        cr_type=cr_type,
        expiration=DEFAULT_EXPIRATION if expiration is None else expiration,
    )


def check_link(
    *, cr_type: str, link: Mapping[str, Any], name: str | None, is_cross_account: bool | None
) -> LinkSpec:
    _cr_type(cr_type)
    crn = link.get("crn")
    if not isinstance(crn, str) or not crn:
        raise Invalid("`link.crn` is required: the compute resource's CRN", field="link.crn")
    try:
        CRN.parse(crn)  # the form only: IBM's own tests use cname `staging`
    except CRNError as exc:
        raise Invalid(f"`link.crn`: {exc}", field="link.crn") from exc
    fields = ("namespace", "name", "component_type", "component_name")
    values: dict[str, str | None] = {}
    for key in fields:
        value = link.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > MAX_NAME):
            raise Invalid(f"`link.{key}` must be text of at most {MAX_NAME}", field=f"link.{key}")
        values[key] = value or None
    if cr_type in SERVICE_ACCOUNT_CR_TYPES:
        for key in ("namespace", "name"):
            if values[key] is None:
                raise Invalid(
                    f"a {cr_type} link names the service account: `link.{key}` is required",
                    field=f"link.{key}",
                )
    _short(name or "", "name", MAX_NAME)
    return LinkSpec(
        cr_type=cr_type,
        link=LinkTarget(crn=crn, **values),
        name=name or "",
        is_cross_account=bool(is_cross_account),
    )


def check_identity(
    *,
    identifier: str,
    type: str,
    accounts: Sequence[str] | None = None,
    description: str | None = None,
    field: str = "",
) -> ProfileIdentity:
    """One entry of a profile's identities; `field` prefixes the names in errors."""
    if type not in tuple(IdentityType):
        raise Invalid(
            f"`{field}type` must be user, serviceid or crn, not `{type}`", field=f"{field}type"
        )
    kind = IdentityType(type)
    if not identifier or not identifier.strip() or len(identifier) > MAX_TEXT:
        raise Invalid(f"`{field}identifier` must be non-empty text", field=f"{field}identifier")
    if kind is IdentityType.USER:
        iam_id = identifier
    elif kind is IdentityType.SERVICE_ID:
        # Either the service ID (`ServiceId-…`) or its iam_id (`iam-ServiceId-…`).
        iam_id = identifier if identifier.startswith("iam-") else f"iam-{identifier}"
    else:
        try:
            CRN.parse(identifier)
        except CRNError as exc:
            raise Invalid(f"`{field}identifier`: {exc}", field=f"{field}identifier") from exc
        iam_id = f"crn-{identifier}"
    for n, account in enumerate(accounts or ()):
        check_account_id(account, f"{field}accounts[{n}]")
    try:
        check_description(description or "")
    except Invalid as exc:
        raise Invalid(f"`{field}description`: {exc.message}", field=f"{field}description") from exc
    return ProfileIdentity(
        identifier=identifier,
        type=kind,
        iam_id=iam_id,
        accounts=tuple(accounts or ()),
        description=description or "",
    )


def check_identities(raw: Sequence[Mapping[str, Any]]) -> tuple[ProfileIdentity, ...]:
    if len(raw) > MAX_IDENTITIES:
        raise Invalid(f"a profile has at most {MAX_IDENTITIES} identities", field="identities")
    out: dict[str, ProfileIdentity] = {}
    for n, item in enumerate(raw):
        identity = check_identity(
            identifier=item.get("identifier") or "",
            type=item.get("type") or "",
            accounts=item.get("accounts"),
            description=item.get("description"),
            field=f"identities[{n}].",
        )
        if identity.iam_id in out:
            raise Invalid(
                f"`identities[{n}].identifier`: `{identity.identifier}` is listed twice",
                field=f"identities[{n}].identifier",
            )
        out[identity.iam_id] = identity
    return tuple(out.values())


def _cr_type(value: str) -> None:
    if value not in CR_TYPES:
        raise Invalid(
            f"`cr_type` must be one of {', '.join(CR_TYPES)}, not `{value}`", field="cr_type"
        )


def _short(value: str, field: str, limit: int) -> None:
    if len(value) > limit:
        raise Invalid(f"`{field}` must be at most {limit} characters", field=field)
