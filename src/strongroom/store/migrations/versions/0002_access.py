"""Access management: policies (kept as sent), custom roles, per-account access revisions.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from strongroom.store.sql.tables import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_revisions",
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_account_revisions_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_account_revisions")),
    )
    op.create_table(
        "custom_roles",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("service_name", sa.String(length=255), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("crn", sa.String(length=512), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by_id", sa.String(length=128), nullable=False),
        sa.Column("last_modified_at", UTCDateTime(), nullable=False),
        sa.Column("last_modified_by_id", sa.String(length=128), nullable=False),
        sa.Column("entity_tag", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_custom_roles_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_custom_roles")),
        sa.UniqueConstraint("account_id", "name", name="uq_custom_roles_account_id_name"),
    )
    op.create_table(
        "policies",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("version", sa.String(length=4), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("subject_iam_id", sa.String(length=255), nullable=True),
        sa.Column("subject_group_id", sa.String(length=255), nullable=True),
        sa.Column("subject_service", sa.String(length=255), nullable=True),
        sa.Column("service_name", sa.String(length=255), nullable=True),
        sa.Column("service_type", sa.String(length=32), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by_id", sa.String(length=128), nullable=False),
        sa.Column("last_modified_at", UTCDateTime(), nullable=False),
        sa.Column("last_modified_by_id", sa.String(length=128), nullable=False),
        sa.Column("entity_tag", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_policies_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policies")),
    )
    with op.batch_alter_table("policies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_policies_account_id"), ["account_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_policies_subject_group_id"), ["subject_group_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_policies_subject_iam_id"), ["subject_iam_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("policies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_policies_subject_iam_id"))
        batch_op.drop_index(batch_op.f("ix_policies_subject_group_id"))
        batch_op.drop_index(batch_op.f("ix_policies_account_id"))

    op.drop_table("policies")
    op.drop_table("custom_roles")
    op.drop_table("account_revisions")
