"""IAM Access Groups: groups, static members, dynamic rules, the account's access-group settings,
and the identity-provider logins that dynamic rules are evaluated against.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from strongroom.store.sql.tables import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "access_group_settings",
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("public_access_enabled", sa.Boolean(), nullable=False),
        sa.Column("last_modified_at", UTCDateTime(), nullable=True),
        sa.Column("last_modified_by_id", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_access_group_settings_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_access_group_settings")),
    )
    op.create_table(
        "access_groups",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("name_folded", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by_id", sa.String(length=128), nullable=False),
        sa.Column("last_modified_at", UTCDateTime(), nullable=False),
        sa.Column("last_modified_by_id", sa.String(length=128), nullable=False),
        sa.Column("entity_tag", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_access_groups_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_groups")),
        sa.UniqueConstraint("account_id", "name_folded", name="uq_access_groups_account_id_name"),
    )
    with op.batch_alter_table("access_groups", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_access_groups_account_id"), ["account_id"], unique=False
        )

    op.create_table(
        "federated_logins",
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("iam_id", sa.String(length=128), nullable=False),
        sa.Column("realm_name", sa.String(length=255), nullable=False),
        sa.Column("claims", sa.JSON(), nullable=False),
        sa.Column("logged_in_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_federated_logins_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint(
            "account_id", "iam_id", "realm_name", name=op.f("pk_federated_logins")
        ),
    )
    op.create_table(
        "access_group_members",
        sa.Column("group_id", sa.String(length=64), nullable=False),
        sa.Column("iam_id", sa.String(length=128), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by_id", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_access_group_members_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["access_groups.id"],
            name=op.f("fk_access_group_members_group_id_access_groups"),
        ),
        sa.PrimaryKeyConstraint("group_id", "iam_id", name=op.f("pk_access_group_members")),
    )
    with op.batch_alter_table("access_group_members", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_access_group_members_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_access_group_members_iam_id"), ["iam_id"], unique=False
        )

    op.create_table(
        "access_group_rules",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("group_id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("expiration", sa.Integer(), nullable=False),
        sa.Column("realm_name", sa.String(length=255), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by_id", sa.String(length=128), nullable=False),
        sa.Column("last_modified_at", UTCDateTime(), nullable=False),
        sa.Column("last_modified_by_id", sa.String(length=128), nullable=False),
        sa.Column("entity_tag", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_access_group_rules_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["access_groups.id"],
            name=op.f("fk_access_group_rules_group_id_access_groups"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_group_rules")),
    )
    with op.batch_alter_table("access_group_rules", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_access_group_rules_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_access_group_rules_group_id"), ["group_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("access_group_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_group_rules_group_id"))
        batch_op.drop_index(batch_op.f("ix_access_group_rules_account_id"))

    op.drop_table("access_group_rules")
    with op.batch_alter_table("access_group_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_group_members_iam_id"))
        batch_op.drop_index(batch_op.f("ix_access_group_members_account_id"))

    op.drop_table("access_group_members")
    op.drop_table("federated_logins")
    with op.batch_alter_table("access_groups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_groups_account_id"))

    op.drop_table("access_groups")
    op.drop_table("access_group_settings")
