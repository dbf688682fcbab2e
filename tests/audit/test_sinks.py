"""reliability.md A3 (b) with two sinks: the database and `STRONGROOM_AUDIT_FILE`. A call goes
ahead while at least one takes its event; with both down it fails closed with 503
`audit_unavailable` and changes nothing."""

from __future__ import annotations

import json
import os
import shutil
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from strongroom.testing.server import LiveServer
from tests.api.conftest import token_for
from tests.audit.helpers import (
    bring_audit_back,
    event_count,
    kms_instance,
    new_key,
    take_audit_down,
    wrap,
)
from tests.conftest import SERVER_BACKENDS, start_server

DEK = os.urandom(32)


@pytest.fixture(params=SERVER_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def break_file(path: Path) -> None:
    """The file cannot be appended to, even by root: its name is now a directory."""
    path.unlink()
    path.mkdir()


def mend_file(path: Path) -> None:
    shutil.rmtree(path)


def _create(http: httpx.Client, server: LiveServer, headers: dict[str, str], name: str) -> int:
    made = http.post(
        "/v1/serviceids/", json={"account_id": server.account_id, "name": name}, headers=headers
    )
    return made.status_code


def test_two_sinks_one_is_enough_none_fails_closed(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    tmp = tmp_path_factory.mktemp("sinks")
    trail = tmp / "audit" / "audit.ndjson"
    with ExitStack() as stack:
        server = start_server(backend, str(tmp), stack, settings_overrides={"audit_file": trail})
        http = stack.enter_context(httpx.Client(base_url=server.url, timeout=10))
        headers = {"Authorization": f"Bearer {token_for(http, server.apikey)}"}
        instance = kms_instance(http, headers)
        key = new_key(http, headers, instance)
        # Both sinks up: every event in both, the file's lines naming the database's links.
        in_db = event_count(server)
        copied = lines(trail)
        assert len(copied) == in_db and all(line["seq"] and line["hash"] for line in copied)

        # The database down, the file up: the call goes ahead, its event in the file alone.
        take_audit_down(server)
        assert _create(http, server, headers, "file-only") == 201
        wrapped = wrap(http, headers, instance, key["id"], DEK)
        assert wrapped.status_code == 200, wrapped.text
        assert event_count(server) == in_db
        tail = lines(trail)[-2:]
        assert [t["event"]["action"] for t in tail] == [
            "iam-identity.serviceid.create",
            "kms.secrets.wrap",
        ]
        assert all(t["seq"] is None and t["hash"] is None for t in tail)
        assert len(lines(trail)) == in_db + 2

        # Both down: fail closed, nothing changes.
        break_file(trail)
        assert _create(http, server, headers, "nowhere") == 503
        refused = wrap(http, headers, instance, key["id"], DEK)
        assert refused.status_code == 503 and "ciphertext" not in refused.text
        listed = http.get(
            "/v1/serviceids/", params={"account_id": server.account_id}, headers=headers
        )
        assert "nowhere" not in listed.text  # reads still served

        # The database back, the file still broken: the database alone is enough.
        bring_audit_back(server)
        assert _create(http, server, headers, "db-only") == 201
        assert event_count(server) == in_db + 1
        mend_file(trail)
        assert _create(http, server, headers, "both-again") == 201
        (line,) = lines(trail)  # the file was made again
        assert line["event"]["action"] == "iam-identity.serviceid.create" and line["seq"]
        assert server.runtime.container.audit.verify_chain(server.account_id).ok
        # The file holds what the database holds: credentials hashed, never as sent (A3 c).
        token = headers["Authorization"].split()[1]
        assert token not in trail.read_text() and "hmac-sha256:" in trail.read_text()


def test_an_unwritable_file_is_refused_at_start(tmp_path: Path) -> None:
    from strongroom import bootstrap
    from strongroom.config import Settings
    from strongroom.errors import ConfigurationError

    blocked = tmp_path / "dir.ndjson"
    blocked.mkdir()
    with pytest.raises(ConfigurationError, match="STRONGROOM_AUDIT_FILE"):
        bootstrap.build(Settings(data_dir=tmp_path, audit_file=blocked))
