"""Identity objects as plain frozen dataclasses (no ORM); updates use `dataclasses.replace`."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from strongroom import ids
from strongroom.crn import iam_identity_crn


class AccountRole(StrEnum):
    """Seed 003 table 1: every account has one Owner; invited users are Members."""

    OWNER = "OWNER"
    MEMBER = "MEMBER"


class OwnerKind(StrEnum):
    """Whose API key it is: a user's (`user`) or a service ID's (`serviceid`), spec §4.1 `type`."""

    USER = "user"
    SERVICE_ID = "serviceid"


class LeakAction(StrEnum):
    NONE = "none"
    DISABLE = "disable"
    DELETE = "delete"


@dataclass(frozen=True, slots=True)
class HistoryRecord:
    """IBM's `EnityHistoryRecord` (sic): who changed an object, how, and when."""

    timestamp: datetime
    iam_id: str
    iam_id_account: str
    action: str
    params: tuple[str, ...]
    message: str


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    name: str
    owner_iam_id: str
    created_at: datetime
    state: str = "ACTIVE"


@dataclass(frozen=True, slots=True)
class User:
    """A person in the IBMid realm; users are global and join accounts through memberships."""

    iam_id: str
    email: str
    given_name: str
    family_name: str
    created_at: datetime
    realm: str = "IBMid"

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip() or self.email


@dataclass(frozen=True, slots=True)
class Membership:
    account_id: str
    iam_id: str
    role: AccountRole
    created_at: datetime
    state: str = "ACTIVE"


@dataclass(frozen=True, slots=True)
class Versioned:
    """What every mutable identity object carries for ETag/If-Match and history (spec §1 fact 6)."""

    created_at: datetime
    modified_at: datetime
    created_by: str
    entity_tag: str
    history: tuple[HistoryRecord, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class ServiceId:
    id: str
    iam_id: str
    account_id: str
    name: str
    description: str
    unique_instance_crns: tuple[str, ...]
    locked: bool
    meta: Versioned

    @property
    def crn(self) -> str:
        return iam_identity_crn(self.account_id, "serviceid", self.id)


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    account_id: str
    iam_id: str
    owner_kind: OwnerKind
    name: str
    description: str
    value_digest: str
    sealed_value: bytes | None  # only service-ID keys created with store_value=true
    locked: bool
    disabled: bool
    leaked: bool
    support_sessions: bool
    action_when_leaked: LeakAction
    expires_at: datetime | None
    meta: Versioned

    @property
    def crn(self) -> str:
        return iam_identity_crn(self.account_id, "apikey", self.id)

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now


def first_version(now: datetime, created_by: str, record: HistoryRecord) -> Versioned:
    return Versioned(
        created_at=now,
        modified_at=now,
        created_by=created_by,
        entity_tag=ids.new_entity_tag(1),
        history=(record,),
    )


def next_version(meta: Versioned, now: datetime, record: HistoryRecord) -> Versioned:
    """A write: new tag with the next version number, history appended."""
    version = ids.entity_tag_version(meta.entity_tag) + 1
    return replace(
        meta,
        modified_at=now,
        entity_tag=ids.new_entity_tag(version),
        history=(*meta.history, record),
    )
