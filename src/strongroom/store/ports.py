"""The storage port: one repository per aggregate, and a unit of work that owns the transaction.

A unit of work commits on normal exit and rolls back on an exception, so a rejected request
writes nothing. Updates are conditional on the entity tag the caller read (optimistic
concurrency): `update` returns False when another writer got there first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Generic, Protocol, Self, TypeVar

from strongroom.identity.filters import Expr
from strongroom.identity.models import Account, ApiKey, Membership, ServiceId, User
from strongroom.identity.settings_rules import IdentitySettings
from strongroom.identity.user_models import UserProfile

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ListQuery:
    account_id: str
    iam_id: str | None = None  # API keys: whose keys
    owner_kind: str | None = None  # API keys: "user" | "serviceid"
    name: str | None = None  # exact name
    filter: Expr | None = None
    sort: str = "created_at"
    descending: bool = False
    offset: int = 0
    limit: int = 20


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    has_more: bool


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str
    created_at: datetime
    sealed_private_key: bytes
    public_jwk: dict[str, str]
    retired_at: datetime | None = None  # no longer signs
    publish_until: datetime | None = None  # dropped from the JWKS after this


@dataclass(frozen=True, slots=True)
class RefreshToken:
    id: str
    digest: str
    family_id: str
    iam_id: str
    account_id: str
    apikey_id: str
    client_id: str
    scope: str
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class StoredPolicy:
    """A policy as IAM Policy Management keeps it (spec §6.1, §6.2).

    `document` is exactly what the client sent (subject, resource, control or roles, rule,
    pattern, description), so reads echo it unchanged (spec §1 fact 9). The `subject_*`,
    `service_*` columns are copies taken from it for the list filters.
    """

    id: str
    account_id: str
    type: str  # access | authorization
    version: str  # v1 | v2: which API family wrote it (its href)
    document: Mapping[str, Any]
    subject_iam_id: str | None
    subject_group_id: str | None
    subject_service: str | None  # authorization policies: the calling service
    service_name: str | None
    service_type: str | None
    state: str  # active | deleted
    created_at: datetime
    created_by_id: str
    last_modified_at: datetime
    last_modified_by_id: str
    entity_tag: str


@dataclass(frozen=True, slots=True)
class StoredRole:
    """A custom role: an account's name for a set of one service's actions (spec §6.3)."""

    id: str
    account_id: str
    name: str
    service_name: str
    display_name: str
    description: str
    actions: tuple[str, ...]
    crn: str
    created_at: datetime
    created_by_id: str
    last_modified_at: datetime
    last_modified_by_id: str
    entity_tag: str


@dataclass(frozen=True, slots=True)
class PolicyQuery:
    account_id: str
    iam_id: str | None = None
    access_group_id: str | None = None
    type: str | None = None
    service_type: str | None = None
    service_name: str | None = None
    state: str | None = "active"
    sort: str = "created_at"
    descending: bool = False
    offset: int = 0
    limit: int = 50


class AccountRepo(Protocol):
    def add(self, account: Account) -> None: ...
    def get(self, account_id: str) -> Account | None: ...
    def count(self) -> int: ...


class UserRepo(Protocol):
    def add(self, user: User) -> None: ...
    def get(self, iam_id: str) -> User | None: ...
    def add_membership(self, membership: Membership) -> None: ...
    def membership(self, account_id: str, iam_id: str) -> Membership | None: ...


class ServiceIdRepo(Protocol):
    def add(self, service_id: ServiceId) -> None: ...
    def get(self, service_id: str) -> ServiceId | None: ...
    def get_by_iam_id(self, iam_id: str) -> ServiceId | None: ...
    def list(self, query: ListQuery) -> Page[ServiceId]: ...
    def update(self, service_id: ServiceId, expected_tag: str) -> bool: ...
    def delete(self, service_id: str) -> bool: ...
    def count(self, account_id: str) -> int: ...


class ApiKeyRepo(Protocol):
    def add(self, key: ApiKey) -> None: ...
    def get(self, key_id: str) -> ApiKey | None: ...
    def get_by_digest(self, digest: str) -> ApiKey | None: ...
    def list(self, query: ListQuery) -> Page[ApiKey]: ...
    def update(self, key: ApiKey, expected_tag: str) -> bool: ...
    def delete(self, key_id: str) -> bool: ...
    def delete_owned_by(self, iam_id: str) -> int: ...
    def count_owned_by(self, iam_id: str) -> int: ...


class SigningKeyRepo(Protocol):
    def add(self, key: SigningKey) -> None: ...
    def all(self) -> list[SigningKey]: ...
    def retire(self, kid: str, retired_at: datetime, publish_until: datetime) -> None: ...
    def delete_unpublished(self, now: datetime) -> int: ...


class RefreshTokenRepo(Protocol):
    def add(self, token: RefreshToken) -> None: ...
    def get_by_digest(self, digest: str) -> RefreshToken | None: ...
    def mark_used(self, token_id: str, when: datetime) -> bool: ...
    def revoke_family(self, family_id: str, when: datetime) -> int: ...


class MetaRepo(Protocol):
    """Small server-wide facts (e.g. the root-key check value), set once."""

    def get(self, key: str) -> str | None: ...
    def put_new(self, key: str, value: str) -> bool: ...


class PolicyRepo(Protocol):
    def add(self, policy: StoredPolicy) -> None: ...
    def get(self, policy_id: str) -> StoredPolicy | None: ...
    def update(self, policy: StoredPolicy, expected_tag: str) -> bool: ...
    def delete(self, policy_id: str) -> bool: ...
    def list(self, query: PolicyQuery) -> Page[StoredPolicy]: ...
    def active_in(self, account_id: str) -> Sequence[StoredPolicy]: ...
    def count(self, account_id: str) -> int: ...


class RoleRepo(Protocol):
    def add(self, role: StoredRole) -> None: ...
    def get(self, role_id: str) -> StoredRole | None: ...
    def get_by_name(self, account_id: str, name: str) -> StoredRole | None: ...
    def update(self, role: StoredRole, expected_tag: str) -> bool: ...
    def delete(self, role_id: str) -> bool: ...
    def list(self, account_id: str, service_name: str | None = None) -> Sequence[StoredRole]: ...


class RevisionRepo(Protocol):
    """Each account's access revision: bumped in the same transaction as every change to its
    policies, roles or memberships, so a cache keyed by it is never stale after a commit."""

    def current(self, account_id: str) -> int: ...
    def bump(self, account_id: str) -> int: ...


# -- users and identity account settings (branch `users`) ---------------------------------------


class AccountUserRepo(Protocol):
    """An account's users beyond the owner's membership row (spec §10): memberships by account,
    their states, and the profile and settings the account keeps for each user."""

    def user_by_email(self, email: str) -> User | None: ...
    def memberships(self, account_id: str) -> Sequence[Membership]: ...
    def member_states(self, account_id: str) -> Mapping[str, str]: ...
    def set_state(self, account_id: str, iam_id: str, state: str) -> bool: ...
    def remove(self, account_id: str, iam_id: str) -> bool: ...
    def profile(self, account_id: str, iam_id: str) -> UserProfile | None: ...
    def put_profile(self, profile: UserProfile) -> None: ...


class IdentitySettingsRepo(Protocol):
    """Identity account settings (spec §4.4), one versioned row per account once written."""

    def get(self, account_id: str) -> IdentitySettings | None: ...
    def add(self, settings: IdentitySettings) -> bool: ...
    def update(self, settings: IdentitySettings, expected_tag: str) -> bool: ...


# -- end of branch `users` block ------------------------------------------------------------------


class UnitOfWork(Protocol):
    # Read-only properties, so that an adapter may expose its own (narrower) repository types.
    @property
    def accounts(self) -> AccountRepo: ...
    @property
    def users(self) -> UserRepo: ...
    @property
    def service_ids(self) -> ServiceIdRepo: ...
    @property
    def api_keys(self) -> ApiKeyRepo: ...
    @property
    def signing_keys(self) -> SigningKeyRepo: ...
    @property
    def refresh_tokens(self) -> RefreshTokenRepo: ...
    @property
    def meta(self) -> MetaRepo: ...
    @property
    def policies(self) -> PolicyRepo: ...
    @property
    def roles(self) -> RoleRepo: ...
    @property
    def revisions(self) -> RevisionRepo: ...
    # branch `users`
    @property
    def account_users(self) -> AccountUserRepo: ...
    @property
    def identity_settings(self) -> IdentitySettingsRepo: ...

    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, *, write: bool = False) -> UnitOfWork:
        """A fresh unit of work; `write=True` locks for writing first (SQLite: BEGIN IMMEDIATE)."""
        ...
