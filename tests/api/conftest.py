from __future__ import annotations

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
