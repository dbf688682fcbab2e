"""Enterprises (spec §9): enterprises, their nested account groups, and each account's place in
its enterprise.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from strongroom.store.sql.tables import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _changed() -> list[sa.Column[Any]]:
    return [
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "enterprises",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("domain", sa.String(length=255), nullable=True),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("primary_contact_iam_id", sa.String(length=128), nullable=False),
        sa.Column("primary_contact_email", sa.String(length=320), nullable=False),
        sa.Column("source_account_id", sa.String(length=32), nullable=False),
        *_changed(),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_enterprises_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["source_account_id"],
            ["accounts.id"],
            name=op.f("fk_enterprises_source_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enterprises")),
        sa.UniqueConstraint("account_id", name=op.f("uq_enterprises_account_id")),
    )
    op.create_table(
        "enterprise_account_groups",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("enterprise_id", sa.String(length=32), nullable=False),
        sa.Column("parent_group_id", sa.String(length=32), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("primary_contact_iam_id", sa.String(length=128), nullable=False),
        sa.Column("primary_contact_email", sa.String(length=320), nullable=False),
        *_changed(),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprises.id"],
            name=op.f("fk_enterprise_account_groups_enterprise_id_enterprises"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enterprise_account_groups")),
    )
    with op.batch_alter_table("enterprise_account_groups", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_enterprise_account_groups_enterprise_id"), ["enterprise_id"]
        )
    op.create_table(
        "enterprise_accounts",
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("enterprise_id", sa.String(length=32), nullable=False),
        sa.Column("parent_group_id", sa.String(length=32), nullable=True),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        *_changed(),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_enterprise_accounts_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprises.id"],
            name=op.f("fk_enterprise_accounts_enterprise_id_enterprises"),
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_enterprise_accounts")),
    )
    with op.batch_alter_table("enterprise_accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_enterprise_accounts_enterprise_id"), ["enterprise_id"])


def downgrade() -> None:
    with op.batch_alter_table("enterprise_accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enterprise_accounts_enterprise_id"))
    op.drop_table("enterprise_accounts")
    with op.batch_alter_table("enterprise_account_groups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enterprise_account_groups_enterprise_id"))
    op.drop_table("enterprise_account_groups")
    op.drop_table("enterprises")
