"""Helpers shipped for tests of strongroom and of applications that embed it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx


class FrozenClock:
    """A clock that stands still until told to move."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)


class InProcessClient:
    """Calls an ASGI app in process through httpx (no socket), synchronously, for tests."""

    def __init__(self, app: object, base_url: str = "http://strongroom.test") -> None:
        self._app = app
        self._base_url = base_url

    def request(self, method: str, url: str, **kwargs: object) -> httpx.Response:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self._app)  # type: ignore[arg-type]
            async with httpx.AsyncClient(transport=transport, base_url=self._base_url) as client:
                return await client.request(method, url, **kwargs)  # type: ignore[arg-type]

        return asyncio.run(send())

    def get(self, url: str, **kwargs: object) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: object) -> httpx.Response:
        return self.request("POST", url, **kwargs)
