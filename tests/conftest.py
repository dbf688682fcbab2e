"""Fixtures shared by the whole suite.

Backends: SQLite always; PostgreSQL when STRONGROOM_TEST_PG_URL names a server where we may
create databases (each test run creates its own, randomly named, and drops it afterwards).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from strongroom.testing.postgres import scratch_database
from strongroom.testing.server import LiveServer

# The suite mints many tokens from 127.0.0.1, often under a frozen clock (whose buckets never
# refill), and tests wrong keys on purpose: every server it builds gets generous limits. The
# limits' own tests (tests/api/test_abuse.py) pass the §4 defaults explicitly.
SUITE_LIMITS = {
    "STRONGROOM_RATE_LIMIT_PER_SOURCE": "1000000",
    "STRONGROOM_RATE_LIMIT_PER_APIKEY": "1000000",
    "STRONGROOM_LOCKOUT_FAILURES": "1000000",
}
for _name, _value in SUITE_LIMITS.items():
    os.environ.setdefault(_name, _value)

PG_URL = os.environ.get("STRONGROOM_TEST_PG_URL")
PG_SKIP = (
    "PostgreSQL tests need STRONGROOM_TEST_PG_URL, e.g. postgresql://postgres@127.0.0.1:5432/test"
)
SERVER_BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def pytest_report_header() -> str:
    return f"strongroom PostgreSQL leg: {'on (' + PG_URL + ')' if PG_URL else 'off: ' + PG_SKIP}"


def database_url_for(backend: str, stack: ExitStack, tmp_dir: str) -> str | None:
    """None means the default: a SQLite file in the data dir."""
    if backend == "postgres":
        if not PG_URL:
            pytest.skip(PG_SKIP)
        return stack.enter_context(scratch_database(PG_URL))
    if backend == "sqlite-memory":
        return "sqlite://"
    return None


def start_server(backend: str, tmp_dir: str, stack: ExitStack, **kwargs: object) -> LiveServer:
    from pathlib import Path

    url = database_url_for(backend, stack, tmp_dir)
    server = LiveServer(data_dir=Path(tmp_dir), database_url=url, **kwargs).start()  # type: ignore[arg-type]
    stack.callback(server.stop)
    return server


@pytest.fixture(scope="session", params=SERVER_BACKENDS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A live server per backend for the whole session; tests make their own objects in it."""
    with ExitStack() as stack:
        yield start_server(request.param, str(tmp_path_factory.mktemp(request.param)), stack)
