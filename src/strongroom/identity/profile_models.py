"""Trusted profiles and their parts (spec §4.3) as plain frozen dataclasses.

A profile is an identity that others assume: a user or service ID listed among its identities
(assume grant), or a compute resource that one of its links or Profile-CR claim rules admits
(cr-token grant). Tokens for it carry the profile's own iam_id, so its own policies apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from strongroom.crn import iam_identity_crn
from strongroom.identity.claim_rules import ClaimCondition
from strongroom.identity.models import Versioned

# Spec §4.3: compute-resource types of Profile-CR rules and links.
CR_TYPES = ("VSI", "PVS", "BMS", "IKS_SA", "ROKS_SA", "CE")
# Kubernetes service accounts: a link may also name the namespace and the account's name.
SERVICE_ACCOUNT_CR_TYPES = ("IKS_SA", "ROKS_SA")


class RuleType(StrEnum):
    SAML = "Profile-SAML"
    CR = "Profile-CR"


class IdentityType(StrEnum):
    USER = "user"
    SERVICE_ID = "serviceid"
    CRN = "crn"


@dataclass(frozen=True, slots=True)
class Profile:
    id: str
    iam_id: str
    account_id: str
    name: str
    description: str
    email: str
    meta: Versioned
    identities_tag: str  # the identity set has its own entity tag (spec §4.3)

    @property
    def crn(self) -> str:
        return iam_identity_crn(self.account_id, "profile", self.id)


@dataclass(frozen=True, slots=True)
class ClaimRule:
    id: str
    profile_id: str
    type: RuleType
    name: str
    realm_name: str | None  # Profile-SAML
    cr_type: str | None  # Profile-CR
    expiration: int  # seconds a session from this rule lasts
    conditions: tuple[ClaimCondition, ...]
    created_at: datetime
    modified_at: datetime
    entity_tag: str


@dataclass(frozen=True, slots=True)
class LinkTarget:
    """What a link names: a compute resource by CRN, and for Kubernetes service accounts the
    namespace and name; component fields for Code Engine."""

    crn: str
    namespace: str | None = None
    name: str | None = None
    component_type: str | None = None
    component_name: str | None = None


@dataclass(frozen=True, slots=True)
class ProfileLink:
    id: str
    profile_id: str
    name: str
    cr_type: str
    is_cross_account: bool
    link: LinkTarget
    created_at: datetime
    modified_at: datetime
    entity_tag: str


@dataclass(frozen=True, slots=True)
class ProfileIdentity:
    """An identity that may assume the profile; `accounts` lists the other accounts it may do so
    from (spec §4.3 `ProfileIdentityResponse`)."""

    identifier: str  # as the client sent it
    type: IdentityType
    iam_id: str
    accounts: tuple[str, ...] = ()
    description: str = ""
