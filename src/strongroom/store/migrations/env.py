"""Alembic environment: migrations run on the connection that store/sql/migrate.py hands over."""

from __future__ import annotations

from alembic import context

from strongroom.store.sql.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "strongroom runs its migrations itself; use `strongroom serve` or migrate.upgrade()"
    )

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
    compare_type=True,
)
context.run_migrations()
