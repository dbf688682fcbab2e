"""The storage conformance suite runs every test on every backend the adapter supports.

`store` is one parametrized fixture: sqlite-memory, sqlite-file (a file in tmp_path) and postgres
(one scratch database for the session, emptied before each test). Tests talk to the storage port
only, through `store.uow`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from strongroom.store.sql import migrate
from strongroom.store.sql.engine import Database, create_database
from strongroom.store.sql.tables import metadata
from strongroom.store.sql.uow import SqlUnitOfWorkFactory
from strongroom.testing.postgres import scratch_database
from tests.conftest import PG_SKIP, PG_URL

BACKENDS = ["sqlite-memory", "sqlite-file", pytest.param("postgres", marks=pytest.mark.postgres)]


@dataclass
class Store:
    backend: str
    url: str
    database: Database
    uow: SqlUnitOfWorkFactory

    def clear(self) -> None:
        """Empty every table (children first), so a test or a Hypothesis example starts clean."""
        with self.database.engine.begin() as conn:
            for table in reversed(metadata.sorted_tables):
                conn.execute(table.delete())


def open_store(backend: str, url: str) -> Store:
    database = create_database(url)
    migrate.upgrade(database)
    return Store(backend, url, database, SqlUnitOfWorkFactory(database))


def backend_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "postgres":
        return str(request.getfixturevalue("pg_scratch_url"))
    if backend == "sqlite-file":
        return f"sqlite:///{tmp_path / 'strongroom.db'}"
    return "sqlite://"


@pytest.fixture(scope="session")
def pg_scratch_url() -> Iterator[str]:
    if not PG_URL:
        pytest.skip(PG_SKIP)
    with scratch_database(PG_URL) as url:
        yield url


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    backend = str(request.param)
    opened = open_store(backend, backend_url(backend, tmp_path, request))
    try:
        opened.clear()
        yield opened
    finally:
        opened.database.dispose()
