"""One schema for SQLite and PostgreSQL. NOTE: change it only through an Alembic migration."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_name)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC, on both dialects (SQLite has no time zones)."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("owner_iam_id", sa.String(128), nullable=False),
    sa.Column("state", sa.String(32), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)

users = sa.Table(
    "users",
    metadata,
    sa.Column("iam_id", sa.String(128), primary_key=True),
    sa.Column("realm", sa.String(32), nullable=False),
    sa.Column("email", sa.String(320), nullable=False),
    sa.Column("given_name", sa.String(255), nullable=False),
    sa.Column("family_name", sa.String(255), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)

memberships = sa.Table(
    "memberships",
    metadata,
    sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("iam_id", sa.String(128), sa.ForeignKey("users.iam_id"), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("state", sa.String(32), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)


def _versioned() -> list[sa.Column[Any]]:
    return [
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("modified_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("entity_tag", sa.String(64), nullable=False),
        sa.Column("history", sa.JSON(), nullable=False),
    ]


def _folded() -> list[sa.Column[Any]]:
    """Case-folded copies (Python's str.casefold) that the case-insensitive list filters match
    against, so both dialects fold case exactly alike, beyond ASCII too."""
    return [
        sa.Column("name_folded", sa.Text(), nullable=False),
        sa.Column("description_folded", sa.Text(), nullable=False),
    ]


service_ids = sa.Table(
    "service_ids",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("iam_id", sa.String(128), nullable=False, unique=True),
    sa.Column(
        "account_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False, index=True
    ),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("description", sa.Text(), nullable=False),
    *_folded(),
    sa.Column("unique_instance_crns", sa.JSON(), nullable=False),
    sa.Column("locked", sa.Boolean(), nullable=False),
    *_versioned(),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column(
        "account_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False, index=True
    ),
    sa.Column("iam_id", sa.String(128), nullable=False, index=True),
    sa.Column("owner_kind", sa.String(16), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("description", sa.Text(), nullable=False),
    *_folded(),
    # HMAC-SHA-256 of the value under the server pepper; the value itself is never stored.
    sa.Column("value_digest", sa.String(64), nullable=False, unique=True),
    sa.Column("sealed_value", sa.LargeBinary(), nullable=True),
    sa.Column("locked", sa.Boolean(), nullable=False),
    sa.Column("disabled", sa.Boolean(), nullable=False),
    sa.Column("leaked", sa.Boolean(), nullable=False),
    sa.Column("support_sessions", sa.Boolean(), nullable=False),
    sa.Column("action_when_leaked", sa.String(16), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=True),
    *_versioned(),
)

signing_keys = sa.Table(
    "signing_keys",
    metadata,
    sa.Column("kid", sa.String(64), primary_key=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("sealed_private_key", sa.LargeBinary(), nullable=False),
    sa.Column("public_jwk", sa.JSON(), nullable=False),
    sa.Column("retired_at", UTCDateTime(), nullable=True),
    sa.Column("publish_until", UTCDateTime(), nullable=True),
)

refresh_tokens = sa.Table(
    "refresh_tokens",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("digest", sa.String(64), nullable=False, unique=True),
    sa.Column("family_id", sa.String(64), nullable=False, index=True),
    sa.Column("iam_id", sa.String(128), nullable=False),
    sa.Column("account_id", sa.String(32), nullable=False),
    sa.Column("apikey_id", sa.String(64), nullable=False),
    sa.Column("client_id", sa.String(64), nullable=False),
    sa.Column("scope", sa.String(255), nullable=False),
    sa.Column("issued_at", UTCDateTime(), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    sa.Column("used_at", UTCDateTime(), nullable=True),
    sa.Column("revoked_at", UTCDateTime(), nullable=True),
)

# Failed credential checks per subject (an identity at a source) for the lockout, shared by
# every node (reliability.md T4). Bounded: idle subjects are pruned (identity/lockout.py).
auth_failures = sa.Table(
    "auth_failures",
    metadata,
    sa.Column("subject", sa.String(200), primary_key=True),
    sa.Column("failures", sa.Integer(), nullable=False),
    sa.Column("window_start", UTCDateTime(), nullable=True),
    sa.Column("lockouts", sa.Integer(), nullable=False),
    sa.Column("locked_until", UTCDateTime(), nullable=True),
    sa.Column("last_failure", UTCDateTime(), nullable=False, index=True),
)

server_meta = sa.Table(
    "server_meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text(), nullable=False),
)


policies = sa.Table(
    "policies",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column(
        "account_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False, index=True
    ),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("version", sa.String(4), nullable=False),
    # NOTE: exactly what the client sent; reads echo it (spec §1 fact 9). Never rewrite it.
    sa.Column("document", sa.JSON(), nullable=False),
    sa.Column("subject_iam_id", sa.String(255), nullable=True, index=True),
    sa.Column("subject_group_id", sa.String(255), nullable=True, index=True),
    sa.Column("subject_service", sa.String(255), nullable=True),
    sa.Column("service_name", sa.String(255), nullable=True),
    sa.Column("service_type", sa.String(32), nullable=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("created_by_id", sa.String(128), nullable=False),
    sa.Column("last_modified_at", UTCDateTime(), nullable=False),
    sa.Column("last_modified_by_id", sa.String(128), nullable=False),
    sa.Column("entity_tag", sa.String(64), nullable=False),
)

custom_roles = sa.Table(
    "custom_roles",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("service_name", sa.String(255), nullable=False),
    sa.Column("display_name", sa.String(255), nullable=False),
    sa.Column("description", sa.Text(), nullable=False),
    sa.Column("actions", sa.JSON(), nullable=False),
    sa.Column("crn", sa.String(512), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("created_by_id", sa.String(128), nullable=False),
    sa.Column("last_modified_at", UTCDateTime(), nullable=False),
    sa.Column("last_modified_by_id", sa.String(128), nullable=False),
    sa.Column("entity_tag", sa.String(64), nullable=False),
    # A custom role's name is unique in its account (spec §6.3: duplicate name -> 409).
    sa.UniqueConstraint("account_id", "name", name="uq_custom_roles_account_id_name"),
)

account_revisions = sa.Table(
    "account_revisions",
    metadata,
    sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("revision", sa.BigInteger(), nullable=False),
)


# -- trusted profiles (spec §4.3; migration 0004) -------------------------------------------------

profiles = sa.Table(
    "profiles",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("iam_id", sa.String(128), nullable=False, unique=True),
    sa.Column(
        "account_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False, index=True
    ),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("description", sa.Text(), nullable=False),
    *_folded(),
    sa.Column("email", sa.String(320), nullable=False),
    sa.Column("identities_tag", sa.String(64), nullable=False),
    *_versioned(),
    # A profile's name is unique in its account (spec §4.3): duplicate -> 409.
    sa.UniqueConstraint("account_id", "name", name="uq_profiles_account_id_name"),
)

profile_claim_rules = sa.Table(
    "profile_claim_rules",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column(
        "profile_id", sa.String(64), sa.ForeignKey("profiles.id"), nullable=False, index=True
    ),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("realm_name", sa.Text(), nullable=True),
    sa.Column("cr_type", sa.String(16), nullable=True),
    sa.Column("expiration", sa.Integer(), nullable=False),
    # NOTE: the conditions exactly as sent (values are stringified JSON); reads echo them.
    sa.Column("conditions", sa.JSON(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("modified_at", UTCDateTime(), nullable=False),
    sa.Column("entity_tag", sa.String(64), nullable=False),
)

profile_links = sa.Table(
    "profile_links",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column(
        "profile_id", sa.String(64), sa.ForeignKey("profiles.id"), nullable=False, index=True
    ),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("cr_type", sa.String(16), nullable=False),
    sa.Column("is_cross_account", sa.Boolean(), nullable=False),
    sa.Column("crn", sa.Text(), nullable=False),
    sa.Column("namespace", sa.String(255), nullable=True),
    sa.Column("link_name", sa.String(255), nullable=True),
    sa.Column("component_type", sa.String(255), nullable=True),
    sa.Column("component_name", sa.String(255), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("modified_at", UTCDateTime(), nullable=False),
    sa.Column("entity_tag", sa.String(64), nullable=False),
)

profile_identities = sa.Table(
    "profile_identities",
    metadata,
    sa.Column("profile_id", sa.String(64), sa.ForeignKey("profiles.id"), primary_key=True),
    sa.Column("iam_id", sa.String(1024), primary_key=True),
    sa.Column("position", sa.Integer(), nullable=False),  # the order the client gave
    sa.Column("identifier", sa.Text(), nullable=False),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("accounts", sa.JSON(), nullable=False),
    sa.Column("description", sa.Text(), nullable=False),
)


# -- IAM Access Groups (spec §5.1; migration 0003) ----------------------------------------------

access_groups = sa.Table(
    "access_groups",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column(
        "account_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False, index=True
    ),
    sa.Column("name", sa.String(255), nullable=False),
    # str.casefold() of the name: names are unique per account ignoring case.
    sa.Column("name_folded", sa.String(255), nullable=False),
    sa.Column("description", sa.Text(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("created_by_id", sa.String(128), nullable=False),
    sa.Column("last_modified_at", UTCDateTime(), nullable=False),
    sa.Column("last_modified_by_id", sa.String(128), nullable=False),
    sa.Column("entity_tag", sa.String(64), nullable=False),
    sa.UniqueConstraint("account_id", "name_folded", name="uq_access_groups_account_id_name"),
)

access_group_members = sa.Table(
    "access_group_members",
    metadata,
    sa.Column("group_id", sa.String(64), sa.ForeignKey("access_groups.id"), primary_key=True),
    sa.Column("iam_id", sa.String(128), primary_key=True, index=True),
    sa.Column(
        "account_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False, index=True
    ),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("created_by_id", sa.String(128), nullable=False),
)

access_group_rules = sa.Table(
    "access_group_rules",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column(
        "group_id", sa.String(64), sa.ForeignKey("access_groups.id"), nullable=False, index=True
    ),
    sa.Column(
        "account_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False, index=True
    ),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("expiration", sa.Integer(), nullable=False),
    sa.Column("realm_name", sa.String(255), nullable=False),
    # NOTE: exactly as the client sent them; reads echo them.
    sa.Column("conditions", sa.JSON(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("created_by_id", sa.String(128), nullable=False),
    sa.Column("last_modified_at", UTCDateTime(), nullable=False),
    sa.Column("last_modified_by_id", sa.String(128), nullable=False),
    sa.Column("entity_tag", sa.String(64), nullable=False),
)

access_group_settings = sa.Table(
    "access_group_settings",
    metadata,
    sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("public_access_enabled", sa.Boolean(), nullable=False),
    sa.Column("last_modified_at", UTCDateTime(), nullable=True),
    sa.Column("last_modified_by_id", sa.String(128), nullable=True),
)

federated_logins = sa.Table(
    "federated_logins",
    metadata,
    sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("iam_id", sa.String(128), primary_key=True),
    sa.Column("realm_name", sa.String(255), primary_key=True),
    sa.Column("claims", sa.JSON(), nullable=False),
    sa.Column("logged_in_at", UTCDateTime(), nullable=False),
)

# -- end IAM Access Groups ----------------------------------------------------------------------


# -- users and identity account settings (migration 0005) ------------------------

# What one account keeps about one of its users (spec §10 UserProfile and UserSettings); the
# membership row (role, state) stays in `memberships`. Kept per account: no tenant sees another's.
user_profiles = sa.Table(
    "user_profiles",
    metadata,
    sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("iam_id", sa.String(128), sa.ForeignKey("users.iam_id"), primary_key=True),
    sa.Column("user_id", sa.String(320), nullable=False),
    sa.Column("firstname", sa.String(255), nullable=False),
    sa.Column("lastname", sa.String(255), nullable=False),
    sa.Column("email", sa.String(320), nullable=False),
    sa.Column("phonenumber", sa.String(64), nullable=True),
    sa.Column("altphonenumber", sa.String(64), nullable=True),
    sa.Column("photo", sa.Text(), nullable=True),
    sa.Column("invited_by", sa.String(128), nullable=True),
    sa.Column("added_on", UTCDateTime(), nullable=False),
    sa.Column("language", sa.String(64), nullable=True),
    sa.Column("notification_language", sa.String(64), nullable=True),
    sa.Column("allowed_ip_addresses", sa.Text(), nullable=True),
    sa.Column("self_manage", sa.Boolean(), nullable=True),
)

# Identity account settings (spec §4.4): every field exactly as sent, with tag and history.
identity_account_settings = sa.Table(
    "identity_account_settings",
    metadata,
    sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column("settings", sa.JSON(), nullable=False),
    *_versioned(),
)


# -- enterprises (migration 0008; spec §9) ------------------------------------------------------


def _changed() -> list[sa.Column[Any]]:
    return [
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
    ]


enterprises = sa.Table(
    "enterprises",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    # The enterprise account, made with the enterprise; one enterprise per account.
    sa.Column(
        "account_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False, unique=True
    ),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("domain", sa.String(255), nullable=True),
    sa.Column("state", sa.String(32), nullable=False),
    sa.Column("primary_contact_iam_id", sa.String(128), nullable=False),
    sa.Column("primary_contact_email", sa.String(320), nullable=False),
    sa.Column("source_account_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False),
    *_changed(),
)

# Nested groups: `parent_group_id` NULL means directly under the enterprise.
enterprise_account_groups = sa.Table(
    "enterprise_account_groups",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column(
        "enterprise_id", sa.String(32), sa.ForeignKey("enterprises.id"), nullable=False, index=True
    ),
    sa.Column("parent_group_id", sa.String(32), nullable=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("state", sa.String(32), nullable=False),
    sa.Column("primary_contact_iam_id", sa.String(128), nullable=False),
    sa.Column("primary_contact_email", sa.String(320), nullable=False),
    *_changed(),
)

# An account's place in its enterprise (at most one); the account itself stays in `accounts`.
enterprise_accounts = sa.Table(
    "enterprise_accounts",
    metadata,
    sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), primary_key=True),
    sa.Column(
        "enterprise_id", sa.String(32), sa.ForeignKey("enterprises.id"), nullable=False, index=True
    ),
    sa.Column("parent_group_id", sa.String(32), nullable=True),
    sa.Column("origin", sa.String(16), nullable=False),
    sa.Column("state", sa.String(32), nullable=False),
    *_changed(),
)


# -- resource groups (migration 0006; spec §7) ----------------------------------------------------

# Deleted groups stay (state DELETED, listed with `include_deleted`). `live_name` is the folded
# name while the group lives and NULL once deleted: the unique constraint then holds for live
# groups only, on both dialects (NULLs never collide), and a deleted group frees its name.
resource_groups = sa.Table(
    "resource_groups",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column(
        "account_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False, index=True
    ),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("live_name", sa.String(255), nullable=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("is_default", sa.Boolean(), nullable=False),
    # An id from strongroom/resources/quota_definitions.yaml (platform data, not a table).
    sa.Column("quota_id", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("deleted_at", UTCDateTime(), nullable=True),
    sa.UniqueConstraint("account_id", "live_name", name="uq_resource_groups_account_id_live_name"),
)


# -- Resource Controller: service instances, resource keys, reclamations (spec §8; migration 0007)

# `resource_group_id` is not a foreign key: resource groups live in the Resource Manager's table,
# and a removed instance keeps naming the group it was in.
resource_instances = sa.Table(
    "resource_instances",
    metadata,
    sa.Column("guid", sa.String(64), primary_key=True),
    sa.Column(
        "account_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False, index=True
    ),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("resource_id", sa.String(64), nullable=False),
    sa.Column("resource_plan_id", sa.String(64), nullable=False),
    sa.Column("region_id", sa.String(64), nullable=False),
    sa.Column("resource_group_id", sa.String(64), nullable=False, index=True),
    sa.Column("resource_group_crn", sa.Text(), nullable=False),
    sa.Column("state", sa.String(32), nullable=False),
    sa.Column("locked", sa.Boolean(), nullable=False),
    sa.Column("allow_cleanup", sa.Boolean(), nullable=False),
    sa.Column("parameters", sa.JSON(), nullable=False),
    sa.Column("tags", sa.JSON(), nullable=False),
    sa.Column("last_operation", sa.JSON(), nullable=False),
    sa.Column("plan_history", sa.JSON(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("created_by", sa.String(128), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("updated_by", sa.String(128), nullable=False),
    sa.Column("deleted_at", UTCDateTime(), nullable=True),
    sa.Column("deleted_by", sa.String(128), nullable=True),
    sa.Column("restored_at", UTCDateTime(), nullable=True),
    sa.Column("restored_by", sa.String(128), nullable=True),
)

resource_keys = sa.Table(
    "resource_keys",
    metadata,
    sa.Column("guid", sa.String(64), primary_key=True),
    sa.Column(
        "account_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False, index=True
    ),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column(
        "source_guid",
        sa.String(64),
        sa.ForeignKey("resource_instances.guid"),
        nullable=False,
        index=True,
    ),
    sa.Column("source_crn", sa.Text(), nullable=False),
    sa.Column("resource_id", sa.String(64), nullable=False),
    sa.Column("resource_group_id", sa.String(64), nullable=False),
    sa.Column("role_crn", sa.Text(), nullable=False),
    # What the key made in IAM (removed with it): a service ID, its API key, a policy.
    sa.Column("service_id", sa.String(64), nullable=False),
    sa.Column("service_id_crn", sa.Text(), nullable=False),
    sa.Column("apikey_id", sa.String(64), nullable=False),
    sa.Column("apikey_name", sa.String(255), nullable=False),
    sa.Column("policy_id", sa.String(64), nullable=False),
    sa.Column("state", sa.String(32), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("created_by", sa.String(128), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("updated_by", sa.String(128), nullable=False),
    sa.Column("deleted_at", UTCDateTime(), nullable=True),
    sa.Column("deleted_by", sa.String(128), nullable=True),
)

reclamations = sa.Table(
    "reclamations",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column(
        "account_id", sa.String(32), sa.ForeignKey("accounts.id"), nullable=False, index=True
    ),
    sa.Column(
        "instance_guid",
        sa.String(64),
        sa.ForeignKey("resource_instances.guid"),
        nullable=False,
        index=True,
    ),
    sa.Column("instance_crn", sa.Text(), nullable=False),
    sa.Column("resource_group_id", sa.String(64), nullable=False),
    sa.Column("state", sa.String(32), nullable=False),
    sa.Column("target_time", UTCDateTime(), nullable=False),
    sa.Column("comment", sa.Text(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("created_by", sa.String(128), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("updated_by", sa.String(128), nullable=False),
)

# -- end Resource Controller ------------------------------------------------------------------


# -- access-management account settings (spec §6.5; migration 0009) ----------------------------

access_management_settings = sa.Table(
    "access_management_settings",
    metadata,
    sa.Column("account_id", sa.String(32), sa.ForeignKey("accounts.id"), primary_key=True),
    # `external_account_identity_interaction` as stored (validated) and returned.
    sa.Column("settings", sa.JSON(), nullable=False),
    sa.Column("entity_tag", sa.String(64), nullable=False),
    sa.Column("last_modified_at", UTCDateTime(), nullable=False),
    sa.Column("last_modified_by_id", sa.String(128), nullable=False),
)


# -- key management (spec kms-api.md §2-§3; migration 0010) -------------------------------------

# No foreign key to `accounts` or `resource_instances`: the KMS sees IAM only through the
# Authorizer, and may run beside a remote IAM whose accounts are not in this database.
kms_instances = sa.Table(
    "kms_instances",
    metadata,
    sa.Column("instance_id", sa.String(64), primary_key=True),
    sa.Column("account_id", sa.String(32), nullable=False),
    sa.Column("service", sa.String(16), nullable=False),
    sa.Column("region", sa.String(64), nullable=False),
    sa.Column("master_key", sa.LargeBinary(), nullable=False),  # sealed by the root key
    sa.Column("created_at", UTCDateTime(), nullable=False),
)

# `key_ring_id` is not a foreign key: the `default` ring is implicit (never stored).
kms_keys = sa.Table(
    "kms_keys",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column(
        "instance_id", sa.String(64), sa.ForeignKey("kms_instances.instance_id"), nullable=False
    ),
    sa.Column("account_id", sa.String(32), nullable=False),
    sa.Column("service", sa.String(16), nullable=False),
    sa.Column("region", sa.String(64), nullable=False),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("description", sa.Text(), nullable=False),
    sa.Column("tags", sa.JSON(), nullable=False),
    sa.Column("extractable", sa.Boolean(), nullable=False),
    sa.Column("imported", sa.Boolean(), nullable=False),
    sa.Column("imported_with_token", sa.Boolean(), nullable=False),
    sa.Column("key_ring_id", sa.String(255), nullable=False),
    sa.Column("state", sa.Integer(), nullable=False),  # KeyState (NIST numbering, spec §2.2)
    sa.Column("nonactive_state_reason", sa.Integer(), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("created_by", sa.String(128), nullable=False),
    sa.Column("last_update_at", UTCDateTime(), nullable=True),
    sa.Column("last_rotate_at", UTCDateTime(), nullable=True),
    sa.Column("last_action_at", UTCDateTime(), nullable=False),
    sa.Column("last_sync_at", UTCDateTime(), nullable=True),
    sa.Column("expiration_date", UTCDateTime(), nullable=True),
    sa.Column("version_id", sa.String(64), nullable=False),
    sa.Column("version_created_at", UTCDateTime(), nullable=False),
    # Dual authorization (spec §3.3): who set the key for deletion, and until when.
    sa.Column("dual_auth_enabled", sa.Boolean(), nullable=False),
    sa.Column("dual_auth_set_at", UTCDateTime(), nullable=True),
    sa.Column("dual_auth_set_by", sa.String(128), nullable=True),
    sa.Column("dual_auth_expires_at", UTCDateTime(), nullable=True),
    # Key policies by kind (spec §3.6): {kind: {id, data, created, updated}}.
    sa.Column("policies", sa.JSON(), nullable=False),
    sa.Column("deleted_at", UTCDateTime(), nullable=True),
    sa.Column("deleted_by", sa.String(128), nullable=True),
    sa.Column("restored_at", UTCDateTime(), nullable=True),
    sa.Column("restored_by", sa.String(128), nullable=True),
    # What an alias's foreign key names, so an alias can only point at a key of its own instance.
    sa.UniqueConstraint("instance_id", "id", name="uq_kms_keys_instance_id_id"),
    # Lists read one instance's keys, often of some states only.
    sa.Index("ix_kms_keys_instance_id_state", "instance_id", "state"),
    # The purge and expiry sweeps read across instances by these times.
    sa.Index("ix_kms_keys_deleted_at", "deleted_at"),
    sa.Index("ix_kms_keys_expiration_date", "expiration_date"),
)

# The unique (key_id, seq) index is the one `newest` and the newest-first pages read: a key
# rotated 10,000 times still finds its newest version with one index probe.
kms_key_versions = sa.Table(
    "kms_key_versions",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("key_id", sa.String(64), sa.ForeignKey("kms_keys.id"), nullable=False),
    sa.Column("seq", sa.Integer(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("material", sa.LargeBinary(), nullable=False),  # sealed under the master key
    sa.UniqueConstraint("key_id", "seq", name="uq_kms_key_versions_key_id_seq"),
)

kms_key_rings = sa.Table(
    "kms_key_rings",
    metadata,
    sa.Column("instance_id", sa.String(64), primary_key=True),
    sa.Column("id", sa.String(255), primary_key=True),
    sa.Column("created_at", UTCDateTime(), nullable=True),
    sa.Column("created_by", sa.String(128), nullable=True),
)

kms_aliases = sa.Table(
    "kms_aliases",
    metadata,
    sa.Column("instance_id", sa.String(64), primary_key=True),
    sa.Column("alias", sa.String(255), primary_key=True),  # case-sensitive (spec §3.9)
    sa.Column("key_id", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("created_by", sa.String(128), nullable=False),
    # The key's own instance; the index below also serves this key's check when a key is purged.
    sa.ForeignKeyConstraint(
        ["instance_id", "key_id"],
        ["kms_keys.instance_id", "kms_keys.id"],
        name="fk_kms_aliases_instance_id_kms_keys",
    ),
    sa.Index("ix_kms_aliases_instance_id_key_id", "instance_id", "key_id"),
)

kms_instance_policies = sa.Table(
    "kms_instance_policies",
    metadata,
    sa.Column("instance_id", sa.String(64), primary_key=True),
    sa.Column("kind", sa.String(64), primary_key=True),
    sa.Column("enabled", sa.Boolean(), nullable=False),
    sa.Column("attributes", sa.JSON(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("created_by", sa.String(128), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("updated_by", sa.String(128), nullable=False),
)

# One token per instance (spec §3.7): a new one replaces the row.
kms_import_tokens = sa.Table(
    "kms_import_tokens",
    metadata,
    sa.Column("instance_id", sa.String(64), primary_key=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("created_by", sa.String(128), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    sa.Column("max_retrievals", sa.Integer(), nullable=False),
    sa.Column("remaining_retrievals", sa.Integer(), nullable=False),
    sa.Column("public_key_pem", sa.LargeBinary(), nullable=False),
    sa.Column("private_key", sa.LargeBinary(), nullable=False),  # sealed under the master key
    sa.Column("nonce", sa.LargeBinary(), nullable=False),
)

kms_registrations = sa.Table(
    "kms_registrations",
    metadata,
    sa.Column("key_id", sa.String(64), sa.ForeignKey("kms_keys.id"), primary_key=True),
    sa.Column("resource_crn", sa.String(1024), primary_key=True),
    sa.Column("instance_id", sa.String(64), nullable=False, index=True),
    sa.Column("description", sa.Text(), nullable=False),
    sa.Column("prevent_key_deletion", sa.Boolean(), nullable=False),
    # `registrationMetadata` (spec §3.8): visible to services only.
    sa.Column("registration_metadata", sa.Text(), nullable=False),
    sa.Column("key_version_id", sa.String(64), nullable=False),
    sa.Column("key_version_created_at", UTCDateTime(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("created_by", sa.String(128), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("updated_by", sa.String(128), nullable=False),
)

# -- end key management -------------------------------------------------------------------------

# -- audit trail (reliability.md A3; audit/chain.py) --------------------------------------------

# One hash chain per account ("" holds calls that named no account: refused unauthenticated).
audit_events = sa.Table(
    "audit_events",
    metadata,
    sa.Column("account_id", sa.String(32), primary_key=True),
    sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
    sa.Column("event_time", UTCDateTime(), nullable=False),
    sa.Column("action", sa.String(128), nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("event", sa.Text(), nullable=False),  # canonical JSON of the CADF event
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

# The chain's newest link. Appends lock this row (PostgreSQL) so each chain stays linear, and a
# deleted newest event is still seen.
audit_heads = sa.Table(
    "audit_heads",
    metadata,
    sa.Column("account_id", sa.String(32), primary_key=True),
    sa.Column("seq", sa.BigInteger(), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    # HMAC-SHA-256 of (account, seq, hash) under a root-key-derived key (audit/chain.HeadSigner).
    sa.Column("mac", sa.String(64), nullable=False),
)
