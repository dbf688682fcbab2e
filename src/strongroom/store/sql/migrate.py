"""Run the Alembic migrations on start. On PostgreSQL an advisory lock keeps nodes that start
together from migrating at once."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from strongroom.store.sql.engine import Database

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
_PG_LOCK_KEY = 0x5354524F4E47  # "STRONG"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(database: Database) -> None:
    config = alembic_config()
    with database.engine.connect() as conn:
        if database.dialect == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": _PG_LOCK_KEY})
            conn.commit()
        try:
            if current_revision(conn) != head_revision():
                with conn.begin():
                    config.attributes["connection"] = conn
                    command.upgrade(config, "head")
        finally:
            if database.dialect == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK_KEY})
                conn.commit()


def current_revision(conn: sa.Connection) -> str | None:
    revision = MigrationContext.configure(conn).get_current_revision()
    conn.rollback()
    return revision


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
