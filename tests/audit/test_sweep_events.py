"""reliability.md A3: what the KMS sweep changes on its own (kms/sweep.py) is audited, one event
per change, initiated by the service itself (`service/security/keymanager`)."""

from __future__ import annotations

import json
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from strongroom.audit.events import SERVICE_TYPE
from strongroom.audit.service import SWEEP_INITIATOR
from strongroom.store.sql import tables as t
from strongroom.testing import FrozenClock
from strongroom.testing.server import LiveServer
from tests.api.conftest import token_for
from tests.audit.helpers import KEY_TYPE, bring_audit_back, kms_instance, new_key, take_audit_down
from tests.conftest import SERVER_BACKENDS, start_server

DAY = 86_400


@pytest.fixture(params=SERVER_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def sweep_events(server: LiveServer) -> list[dict[str, Any]]:
    e = t.audit_events
    with server.runtime.database.engine.connect() as conn:
        rows = conn.execute(sa.select(e.c.event).order_by(e.c.account_id, e.c.seq)).all()
    found = [json.loads(r.event) for r in rows]
    return [x for x in found if x["initiator"]["id"] == SWEEP_INITIATOR]


def _rotating_key(http: httpx.Client, kms: dict[str, str]) -> str:
    """A root key whose own rotation policy is due 30 days after its creation."""
    envelope = {
        "metadata": {"collectionType": KEY_TYPE, "collectionTotal": 1},
        "resources": [{"type": KEY_TYPE, "name": "rotating", "rotation": {"interval_month": 1}}],
    }
    made = http.post("/api/v2/keys_with_policy_overrides", json=envelope, headers=kms)
    assert made.status_code == 201, made.text
    return str(made.json()["resources"][0]["id"])


def test_each_change_of_the_sweep_is_one_event(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    clock = FrozenClock(datetime.now(UTC))
    with ExitStack() as stack:
        server = start_server(
            backend, str(tmp_path_factory.mktemp("sweep")), stack, kms_clock=clock
        )
        http = stack.enter_context(httpx.Client(base_url=server.url, timeout=10))
        headers = {"Authorization": f"Bearer {token_for(http, server.apikey)}"}
        instance = kms_instance(http, headers)
        kms = {**headers, "Bluemix-Instance": instance}
        soon = (clock.now() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        expiring = new_key(http, headers, instance, expirationDate=soon)["id"]
        deleted = new_key(http, headers, instance)["id"]
        rotating = _rotating_key(http, kms)
        assert http.delete(f"/api/v2/keys/{deleted}", headers=kms).status_code == 204
        sweep = server.runtime.container.kms_sweep

        assert sweep.sweep() == type(sweep.sweep())()  # nothing due: nothing changed
        assert sweep_events(server) == []

        clock.advance(2 * 3600)
        report = sweep.sweep()
        assert report.expired == (expiring,)
        (expired,) = sweep_events(server)
        assert expired["action"] == "kms.secrets.expire" and expired["outcome"] == "success"
        assert expired["initiator"]["typeURI"] == SERVICE_TYPE
        assert expired["initiator"]["credential"] == {"type": "internal"}
        assert expired["target"]["id"].endswith(f":{instance}:key:{expiring}")
        assert f":a/{server.account_id}:" in expired["target"]["id"]

        # A sink that cannot take the event: the purge does not happen, and is made next time.
        clock.advance(91 * DAY)
        take_audit_down(server)
        failed = sweep.sweep()
        assert failed.purged == () and failed.rotated == () and failed.failed == (rotating,)
        bring_audit_back(server)
        done = sweep.sweep()
        assert done.purged == (deleted,) and done.rotated == (rotating,)
        actions = [e["action"] for e in sweep_events(server)]
        assert actions == ["kms.secrets.expire", "kms.secrets.rotate", "kms.secrets.purge"]
        assert sweep.sweep() == type(done)()  # nothing left to do, no event more
        assert len(sweep_events(server)) == 3
        assert sweep_events(server)[-1]["severity"] == "critical"
        assert server.runtime.container.audit.verify_chain(server.account_id).ok
