"""Key management (spec kms-api.md §2-§3): instances' master keys, keys and their versions, key
rings, aliases, instance policies, import tokens and registrations.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from strongroom.store.sql.tables import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _stamp(name: str, *, nullable: bool = False) -> list[sa.Column[Any]]:
    return [
        sa.Column(f"{name}_at", UTCDateTime(), nullable=nullable),
        sa.Column(f"{name}_by", sa.String(length=128), nullable=nullable),
    ]


def upgrade() -> None:
    op.create_table(
        "kms_instances",
        sa.Column("instance_id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("service", sa.String(length=16), nullable=False),
        sa.Column("region", sa.String(length=64), nullable=False),
        sa.Column("master_key", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("instance_id", name=op.f("pk_kms_instances")),
    )
    op.create_table(
        "kms_keys",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("instance_id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("service", sa.String(length=16), nullable=False),
        sa.Column("region", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("extractable", sa.Boolean(), nullable=False),
        sa.Column("imported", sa.Boolean(), nullable=False),
        sa.Column("imported_with_token", sa.Boolean(), nullable=False),
        sa.Column("key_ring_id", sa.String(length=255), nullable=False),
        sa.Column("state", sa.Integer(), nullable=False),
        sa.Column("nonactive_state_reason", sa.Integer(), nullable=True),
        *_stamp("created"),
        sa.Column("last_update_at", UTCDateTime(), nullable=True),
        sa.Column("last_rotate_at", UTCDateTime(), nullable=True),
        sa.Column("last_action_at", UTCDateTime(), nullable=False),
        sa.Column("last_sync_at", UTCDateTime(), nullable=True),
        sa.Column("expiration_date", UTCDateTime(), nullable=True),
        sa.Column("version_id", sa.String(length=64), nullable=False),
        sa.Column("version_created_at", UTCDateTime(), nullable=False),
        sa.Column("dual_auth_enabled", sa.Boolean(), nullable=False),
        *_stamp("dual_auth_set", nullable=True),
        sa.Column("dual_auth_expires_at", UTCDateTime(), nullable=True),
        sa.Column("policies", sa.JSON(), nullable=False),
        *_stamp("deleted", nullable=True),
        *_stamp("restored", nullable=True),
        sa.ForeignKeyConstraint(
            ["instance_id"],
            ["kms_instances.instance_id"],
            name=op.f("fk_kms_keys_instance_id_kms_instances"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kms_keys")),
        sa.UniqueConstraint("instance_id", "id", name="uq_kms_keys_instance_id_id"),
    )
    op.create_index("ix_kms_keys_instance_id_state", "kms_keys", ["instance_id", "state"])
    op.create_index("ix_kms_keys_deleted_at", "kms_keys", ["deleted_at"])
    op.create_index("ix_kms_keys_expiration_date", "kms_keys", ["expiration_date"])
    op.create_table(
        "kms_key_versions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("material", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["key_id"], ["kms_keys.id"], name=op.f("fk_kms_key_versions_key_id_kms_keys")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kms_key_versions")),
        sa.UniqueConstraint("key_id", "seq", name="uq_kms_key_versions_key_id_seq"),
    )
    op.create_table(
        "kms_key_rings",
        sa.Column("instance_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=255), nullable=False),
        *_stamp("created", nullable=True),
        sa.PrimaryKeyConstraint("instance_id", "id", name=op.f("pk_kms_key_rings")),
    )
    op.create_table(
        "kms_aliases",
        sa.Column("instance_id", sa.String(length=64), nullable=False),
        sa.Column("alias", sa.String(length=255), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        *_stamp("created"),
        sa.ForeignKeyConstraint(
            ["instance_id", "key_id"],
            ["kms_keys.instance_id", "kms_keys.id"],
            name="fk_kms_aliases_instance_id_kms_keys",
        ),
        sa.PrimaryKeyConstraint("instance_id", "alias", name=op.f("pk_kms_aliases")),
    )
    op.create_index("ix_kms_aliases_instance_id_key_id", "kms_aliases", ["instance_id", "key_id"])
    op.create_table(
        "kms_instance_policies",
        sa.Column("instance_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        *_stamp("created"),
        *_stamp("updated"),
        sa.PrimaryKeyConstraint("instance_id", "kind", name=op.f("pk_kms_instance_policies")),
    )
    op.create_table(
        "kms_import_tokens",
        sa.Column("instance_id", sa.String(length=64), nullable=False),
        *_stamp("created"),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("max_retrievals", sa.Integer(), nullable=False),
        sa.Column("remaining_retrievals", sa.Integer(), nullable=False),
        sa.Column("public_key_pem", sa.LargeBinary(), nullable=False),
        sa.Column("private_key", sa.LargeBinary(), nullable=False),
        sa.Column("nonce", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("instance_id", name=op.f("pk_kms_import_tokens")),
    )
    op.create_table(
        "kms_registrations",
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("resource_crn", sa.String(length=1024), nullable=False),
        sa.Column("instance_id", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("prevent_key_deletion", sa.Boolean(), nullable=False),
        sa.Column("registration_metadata", sa.Text(), nullable=False),
        sa.Column("key_version_id", sa.String(length=64), nullable=False),
        sa.Column("key_version_created_at", UTCDateTime(), nullable=False),
        *_stamp("created"),
        *_stamp("updated"),
        sa.ForeignKeyConstraint(
            ["key_id"], ["kms_keys.id"], name=op.f("fk_kms_registrations_key_id_kms_keys")
        ),
        sa.PrimaryKeyConstraint("key_id", "resource_crn", name=op.f("pk_kms_registrations")),
    )
    op.create_index(op.f("ix_kms_registrations_instance_id"), "kms_registrations", ["instance_id"])


def downgrade() -> None:
    op.drop_table("kms_registrations")
    op.drop_table("kms_import_tokens")
    op.drop_table("kms_instance_policies")
    op.drop_table("kms_aliases")
    op.drop_table("kms_key_rings")
    op.drop_table("kms_key_versions")
    op.drop_table("kms_keys")
    op.drop_table("kms_instances")
