from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from strongroom.testing.server import LiveServer


@pytest.fixture
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        yield client


def token_for(client: httpx.Client, apikey: str) -> str:
    response = client.post(
        "/identity/token",
        data={"grant_type": "urn:ibm:params:oauth:grant-type:apikey", "apikey": apikey},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


@pytest.fixture
def bearer(server: LiveServer, http: httpx.Client) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(http, server.apikey)}"}


def new_resource_group(http: httpx.Client, headers: dict[str, str], name: str = "") -> str:
    """A fresh resource group in the caller's account (Resource Manager, spec §7); its id."""
    made = http.post(
        "/v2/resource_groups", json={"name": name or f"rg-{uuid.uuid4().hex[:8]}"}, headers=headers
    )
    assert made.status_code == 201, made.text
    return str(made.json()["id"])
