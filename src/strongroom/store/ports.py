"""The storage port: one repository per aggregate, and a unit of work that owns the transaction.

A unit of work commits on normal exit and rolls back on an exception, so a rejected request
writes nothing. Updates are conditional on the entity tag the caller read (optimistic
concurrency): `update` returns False when another writer got there first.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Generic, Protocol, Self, TypeVar

from strongroom.access.group_models import (
    AccessGroup,
    FederatedLogin,
    GroupMember,
    GroupRule,
    GroupSettings,
)
from strongroom.audit.chain import Head, HeadSigner, Record
from strongroom.audit.query import AuditQuery
from strongroom.identity.filters import Expr
from strongroom.identity.models import Account, ApiKey, Membership, ServiceId, User
from strongroom.identity.profile_models import ClaimRule, Profile, ProfileIdentity, ProfileLink
from strongroom.identity.settings_rules import IdentitySettings
from strongroom.identity.user_models import UserProfile
from strongroom.resources.enterprise_models import (
    AccountGroup,
    Enterprise,
    EnterpriseAccount,
    NodeQuery,
)
from strongroom.resources.instance_models import Instance, Reclamation, ResourceKey
from strongroom.resources.models import ResourceGroup
from strongroom.store.kms_ports import (
    AliasRepo,
    ImportTokenRepo,
    InstancePolicyRepo,
    KeyRingRepo,
    KeyVersionRepo,
    KmsInstanceRepo,
    KmsKeyRepo,
    RegistrationRepo,
)

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
    def lock(self, account_id: str) -> Account | None:
        """`get`, holding the account's row lock until the unit of work ends: identity writers
        that count before they insert (limits.yaml; reliability.md C7) serialise on it. Take it
        before any revision bump in the same unit, never after."""
        ...

    def count(self) -> int: ...


class UserRepo(Protocol):
    def add(self, user: User) -> None: ...
    def get(self, iam_id: str) -> User | None: ...
    def add_membership(self, membership: Membership) -> None: ...
    def membership(self, account_id: str, iam_id: str) -> Membership | None: ...
    def member(self, account_id: str, iam_id: str) -> tuple[User, Membership] | None:
        """The user and their membership of the account, or None if either is missing."""
        ...


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


@dataclass(frozen=True, slots=True)
class AuthFailures:
    """Failed credential checks of one subject (an identity at a source), for the lockout
    (reliability.md T4; identity/lockout.py holds the rules)."""

    subject: str
    failures: int  # in the window that started at window_start
    window_start: datetime | None
    lockouts: int  # lockouts since the counter was last reset: the backoff doubles with each
    locked_until: datetime | None
    last_failure: datetime


class AuthFailureRepo(Protocol):
    def get(self, subject: str, *, for_update: bool = False) -> AuthFailures | None: ...
    def put(self, record: AuthFailures) -> None: ...
    def prune(self, idle_before: datetime, now: datetime) -> int:
        """Forget subjects with no failure since `idle_before` and no lockout running."""
        ...

    def count(self) -> int: ...


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
    def count_active(
        self, account_id: str, *, iam_id: str | None = None, group_id: str | None = None
    ) -> int:
        """Active policies in the account; with `iam_id` or `group_id`, those naming that
        subject only (limits.yaml `policies_per_account`, `policies_per_subject`)."""
        ...


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


# -- trusted profiles (spec §4.3) ------------------------------------------------------------------


class ProfileRepo(Protocol):
    def add(self, profile: Profile) -> bool:
        """False (nothing written) when the account already has a profile of that name."""
        ...

    def get(self, profile_id: str) -> Profile | None: ...
    def get_by_iam_id(self, iam_id: str) -> Profile | None: ...
    def get_by_name(self, account_id: str, name: str) -> Profile | None: ...
    def list(self, query: ListQuery) -> Page[Profile]: ...
    def update(self, profile: Profile, expected_tag: str) -> bool: ...
    def set_identities_tag(self, profile_id: str, expected_tag: str, new_tag: str) -> bool: ...
    def delete(self, profile_id: str) -> bool: ...
    def count(self, account_id: str) -> int: ...


class ClaimRuleRepo(Protocol):
    def add(self, rule: ClaimRule) -> None: ...
    def get(self, profile_id: str, rule_id: str) -> ClaimRule | None: ...
    def list_for(self, profile_id: str) -> Sequence[ClaimRule]: ...
    def update(self, rule: ClaimRule, expected_tag: str) -> bool: ...
    def delete(self, profile_id: str, rule_id: str) -> bool: ...
    def delete_for(self, profile_id: str) -> int: ...
    def count_for(self, profile_id: str) -> int: ...


class ProfileLinkRepo(Protocol):
    def add(self, link: ProfileLink) -> None: ...
    def get(self, profile_id: str, link_id: str) -> ProfileLink | None: ...
    def list_for(self, profile_id: str) -> Sequence[ProfileLink]: ...
    def delete(self, profile_id: str, link_id: str) -> bool: ...
    def delete_for(self, profile_id: str) -> int: ...


class ProfileIdentityRepo(Protocol):
    def list_for(self, profile_id: str) -> Sequence[ProfileIdentity]: ...
    def replace_all(self, profile_id: str, identities: Sequence[ProfileIdentity]) -> None: ...
    def put(self, profile_id: str, identity: ProfileIdentity) -> None:
        """Add, or replace the entry with the same iam_id in place."""
        ...

    def delete(self, profile_id: str, iam_id: str) -> bool: ...
    def delete_for(self, profile_id: str) -> int: ...


# -- IAM Access Groups (spec §5.1) -------------------------------------------------------------


class AccessGroupRepo(Protocol):
    """An account holds at most 500 groups (reliability.md §4), so lists come whole and the
    service filters, sorts and pages them."""

    def add(self, group: AccessGroup) -> None: ...
    def get(self, group_id: str) -> AccessGroup | None: ...
    def in_account(self, account_id: str) -> Sequence[AccessGroup]: ...
    def update(self, group: AccessGroup, expected_tag: str) -> bool: ...
    def delete(self, group_id: str) -> bool: ...
    def count(self, account_id: str) -> int: ...


class GroupMemberRepo(Protocol):
    def add(self, member: GroupMember) -> None: ...
    def get(self, group_id: str, iam_id: str) -> GroupMember | None: ...
    def of_group(self, group_id: str) -> Sequence[GroupMember]: ...
    def of_iam_id(self, account_id: str, iam_id: str) -> Sequence[GroupMember]: ...
    def in_account(self, account_id: str) -> Sequence[GroupMember]: ...
    def delete(self, group_id: str, iam_id: str) -> bool: ...
    def delete_group(self, group_id: str) -> int: ...


class GroupRuleRepo(Protocol):
    def add(self, rule: GroupRule) -> None: ...
    def get(self, rule_id: str) -> GroupRule | None: ...
    def of_group(self, group_id: str) -> Sequence[GroupRule]: ...
    def in_account(self, account_id: str) -> Sequence[GroupRule]: ...
    def update(self, rule: GroupRule, expected_tag: str) -> bool: ...
    def delete(self, rule_id: str) -> bool: ...
    def delete_group(self, group_id: str) -> int: ...


class GroupSettingsRepo(Protocol):
    def get(self, account_id: str) -> GroupSettings: ...
    def put(self, settings: GroupSettings) -> None: ...


class FederatedLoginRepo(Protocol):
    def put(self, login: FederatedLogin) -> None: ...
    def in_account(self, account_id: str) -> Sequence[FederatedLogin]: ...
    def delete_before(self, account_id: str, before: datetime) -> int: ...


# -- end IAM Access Groups ----------------------------------------------------------------------


# -- users and identity account settings ---------------------------------------


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


# -- enterprises (spec §9; migration 0008) ---------------------------------------


class EnterpriseRepo(Protocol):
    def add(self, enterprise: Enterprise) -> None: ...
    def get(self, enterprise_id: str) -> Enterprise | None: ...
    def get_by_account(self, enterprise_account_id: str) -> Enterprise | None: ...
    def update(self, enterprise: Enterprise) -> bool: ...


class AccountGroupRepo(Protocol):
    def add(self, group: AccountGroup) -> None: ...
    def get(self, group_id: str) -> AccountGroup | None: ...
    def update(self, group: AccountGroup) -> bool: ...
    def in_enterprise(self, enterprise_id: str) -> Sequence[AccountGroup]:
        """Every group of the enterprise, deleted ones too (the tree is checked in memory)."""
        ...

    def list(self, query: NodeQuery) -> Page[AccountGroup]: ...


class EnterpriseAccountRepo(Protocol):
    """Which enterprise an account belongs to and where; at most one row per account."""

    def add(self, account: EnterpriseAccount) -> None: ...
    def get(self, account_id: str) -> EnterpriseAccount | None: ...
    def update(self, account: EnterpriseAccount) -> bool: ...
    def list(self, query: NodeQuery) -> Page[EnterpriseAccount]: ...
    def count_under(self, enterprise_id: str, parent_group_id: str) -> int:
        """Accounts not deleted whose parent is that group."""
        ...

    def set_account_state(self, account_id: str, state: str) -> bool:
        """The state of the account itself (`accounts.state`)."""
        ...


# -- end enterprises ----------------------------------------------------------------------------
# -- resource groups (spec §7) ---------------------------------------------------------------


class ResourceGroupRepo(Protocol):
    """An account's resource groups, deleted ones included (state `DELETED`). A live group's
    name is unique in its account, case-insensitively; a deleted group frees its name."""

    def add(self, group: ResourceGroup) -> bool:
        """False (nothing written) when a live group of that name exists in the account."""
        ...

    def get(self, group_id: str) -> ResourceGroup | None: ...
    def in_account(self, account_id: str) -> Sequence[ResourceGroup]: ...
    def update(self, group: ResourceGroup) -> bool:
        """False when the group is gone or deleted, or when its new name is taken."""
        ...


# -- end resource groups ------------------------------------------------------------------------
# -- Resource Controller: instances, keys, reclamations (spec §8) -------------------------------


@dataclass(frozen=True, slots=True)
class InstanceQuery:
    """The list filters of `GET /v2/resource_instances` (spec §8); None leaves one out."""

    account_id: str
    guid: str | None = None
    name: str | None = None
    resource_group_id: str | None = None
    resource_id: str | None = None
    resource_plan_id: str | None = None
    states: tuple[str, ...] | None = None
    updated_from: datetime | None = None
    updated_to: datetime | None = None


@dataclass(frozen=True, slots=True)
class KeyQuery:
    account_id: str
    source_guid: str | None = None
    guid: str | None = None
    name: str | None = None
    resource_group_id: str | None = None
    resource_id: str | None = None
    states: tuple[str, ...] | None = ("active",)
    updated_from: datetime | None = None
    updated_to: datetime | None = None


class InstanceRepo(Protocol):
    """Lists come whole, oldest first: the use case keeps the instances the caller may see
    (a policy may name one service, group or instance) and only then cuts the page."""

    def add(self, instance: Instance) -> None: ...
    def get(self, guid: str) -> Instance | None: ...
    def list(self, query: InstanceQuery) -> Sequence[Instance]: ...
    def update(self, instance: Instance, expected_updated_at: datetime) -> bool: ...
    def any_in_group(self, group_id: str) -> bool:
        """Does any instance that is not `removed` live in this resource group?"""
        ...


class ResourceKeyRepo(Protocol):
    def add(self, key: ResourceKey) -> None: ...
    def get(self, guid: str) -> ResourceKey | None: ...
    def list(self, query: KeyQuery) -> Sequence[ResourceKey]: ...
    def update(self, key: ResourceKey) -> bool: ...


class ReclamationRepo(Protocol):
    def add(self, reclamation: Reclamation) -> None: ...
    def get(self, reclamation_id: str) -> Reclamation | None: ...
    def list(
        self,
        account_id: str,
        *,
        instance_guid: str | None = None,
        resource_group_id: str | None = None,
        states: tuple[str, ...] = ("SCHEDULED",),
    ) -> Sequence[Reclamation]: ...
    def update(self, reclamation: Reclamation) -> bool: ...


# -- end Resource Controller ----------------------------------------------------------------------


# -- access-management account settings (spec §6.5) -----------------------------------------


@dataclass(frozen=True, slots=True)
class StoredAccessSettings:
    account_id: str
    settings: Mapping[str, Any]  # `external_account_identity_interaction`
    entity_tag: str
    last_modified_at: datetime
    last_modified_by_id: str


class AccessSettingsRepo(Protocol):
    def get(self, account_id: str) -> StoredAccessSettings | None: ...
    def put(self, settings: StoredAccessSettings, expected_tag: str | None) -> bool:
        """Write if the stored tag is `expected_tag` (None: only if none is stored yet)."""
        ...


class AuditLogRepo(Protocol):
    """The audit trail: one hash chain of CADF events per account (audit/chain.py)."""

    def append(
        self,
        account_id: str,
        at: datetime,
        event: dict[str, Any],
        signer: HeadSigner,
        *,
        isolated: bool = False,
    ) -> tuple[int, str]: ...
    def head(self, account_id: str) -> Head | None: ...
    def sign_unsigned_heads(self, signer: HeadSigner) -> int: ...
    def find(self, query: AuditQuery) -> list[Record]: ...
    def chain(self, account_id: str) -> Iterator[Record]: ...


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
    def auth_failures(self) -> AuthFailureRepo: ...
    @property
    def policies(self) -> PolicyRepo: ...
    @property
    def roles(self) -> RoleRepo: ...
    @property
    def revisions(self) -> RevisionRepo: ...

    # -- trusted profiles --
    @property
    def profiles(self) -> ProfileRepo: ...
    @property
    def profile_rules(self) -> ClaimRuleRepo: ...
    @property
    def profile_links(self) -> ProfileLinkRepo: ...
    @property
    def profile_identities(self) -> ProfileIdentityRepo: ...

    # IAM Access Groups
    @property
    def access_groups(self) -> AccessGroupRepo: ...
    @property
    def group_members(self) -> GroupMemberRepo: ...
    @property
    def group_rules(self) -> GroupRuleRepo: ...
    @property
    def group_settings(self) -> GroupSettingsRepo: ...
    @property
    def federated_logins(self) -> FederatedLoginRepo: ...

    # users: account memberships and identity settings
    @property
    def account_users(self) -> AccountUserRepo: ...
    @property
    def identity_settings(self) -> IdentitySettingsRepo: ...

    # enterprises
    @property
    def enterprises(self) -> EnterpriseRepo: ...
    @property
    def account_groups(self) -> AccountGroupRepo: ...
    @property
    def enterprise_accounts(self) -> EnterpriseAccountRepo: ...
    # resource groups (spec §7)
    @property
    def resource_groups(self) -> ResourceGroupRepo: ...
    # Resource Controller (spec §8)
    @property
    def resource_instances(self) -> InstanceRepo: ...
    @property
    def resource_keys(self) -> ResourceKeyRepo: ...
    @property
    def reclamations(self) -> ReclamationRepo: ...

    @property
    def access_settings(self) -> AccessSettingsRepo: ...

    # key management (spec kms-api.md; store/kms_ports.py)
    @property
    def kms_instances(self) -> KmsInstanceRepo: ...
    @property
    def kms_keys(self) -> KmsKeyRepo: ...
    @property
    def key_versions(self) -> KeyVersionRepo: ...
    @property
    def key_rings(self) -> KeyRingRepo: ...
    @property
    def key_aliases(self) -> AliasRepo: ...
    @property
    def instance_policies(self) -> InstancePolicyRepo: ...
    @property
    def import_tokens(self) -> ImportTokenRepo: ...
    @property
    def registrations(self) -> RegistrationRepo: ...
    @property
    def audit_log(self) -> AuditLogRepo: ...

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
