"""Trusted profiles: profiles, their claim rules, links and identities (spec §4.3).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from strongroom.store.sql.tables import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _times() -> list[sa.Column[object]]:
    return [
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("modified_at", UTCDateTime(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "profiles",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("iam_id", sa.String(length=128), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("name_folded", sa.Text(), nullable=False),
        sa.Column("description_folded", sa.Text(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("identities_tag", sa.String(length=64), nullable=False),
        *_times(),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("entity_tag", sa.String(length=64), nullable=False),
        sa.Column("history", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_profiles_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_profiles")),
        sa.UniqueConstraint("account_id", "name", name="uq_profiles_account_id_name"),
        sa.UniqueConstraint("iam_id", name=op.f("uq_profiles_iam_id")),
    )
    with op.batch_alter_table("profiles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_profiles_account_id"), ["account_id"], unique=False)

    op.create_table(
        "profile_claim_rules",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("profile_id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("realm_name", sa.Text(), nullable=True),
        sa.Column("cr_type", sa.String(length=16), nullable=True),
        sa.Column("expiration", sa.Integer(), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        *_times(),
        sa.Column("entity_tag", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profiles.id"],
            name=op.f("fk_profile_claim_rules_profile_id_profiles"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_profile_claim_rules")),
    )
    with op.batch_alter_table("profile_claim_rules", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_profile_claim_rules_profile_id"), ["profile_id"], unique=False
        )

    op.create_table(
        "profile_links",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("profile_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("cr_type", sa.String(length=16), nullable=False),
        sa.Column("is_cross_account", sa.Boolean(), nullable=False),
        sa.Column("crn", sa.Text(), nullable=False),
        sa.Column("namespace", sa.String(length=255), nullable=True),
        sa.Column("link_name", sa.String(length=255), nullable=True),
        sa.Column("component_type", sa.String(length=255), nullable=True),
        sa.Column("component_name", sa.String(length=255), nullable=True),
        *_times(),
        sa.Column("entity_tag", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["profile_id"], ["profiles.id"], name=op.f("fk_profile_links_profile_id_profiles")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_profile_links")),
    )
    with op.batch_alter_table("profile_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_profile_links_profile_id"), ["profile_id"], unique=False
        )

    op.create_table(
        "profile_identities",
        sa.Column("profile_id", sa.String(length=64), nullable=False),
        sa.Column("iam_id", sa.String(length=1024), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("identifier", sa.Text(), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("accounts", sa.JSON(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["profiles.id"],
            name=op.f("fk_profile_identities_profile_id_profiles"),
        ),
        sa.PrimaryKeyConstraint("profile_id", "iam_id", name=op.f("pk_profile_identities")),
    )


def downgrade() -> None:
    op.drop_table("profile_identities")
    with op.batch_alter_table("profile_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_profile_links_profile_id"))
    op.drop_table("profile_links")
    with op.batch_alter_table("profile_claim_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_profile_claim_rules_profile_id"))
    op.drop_table("profile_claim_rules")
    with op.batch_alter_table("profiles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_profiles_account_id"))
    op.drop_table("profiles")
