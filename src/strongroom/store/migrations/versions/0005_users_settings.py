"""Users and identity account settings: per-account user profiles and settings (spec §10),
identity account settings (spec §4.4).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from strongroom.store.sql.tables import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_profiles",
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("iam_id", sa.String(length=128), nullable=False),
        sa.Column("user_id", sa.String(length=320), nullable=False),
        sa.Column("firstname", sa.String(length=255), nullable=False),
        sa.Column("lastname", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("phonenumber", sa.String(length=64), nullable=True),
        sa.Column("altphonenumber", sa.String(length=64), nullable=True),
        sa.Column("photo", sa.Text(), nullable=True),
        sa.Column("invited_by", sa.String(length=128), nullable=True),
        sa.Column("added_on", UTCDateTime(), nullable=False),
        sa.Column("language", sa.String(length=64), nullable=True),
        sa.Column("notification_language", sa.String(length=64), nullable=True),
        sa.Column("allowed_ip_addresses", sa.Text(), nullable=True),
        sa.Column("self_manage", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_user_profiles_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["iam_id"], ["users.iam_id"], name=op.f("fk_user_profiles_iam_id_users")
        ),
        sa.PrimaryKeyConstraint("account_id", "iam_id", name=op.f("pk_user_profiles")),
    )
    op.create_table(
        "identity_account_settings",
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("modified_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("entity_tag", sa.String(length=64), nullable=False),
        sa.Column("history", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_identity_account_settings_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_identity_account_settings")),
    )


def downgrade() -> None:
    op.drop_table("identity_account_settings")
    op.drop_table("user_profiles")
