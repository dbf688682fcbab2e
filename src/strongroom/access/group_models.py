"""IAM Access Groups objects (spec §5.1) as plain frozen dataclasses: groups, static members,
dynamic rules, the account's access-group settings, and the identity-provider logins that
dynamic rules are evaluated against."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

# Spec §1 fact 12: every account has this built-in group; its members are implicit (everyone
# in the account) and it can be neither renamed nor deleted.
PUBLIC_ACCESS = "AccessGroupId-PublicAccess"
PUBLIC_ACCESS_NAME = "Public Access"

MEMBER_TYPES = ("user", "service", "profile")


@dataclass(frozen=True, slots=True)
class AccessGroup:
    id: str
    account_id: str
    name: str
    description: str
    created_at: datetime
    created_by_id: str
    last_modified_at: datetime
    last_modified_by_id: str
    entity_tag: str


@dataclass(frozen=True, slots=True)
class GroupMember:
    """A static member: added by iam_id; it need not exist (IBM's own test adds a random one)."""

    group_id: str
    account_id: str
    iam_id: str
    type: str  # user | service | profile
    created_at: datetime
    created_by_id: str


@dataclass(frozen=True, slots=True)
class GroupRule:
    """A dynamic membership rule: a user who logs in through `realm_name` with claims meeting
    every condition is a member for `expiration` hours (spec §5.1 `Rule`)."""

    id: str
    group_id: str
    account_id: str
    name: str
    expiration: int  # hours
    realm_name: str
    conditions: tuple[Mapping[str, str], ...]  # exactly as sent: {claim, operator, value}
    created_at: datetime
    created_by_id: str
    last_modified_at: datetime
    last_modified_by_id: str
    entity_tag: str


@dataclass(frozen=True, slots=True)
class GroupSettings:
    """Spec §5.1 `AccountSettings`; an account that never changed them has public access on."""

    account_id: str
    public_access_enabled: bool = True
    last_modified_at: datetime | None = None
    last_modified_by_id: str | None = None


@dataclass(frozen=True, slots=True)
class FederatedLogin:
    """The latest login of a user through an identity provider realm, with the claims it
    asserted (recorded through strongroom's own `POST /v2/groups/_federated_logins`)."""

    account_id: str
    iam_id: str
    realm_name: str
    claims: Mapping[str, Any]  # claim name -> a string or a list of strings
    logged_in_at: datetime
