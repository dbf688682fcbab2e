"""Access-management account settings (spec §6.5): how identities of other accounts may interact.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from strongroom.store.sql.tables import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "access_management_settings",
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("entity_tag", sa.String(length=64), nullable=False),
        sa.Column("last_modified_at", UTCDateTime(), nullable=False),
        sa.Column("last_modified_by_id", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_access_management_settings_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_access_management_settings")),
    )


def downgrade() -> None:
    op.drop_table("access_management_settings")
