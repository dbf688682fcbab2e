"""Engines from URLs, with the dialect differences in one place.

SQLite: WAL, synchronous=FULL (durable across power loss; reliability.md §1), foreign keys on,
a busy timeout, and write transactions opened with BEGIN IMMEDIATE so two writers never deadlock
on a lock upgrade. PostgreSQL: psycopg 3 with a connection pool.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import StaticPool

BUSY_TIMEOUT_MS = 10_000


@dataclass
class Database:
    """An engine plus what the unit of work must know about it."""

    engine: Engine
    # SQLite admits one writer: serialising writers inside the process turns lock waits into a
    # queue instead of busy retries. An in-memory database has one shared connection, so every
    # unit of work takes the lock there.
    write_lock: threading.RLock | None
    serialize_all: bool
    # The unit of work open on each thread, so one opened inside another joins it (uow.py).
    active: threading.local = field(default_factory=threading.local)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def dispose(self) -> None:
        self.engine.dispose()


def normalise_url(url: str) -> str:
    """`postgresql://` means psycopg 3 here (SQLAlchemy would otherwise pick psycopg2)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def create_database(url: str, *, synchronous: str = "FULL") -> Database:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite(url, parsed.database in (None, "", ":memory:"), synchronous)
    if parsed.get_backend_name() == "postgresql":
        engine = sa.create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
        return Database(engine=engine, write_lock=None, serialize_all=False)
    raise ValueError(
        f"unsupported database `{parsed.get_backend_name()}`; use sqlite or postgresql"
    )


def _sqlite(url: str, memory: bool, synchronous: str) -> Database:
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
    if memory:
        kwargs["poolclass"] = StaticPool
    engine = sa.create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite so that BEGIN is ours (see _begin).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        write = conn.get_execution_options().get("strongroom_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return Database(engine=engine, write_lock=threading.RLock(), serialize_all=memory)
