"""Resource Controller: service instances, resource keys and reclamations (spec §8).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from strongroom.store.sql.tables import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _stamps(*names: str) -> list[sa.Column[object]]:
    columns: list[sa.Column[object]] = []
    for name in names:
        required = name in ("created", "updated")
        columns.append(sa.Column(f"{name}_at", UTCDateTime(), nullable=not required))
        columns.append(sa.Column(f"{name}_by", sa.String(length=128), nullable=not required))
    return columns


def upgrade() -> None:
    op.create_table(
        "resource_instances",
        sa.Column("guid", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("resource_id", sa.String(length=64), nullable=False),
        sa.Column("resource_plan_id", sa.String(length=64), nullable=False),
        sa.Column("region_id", sa.String(length=64), nullable=False),
        sa.Column("resource_group_id", sa.String(length=64), nullable=False),
        sa.Column("resource_group_crn", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("allow_cleanup", sa.Boolean(), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("last_operation", sa.JSON(), nullable=False),
        sa.Column("plan_history", sa.JSON(), nullable=False),
        *_stamps("created", "updated", "deleted", "restored"),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_resource_instances_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("guid", name=op.f("pk_resource_instances")),
    )
    op.create_index(op.f("ix_resource_instances_account_id"), "resource_instances", ["account_id"])
    op.create_index(
        op.f("ix_resource_instances_resource_group_id"), "resource_instances", ["resource_group_id"]
    )
    op.create_table(
        "resource_keys",
        sa.Column("guid", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("source_guid", sa.String(length=64), nullable=False),
        sa.Column("source_crn", sa.Text(), nullable=False),
        sa.Column("resource_id", sa.String(length=64), nullable=False),
        sa.Column("resource_group_id", sa.String(length=64), nullable=False),
        sa.Column("role_crn", sa.Text(), nullable=False),
        sa.Column("service_id", sa.String(length=64), nullable=False),
        sa.Column("service_id_crn", sa.Text(), nullable=False),
        sa.Column("apikey_id", sa.String(length=64), nullable=False),
        sa.Column("apikey_name", sa.String(length=255), nullable=False),
        sa.Column("policy_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        *_stamps("created", "updated", "deleted"),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_resource_keys_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["source_guid"],
            ["resource_instances.guid"],
            name=op.f("fk_resource_keys_source_guid_resource_instances"),
        ),
        sa.PrimaryKeyConstraint("guid", name=op.f("pk_resource_keys")),
    )
    op.create_index(op.f("ix_resource_keys_account_id"), "resource_keys", ["account_id"])
    op.create_index(op.f("ix_resource_keys_source_guid"), "resource_keys", ["source_guid"])
    op.create_table(
        "reclamations",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("instance_guid", sa.String(length=64), nullable=False),
        sa.Column("instance_crn", sa.Text(), nullable=False),
        sa.Column("resource_group_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("target_time", UTCDateTime(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        *_stamps("created", "updated"),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_reclamations_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["instance_guid"],
            ["resource_instances.guid"],
            name=op.f("fk_reclamations_instance_guid_resource_instances"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reclamations")),
    )
    op.create_index(op.f("ix_reclamations_account_id"), "reclamations", ["account_id"])
    op.create_index(op.f("ix_reclamations_instance_guid"), "reclamations", ["instance_guid"])


def downgrade() -> None:
    op.drop_table("reclamations")
    op.drop_table("resource_keys")
    op.drop_table("resource_instances")
