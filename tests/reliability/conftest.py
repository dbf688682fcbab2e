from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from strongroom.testing.server import LiveServer


@pytest.fixture
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client
