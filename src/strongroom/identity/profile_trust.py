"""Who may act as a trusted profile (spec §3.1 assume and cr-token grants, §4.3). Pure.

- assume: the caller's iam_id is among the profile's identities as a user or service ID, and the
  caller's token is for the profile's account, or for an account that entry lists in `accounts`.
- cr-token: a compute resource's verified token (claims below) is admitted by one of the
  profile's links or by one of its Profile-CR claim rules.

Compute-resource token claims read (docs/user-guide.md, "Trusted compute-resource issuers"):
`crn` the compute resource's CRN (its `a/<account>` scope is the resource's account), `cr_type`
(VSI, PVS, BMS, IKS_SA, ROKS_SA, CE), `namespace` and `name` (Kubernetes service accounts),
`sub` (who the resource says it is, for `authn`); every claim is available to rule conditions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from strongroom.crn import CRN, CRNError
from strongroom.identity.claim_rules import all_hold
from strongroom.identity.profile_models import (
    SERVICE_ACCOUNT_CR_TYPES,
    ClaimRule,
    IdentityType,
    Profile,
    ProfileIdentity,
    ProfileLink,
    RuleType,
)

CALLER_TYPES = (IdentityType.USER, IdentityType.SERVICE_ID)


def may_assume(
    profile: Profile, identities: Iterable[ProfileIdentity], iam_id: str, account_id: str
) -> bool:
    for entry in identities:
        if entry.type not in CALLER_TYPES or entry.iam_id != iam_id:
            continue
        if account_id == profile.account_id or account_id in entry.accounts:
            return True
    return False


def resource_account(claims: Mapping[str, Any]) -> str | None:
    """The account of the compute resource: the `a/<account>` scope of its `crn` claim."""
    crn = claims.get("crn")
    if not isinstance(crn, str):
        return None
    try:
        return CRN.parse(crn).account_id
    except CRNError:
        return None


def link_admits(link: ProfileLink, profile: Profile, claims: Mapping[str, Any]) -> bool:
    if claims.get("crn") != link.link.crn:
        return False
    cr_type = claims.get("cr_type")
    if cr_type is not None and cr_type != link.cr_type:
        return False
    if link.cr_type in SERVICE_ACCOUNT_CR_TYPES:
        for key in ("namespace", "name"):
            wanted = getattr(link.link, key)
            if wanted is not None and claims.get(key) != wanted:
                return False
    # A resource of another account is admitted only by a link made for that.
    return link.is_cross_account or resource_account(claims) == profile.account_id


def rule_admits(rule: ClaimRule, profile: Profile, claims: Mapping[str, Any]) -> bool:
    if rule.type is not RuleType.CR or claims.get("cr_type") != rule.cr_type:
        return False
    # Rules are not cross-account: the resource must be the profile's account's own.
    if resource_account(claims) != profile.account_id:
        return False
    return all_hold(rule.conditions, claims)


def admits_compute_resource(
    profile: Profile,
    links: Iterable[ProfileLink],
    rules: Iterable[ClaimRule],
    claims: Mapping[str, Any],
) -> bool:
    return any(link_admits(link, profile, claims) for link in links) or any(
        rule_admits(rule, profile, claims) for rule in rules
    )
