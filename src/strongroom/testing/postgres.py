"""A throw-away PostgreSQL database with a random name, dropped afterwards (tests, benchmarks)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy.engine import make_url


@contextmanager
def scratch_database(admin_url: str) -> Iterator[str]:
    """Create `strongroom_test_<random>` next to `admin_url`'s database; yield its URL; drop it."""
    admin = make_url(admin_url).set(drivername="postgresql")
    name = f"strongroom_test_{secrets.token_hex(6)}"
    conninfo = admin.render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
