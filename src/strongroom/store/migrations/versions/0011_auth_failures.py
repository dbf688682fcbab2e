"""Failed credential checks per subject (an identity at a source) for the lockout, shared by
every node (reliability.md T4).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from strongroom.store.sql.tables import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "auth_failures",
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", UTCDateTime(), nullable=True),
        sa.Column("lockouts", sa.Integer(), nullable=False),
        sa.Column("locked_until", UTCDateTime(), nullable=True),
        sa.Column("last_failure", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("subject", name=op.f("pk_auth_failures")),
    )
    op.create_index(
        op.f("ix_auth_failures_last_failure"), "auth_failures", ["last_failure"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_auth_failures_last_failure"), table_name="auth_failures")
    op.drop_table("auth_failures")
