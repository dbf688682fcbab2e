"""A pytest plugin that runs IBM's own Key Protect integration tests (shipped in the `keyprotect`
package, spec kms-api.md §6) unchanged against a strongroom server started in the same process.

IBM's tests read their configuration from `ibm_key_protect_api_v2.env` in the working
directory; this plugin starts a LiveServer (SQLite), makes a `kms` instance through the
Resource Controller API, and writes that file before the tests are collected.

Two of IBM's tests wait 31 s of wall time for Key Protect's timing rules (enable and restore
30 s after disable and delete). The server's key lifecycle runs on a clock this plugin moves
forward by exactly the time they would have slept, so the rules are enforced as written and
the run takes seconds instead of a minute. Nothing else in their module changes.
"""

from __future__ import annotations

import tempfile
import time
import types
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from strongroom.testing import FrozenClock
from strongroom.testing.server import LiveServer

KMS_PLAN = "eedd3585-90c6-4c8f-be3d-062069e99fc3"
_state: dict[str, Any] = {}


def pytest_configure(config: pytest.Config) -> None:
    clock = FrozenClock(datetime.now(UTC))
    data = Path(tempfile.mkdtemp(prefix="strongroom-kp-"))
    server = LiveServer(data_dir=data, kms_clock=clock).start()
    token = httpx.post(
        f"{server.url}/identity/token",
        data={"grant_type": "urn:ibm:params:oauth:grant-type:apikey", "apikey": server.apikey},
    ).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    group = httpx.get(f"{server.url}/v2/resource_groups", headers=auth).json()["resources"][0]
    instance = httpx.post(
        f"{server.url}/v2/resource_instances",
        headers=auth,
        json={"name": "ibm-suite", "target": "us-south", "resource_group": group["id"],
              "resource_plan_id": KMS_PLAN},
    ).json()["guid"]  # fmt: skip
    Path("ibm_key_protect_api_v2.env").write_text(
        f"IBM_KEY_PROTECT_API_URL={server.url}\n"
        f"IBM_KEY_PROTECT_API_AUTH_URL={server.url}\n"
        "IBM_KEY_PROTECT_API_AUTH_TYPE=iam\n"
        f"IBM_KEY_PROTECT_API_APIKEY={server.apikey}\n"
        f"IBM_KEY_PROTECT_API_BLUEMIX_INSTANCE={instance}\n"
    )
    _state.update(server=server, clock=clock)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    clock: FrozenClock = _state["clock"]
    for item in items:
        module = getattr(item, "module", None)
        if module is not None and getattr(module, "time", None) is time:
            # Their `time.sleep(31 - elapsed)` moves the server's key lifecycle clock instead.
            module.time = types.SimpleNamespace(time=time.time, sleep=clock.advance)


def pytest_unconfigure(config: pytest.Config) -> None:
    server = _state.pop("server", None)
    if server is not None:
        server.stop()
