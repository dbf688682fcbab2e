"""Resource groups (spec §7), and a `Default` group for every account that has none.

Quota definitions are platform data shipped in strongroom/resources/quota_definitions.yaml, not
a table; the groups made here take the default one's id, fixed below as a migration must be.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

from strongroom.store.sql.tables import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

DEFAULT_QUOTA_ID = "ab308779b42f1ac6af1901a3698c4ea2"  # Pay-as-you-go Quota


def upgrade() -> None:
    groups = op.create_table(
        "resource_groups",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("live_name", sa.String(length=255), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("quota_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("deleted_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_resource_groups_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resource_groups")),
        sa.UniqueConstraint(
            "account_id", "live_name", name="uq_resource_groups_account_id_live_name"
        ),
    )
    assert groups is not None
    op.create_index(
        op.f("ix_resource_groups_account_id"), "resource_groups", ["account_id"], unique=False
    )
    # Spec §7: every account has a default group. The table is new, so every account lacks one.
    conn = op.get_bind()
    accounts = sa.table("accounts", sa.column("id"), sa.column("created_at", UTCDateTime()))
    rows = [
        {
            "id": secrets.token_hex(16),
            "account_id": account.id,
            "name": "Default",
            "live_name": "default",
            "state": "ACTIVE",
            "is_default": True,
            "quota_id": DEFAULT_QUOTA_ID,
            "created_at": account.created_at,
            "updated_at": account.created_at,
            "deleted_at": None,
        }
        for account in conn.execute(sa.select(accounts.c.id, accounts.c.created_at))
    ]
    if rows:
        op.bulk_insert(groups, rows)


def downgrade() -> None:
    op.drop_index(op.f("ix_resource_groups_account_id"), table_name="resource_groups")
    op.drop_table("resource_groups")
