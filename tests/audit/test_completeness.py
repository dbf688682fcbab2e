"""reliability.md A3 (a): every mutating route, every 401 and 403, every token exchange and
every key operation leaves exactly one CADF event, with the route's declared action and the
call's outcome; plain reads leave none. Routes are enumerated from the OpenAPI document, as
tests/api/test_routes_declare_actions.py does, with its sample call for each."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import sqlalchemy as sa

from strongroom.api.actions import ACTION_KEY, PUBLIC_KEY
from strongroom.api.app import create_app
from strongroom.audit.events import MUTATING_METHODS, READ_ONLY_POSTS
from strongroom.store.sql import tables as t
from strongroom.testing import InProcessClient
from tests.api.test_routes_declare_actions import (
    DenyAndRecord,
    Operation,
    operations,
    sample_call,
    world,
)

__all__ = ["world"]  # the module-scoped world of the routes test, made afresh for this module

CRITICAL = {401, 403, 503, 507}


def stored(runtime: Any) -> dict[tuple[str, int], dict[str, Any]]:
    with runtime.database.engine.connect() as conn:
        rows = conn.execute(sa.select(t.audit_events)).all()
    return {(r.account_id, r.seq): json.loads(r.event) for r in rows}


def new_events(runtime: Any, before: dict[tuple[str, int], Any]) -> list[dict[str, Any]]:
    after = stored(runtime)
    return [event for key, event in after.items() if key not in before]


def mutating(app: Any) -> list[Operation]:
    return [
        op
        for op in operations(app)
        if op.method in MUTATING_METHODS and not op.path.startswith(READ_ONLY_POSTS)
    ]


def same_action(event: dict[str, Any], declared: str) -> bool:
    """The declared action, or its `hs-crypto.` twin on an HPCS instance (kms/scope.py)."""
    found = event["action"]
    return found == declared or found.partition(".")[2] == declared.partition(".")[2]


def call(client: InProcessClient, op: Operation, world: dict[str, Any]) -> Any:
    if op.extra.get(PUBLIC_KEY):  # the token endpoints: a grant the server does not know
        return client.post(op.path, data={"grant_type": "password"})
    return client.request(**sample_call(op, world))


def check_one(events: list[dict[str, Any]], op: Operation, status: int) -> dict[str, Any]:
    assert len(events) == 1, f"{op.method} {op.path} ({status}): {len(events)} events"
    (event,) = events
    declared = op.extra.get(ACTION_KEY, "iam-identity.token.create")
    assert same_action(event, declared), f"{op.method} {op.path}: {event['action']}"
    assert event["outcome"] == ("success" if status < 400 else "failure"), (op.path, status)
    assert event["observer"] == {"name": "ActivityTracker"}
    assert event["eventTime"].endswith("+0000")
    assert event["correlationId"] and event["initiator"]["host"]["address"]
    assert event["target"]["id"].startswith("crn:v1:bluemix:public:")
    if status in CRITICAL:
        assert event["severity"] == "critical"
    return event


def test_every_refused_call_leaves_one_failure_event(world: dict[str, Any]) -> None:
    """A deny-all authorizer: every guarded route refuses (401 on /api/v2, 403 or 404 else), and
    each refusal is one event with the declared action; refused reads too, with 401 or 403."""
    runtime = world["runtime"]
    app = create_app(replace(runtime.container, authorizer=DenyAndRecord()))
    client = InProcessClient(app)
    ops = [op for op in operations(app) if not op.extra.get(PUBLIC_KEY)]
    seen = 0
    for op in ops:
        before = stored(runtime)
        response = client.request(**sample_call(op, world))
        events = new_events(runtime, before)
        audited = op in mutating(app) or response.status_code in (401, 403)
        if op.path.startswith(READ_ONLY_POSTS) and response.status_code not in (401, 403):
            audited = False
        if not audited:
            assert events == [], f"{op.method} {op.path}: a read left {events}"
            continue
        event = check_one(events, op, response.status_code)
        assert event["outcome"] == "failure", op.path
        assert event["initiator"]["id"] == world["runtime"].first_start.owner.iam_id
        assert event["initiator"]["credential"]["type"] == "token"
        seen += 1
    assert seen >= 60


def test_every_mutating_route_leaves_exactly_one_event(world: dict[str, Any]) -> None:
    """The real authorizer, as the account owner: whatever each call answers (success, or a
    refusal of its sample body), exactly one event, with the right action and outcome."""
    runtime = world["runtime"]
    client = InProcessClient(runtime.app)
    ops = mutating(runtime.app)
    assert len(ops) >= 60
    outcomes = set()
    wrong: list[tuple[str, str, int, int]] = []
    for op in ops:
        before = stored(runtime)
        response = call(client, op, world)
        event = check_one(new_events(runtime, before), op, response.status_code)
        # The status actually sent, even for an event written in the mutation's transaction
        # before the answer existed (api/actions.py `answers`).
        code = event["reason"]["reasonCode"]
        if code != response.status_code:
            wrong.append((op.method, op.path, code, response.status_code))
        outcomes.add(event["outcome"])
    assert wrong == [], f"reasonCode is not the status sent: {wrong}"
    assert outcomes == {"success", "failure"}
    for account in {key[0] for key in stored(runtime)}:
        assert runtime.container.audit.verify_chain(account).ok


def test_reads_leave_no_event_and_denials_do(world: dict[str, Any]) -> None:
    runtime = world["runtime"]
    client = InProcessClient(runtime.app)
    before = stored(runtime)
    assert client.get("/v1/serviceids/", params={"account_id": world["account"]},
                      headers=world["headers"]).status_code == 200  # fmt: skip
    assert client.get("/v2/resource_groups", headers=world["headers"]).status_code == 200
    assert new_events(runtime, before) == []
    # No token, a bad token: 401, one event each, in the server's own chain (two actions: a
    # second 401 for the same one would be counted, tests/audit/test_denials.py).
    for path, headers, action in (
        ("/v2/resource_groups", {}, "resource-controller.group.read"),
        ("/v2/quota_definitions", {"Authorization": "Bearer not-a-token"}, None),
    ):
        before = stored(runtime)
        assert client.get(path, headers=headers).status_code == 401
        (event,) = new_events(runtime, before)
        assert event["reason"]["reasonCode"] == 401 and event["severity"] == "critical"
        assert event["initiator"]["id"] == "unknown"
        assert action is None or event["action"] == action
        if headers:  # the token presented, as its salted hash only (A3 c)
            assert event["initiator"]["credential"]["token"].startswith("hmac-sha256:")
            assert "not-a-token" not in json.dumps(event)
