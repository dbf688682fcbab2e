"""reliability.md A3 (b): with the audit sink down and `STRONGROOM_AUDIT_FAIL_CLOSED=true` (the
default), a mutation or key operation answers 503 and changes nothing: "0 mutations persisted
without their event". Reads stay available. Failing open, the call goes ahead."""

from __future__ import annotations

import os
from contextlib import ExitStack

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


def _server(backend: str, tmp: str, stack: ExitStack, fail_closed: bool) -> LiveServer:
    return start_server(backend, tmp, stack, settings_overrides={"audit_fail_closed": fail_closed})


@pytest.fixture(params=SERVER_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _service_ids(http: httpx.Client, server: LiveServer, headers: dict[str, str]) -> list[str]:
    listed = http.get("/v1/serviceids/", params={"account_id": server.account_id}, headers=headers)
    assert listed.status_code == 200, listed.text
    return sorted(s["id"] for s in listed.json()["serviceids"])


def test_sink_down_fails_closed_with_503_and_changes_nothing(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    with ExitStack() as stack:
        server = _server(backend, str(tmp_path_factory.mktemp("closed")), stack, True)
        http = stack.enter_context(httpx.Client(base_url=server.url, timeout=10))
        headers = {"Authorization": f"Bearer {token_for(http, server.apikey)}"}
        instance = kms_instance(http, headers)
        key = new_key(http, headers, instance)
        ids_before = _service_ids(http, server, headers)
        events_before = event_count(server)

        take_audit_down(server)
        made = http.post(
            "/v1/serviceids/", json={"account_id": server.account_id, "name": "x"}, headers=headers
        )
        assert made.status_code == 503, made.text
        assert made.json()["errors"][0]["code"] == "audit_unavailable"
        # A key operation: refused in Key Protect's envelope, and the wrapped key never sent.
        wrapped = wrap(http, headers, instance, key["id"], DEK)
        assert wrapped.status_code == 503, wrapped.text
        reason = wrapped.json()["resources"][0]["reasons"][0]
        assert reason["code"] == "AUDIT_UNAVAILABLE_ERR" and "ciphertext" not in wrapped.text
        deleted = http.delete(
            f"/api/v2/keys/{key['id']}", headers={**headers, "Bluemix-Instance": instance}
        )
        assert deleted.status_code == 503, deleted.text
        refused_login = http.post(
            "/identity/token",
            data={"grant_type": "urn:ibm:params:oauth:grant-type:apikey", "apikey": server.apikey},
        )
        assert refused_login.status_code == 503 and "access_token" not in refused_login.text
        # Nothing changed, and no event was half-written; reads are still served.
        assert _service_ids(http, server, headers) == ids_before
        still = http.get(
            f"/api/v2/keys/{key['id']}/metadata", headers={**headers, "Bluemix-Instance": instance}
        )
        assert still.status_code == 200 and still.json()["resources"][0]["state"] == 1
        assert event_count(server) == events_before

        bring_audit_back(server)
        made = http.post(
            "/v1/serviceids/", json={"account_id": server.account_id, "name": "x"}, headers=headers
        )
        assert made.status_code == 201, made.text
        assert wrap(http, headers, instance, key["id"], DEK).status_code == 200
        assert event_count(server) == events_before + 2
        assert server.runtime.container.audit.verify_chain(server.account_id).ok


def test_failing_open_the_call_goes_ahead(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    with ExitStack() as stack:
        server = _server(backend, str(tmp_path_factory.mktemp("open")), stack, False)
        http = stack.enter_context(httpx.Client(base_url=server.url, timeout=10))
        headers = {"Authorization": f"Bearer {token_for(http, server.apikey)}"}
        instance = kms_instance(http, headers)
        key = new_key(http, headers, instance)
        events_before = event_count(server)

        take_audit_down(server)
        made = http.post(
            "/v1/serviceids/", json={"account_id": server.account_id, "name": "y"}, headers=headers
        )
        assert made.status_code == 201, made.text
        assert made.json()["id"] in _service_ids(http, server, headers)
        wrapped = wrap(http, headers, instance, key["id"], DEK)
        assert wrapped.status_code == 200 and wrapped.json()["ciphertext"]
        assert event_count(server) == events_before  # lost, and logged
        bring_audit_back(server)
        assert server.runtime.container.audit.verify_chain(server.account_id).ok
