"""Enterprises, account groups and the enterprise's accounts (spec §9), as frozen dataclasses.

The hierarchy is a tree: the enterprise at the root, account groups nested under it or under each
other, accounts as leaves. Each node names its parent by CRN on the wire; in storage a node keeps
its parent account group's id, or None when its parent is the enterprise itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

SERVICE = "enterprise"
ACTIVE = "ACTIVE"
DELETED = "DELETED"


class Origin(StrEnum):
    """How an account came into its enterprise; only CREATED accounts may be deleted by it."""

    ENTERPRISE = "enterprise"  # the enterprise account itself, made with the enterprise
    SOURCE = "source"  # the account the enterprise was created from
    CREATED = "created"  # made by `POST /v1/accounts`
    IMPORTED = "imported"  # brought in by `PUT .../import/accounts/{id}`


def crn(enterprise_account_id: str, kind: str, ident: str) -> str:
    """`crn:v1:bluemix:public:enterprise::a/<enterprise account>::<kind>:<id>` (spec §9)."""
    return f"crn:v1:bluemix:public:{SERVICE}::a/{enterprise_account_id}::{kind}:{ident}"


@dataclass(frozen=True, slots=True)
class Changed:
    """Who made a node and who changed it last, and when (spec §9 `created_*`, `updated_*`)."""

    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str


@dataclass(frozen=True, slots=True)
class Enterprise:
    id: str
    account_id: str  # the enterprise account, made with the enterprise
    name: str
    domain: str | None
    state: str
    primary_contact_iam_id: str
    primary_contact_email: str
    source_account_id: str
    changed: Changed

    @property
    def crn(self) -> str:
        return crn(self.account_id, "enterprise", self.id)


@dataclass(frozen=True, slots=True)
class AccountGroup:
    id: str
    enterprise_id: str
    enterprise_account_id: str
    parent_group_id: str | None  # None: directly under the enterprise
    name: str
    state: str
    primary_contact_iam_id: str
    primary_contact_email: str
    changed: Changed

    @property
    def crn(self) -> str:
        return crn(self.enterprise_account_id, "account-group", self.id)


@dataclass(frozen=True, slots=True)
class EnterpriseAccount:
    """An account's place in its enterprise. Name, owner and existence stay in `accounts`."""

    account_id: str
    enterprise_id: str
    enterprise_account_id: str
    parent_group_id: str | None
    origin: Origin
    state: str
    changed: Changed

    @property
    def crn(self) -> str:
        return crn(self.enterprise_account_id, "account", self.account_id)


@dataclass(frozen=True, slots=True)
class ParentRef:
    """A parent CRN as a caller sent it, resolved to its enterprise and group."""

    enterprise: Enterprise
    group: AccountGroup | None

    @property
    def crn(self) -> str:
        return self.group.crn if self.group is not None else self.enterprise.crn

    @property
    def group_id(self) -> str | None:
        return None if self.group is None else self.group.id


@dataclass(frozen=True, slots=True)
class CreatedAccount:
    """What `POST /v1/accounts` answers: the account and, when asked for, its admin service ID
    with an API key shown this once."""

    account_id: str
    service_id: str | None = None
    apikey_id: str | None = None
    apikey: str | None = None


@dataclass(frozen=True, slots=True)
class CreatedEnterprise:
    enterprise_id: str
    enterprise_account_id: str
    service_id: str
    apikey_id: str
    apikey: str


@dataclass(frozen=True, slots=True)
class NodeQuery:
    """List filters shared by accounts and account groups (spec §9), with `next_docid` paging:
    the nodes of one enterprise whose parent is one of `parents` (None in it: the enterprise
    itself; `parents` None: any parent)."""

    enterprise_id: str
    parents: tuple[str | None, ...] | None = None
    include_deleted: bool = False
    offset: int = 0
    limit: int = 100


@dataclass(frozen=True, slots=True)
class AccountNode:
    """An enterprise's account as listed (spec §9 `Account`): its place, and from `accounts`
    its name, state and owner."""

    place: EnterpriseAccount
    parent: str  # CRN
    path: str
    name: str
    state: str
    owner_iam_id: str
    owner_email: str


@dataclass(frozen=True, slots=True)
class GroupNode:
    group: AccountGroup
    parent: str  # CRN
    path: str
