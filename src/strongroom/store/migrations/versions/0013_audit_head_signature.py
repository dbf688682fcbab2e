"""The audit chain head's signature (reliability.md A3 d; audit/chain.HeadSigner): heads stored
before it are signed once at the next start (bootstrap), their chains as they stand then.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing heads get "" (unsigned) through a default that is then dropped: every append
    # writes the signature itself.
    with op.batch_alter_table("audit_heads") as batch:
        batch.add_column(sa.Column("mac", sa.String(length=64), nullable=False, server_default=""))
    with op.batch_alter_table("audit_heads") as batch:
        batch.alter_column("mac", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("audit_heads") as batch:
        batch.drop_column("mac")
