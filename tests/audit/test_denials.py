"""reliability.md A3 (a) with T4: unauthenticated 401s are not an amplification vector. Per
source and action, the first 401 of a window is one event; the rest of the window is one more
event counting them (`repeated.count`), so every 401 is accounted for while a flood of them
costs two writes a window (audit/coalesce.py)."""

from __future__ import annotations

import json
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from strongroom.audit.coalesce import DenialCoalescer
from strongroom.store.sql import tables as t
from strongroom.testing import FrozenClock
from strongroom.testing.server import LiveServer
from tests.conftest import SERVER_BACKENDS, start_server

FLOOD = 200


@pytest.fixture(params=SERVER_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def denials(server: LiveServer) -> list[dict[str, Any]]:
    e = t.audit_events
    with server.runtime.database.engine.connect() as conn:
        rows = conn.execute(sa.select(e.c.event).order_by(e.c.account_id, e.c.seq)).all()
    found = [json.loads(r.event) for r in rows]
    return [x for x in found if x["reason"]["reasonCode"] == 401]


def accounted(events: list[dict[str, Any]]) -> int:
    """The 401s the events stand for: one each, a summary its `repeated.count`."""
    return sum(e["repeated"]["count"] if "repeated" in e else 1 for e in events)


def test_a_flood_of_401s_is_two_events_a_window_and_all_are_counted(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    clock = FrozenClock(datetime.now(UTC))
    with ExitStack() as stack:
        server = start_server(
            backend, str(tmp_path_factory.mktemp("denials")), stack, clock=clock,
            settings_overrides={"audit_denial_window_seconds": 60},
        )  # fmt: skip
        http = stack.enter_context(httpx.Client(base_url=server.url, timeout=10))
        for n in range(FLOOD):
            headers = {"Authorization": f"Bearer not-a-token-{n}"} if n % 2 else {}
            assert http.get("/v2/resource_groups", headers=headers).status_code == 401
        # Another action from the same source is its own first event.
        assert http.get("/v2/resource_instances").status_code == 401
        found = denials(server)
        assert len(found) == 2 and accounted(found) == 2  # the rest are counted, unwritten

        audit = server.runtime.container.audit
        assert audit.flush_denials(clock.now()) == 0  # the window has not ended
        clock.advance(61)
        assert audit.flush_denials(clock.now()) == 1
        found = denials(server)
        assert len(found) == 3 and accounted(found) == FLOOD + 1
        (summary,) = [e for e in found if "repeated" in e]
        assert summary["repeated"]["count"] == FLOOD - 1
        assert summary["action"] == "resource-controller.group.read"
        assert summary["severity"] == "critical" and summary["outcome"] == "failure"

        # A new window: the next 401 is written at once again; a shutdown writes what is left.
        for _ in range(3):
            assert http.get("/v2/resource_groups").status_code == 401
        assert len(denials(server)) == 4
        audit.flush_denials()
        assert accounted(denials(server)) == FLOOD + 1 + 3
        assert audit.verify_chain("").ok


def test_window_zero_writes_each_401(tmp_path_factory: pytest.TempPathFactory) -> None:
    with ExitStack() as stack:
        server = start_server(
            "sqlite", str(tmp_path_factory.mktemp("each")), stack,
            settings_overrides={"audit_denial_window_seconds": 0},
        )  # fmt: skip
        http = stack.enter_context(httpx.Client(base_url=server.url, timeout=10))
        for _ in range(5):
            assert http.get("/v2/resource_groups").status_code == 401
        assert len(denials(server)) == 5


def test_the_coalescer_forgets_nothing_and_is_bounded() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    coalescer = DenialCoalescer(60, max_tracked=2)
    event = {"action": "a.b.read", "message": "m"}
    assert coalescer.admit("10.0.0.1", "a", at, "", event) == (True, None)
    assert coalescer.admit("10.0.0.1", "a", at, "", event) == (False, None)
    assert coalescer.admit("10.0.0.2", "a", at, "", event) == (True, None)
    # Past the bound: written each time, never dropped.
    assert coalescer.admit("10.0.0.3", "a", at, "", event) == (True, None)
    assert coalescer.admit("10.0.0.3", "a", at, "", event) == (True, None)
    (summary,) = coalescer.flush()
    assert summary.event["repeated"]["count"] == 1
    assert coalescer.flush() == []


def test_serve_flushes_counted_401s_in_the_background(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    with ExitStack() as stack:
        server = start_server(
            "sqlite", str(tmp_path_factory.mktemp("flush")), stack,
            settings_overrides={"kms_sweep_seconds": 0, "audit_denial_window_seconds": 1},
        )  # fmt: skip
        server.runtime.start_background()
        assert [task.name for task in server.runtime.background] == ["audit-flush"]
        http = stack.enter_context(httpx.Client(base_url=server.url, timeout=10))
        for _ in range(4):
            assert http.get("/v2/resource_groups").status_code == 401
        deadline = datetime.now(UTC).timestamp() + 10
        while accounted(denials(server)) < 4 and datetime.now(UTC).timestamp() < deadline:
            time.sleep(0.1)
        assert accounted(denials(server)) == 4 and any("repeated" in e for e in denials(server))
