"""cProfile of `POST /v2/authz` in process: the ASGI app called directly (no socket, no HTTP
parser), on the world of bench_authz built through the APIs on SQLite.

`python -m benchmarks.profile_authz [single|bulk] [N] [inline]` prints the top functions by own
time and by cumulative time, and the µs of CPU per request without the profiler (process time,
all threads: steadier than the wall clock on a shared machine). What uvicorn and
httptools cost is not in it: `benchmarks/floor.py` measures that side. cProfile sees the main
thread only: with `inline`, the decisions run in it instead of the thread pool, to be seen.
"""

from __future__ import annotations

import asyncio
import cProfile
import json
import pstats
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from benchmarks import bench_authz, load
from strongroom import bootstrap
from strongroom.api.routers import authz as authz_routes
from strongroom.config import Settings
from strongroom.testing import InProcessClient


class _Client(InProcessClient):
    def put(self, url: str, **kwargs: object) -> httpx.Response:
        return self.request("PUT", url, **kwargs)


def _asgi_call(app: Any, headers: list[tuple[bytes, bytes]], body: bytes) -> Any:
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/v2/authz", "raw_path": b"/v2/authz", "query_string": b"",
        "root_path": "", "headers": headers, "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 8080),
    }  # fmt: skip
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def once() -> None:
        await app(dict(scope), receive, send)
        if sent[0]["status"] != 200:
            raise RuntimeError(f"HTTP {sent[0]['status']}: {sent[1]['body'][:200]!r}")
        sent.clear()

    return once


@contextmanager
def asked_in_process(kind: str) -> Iterator[Callable[[], Awaitable[None]]]:
    """bench_authz's world built through the APIs in process (SQLite, a temporary data dir),
    and one `POST /v2/authz` of `kind` ("single" or "bulk") as a call of the ASGI app that
    raises unless it answers 200. The runtime is closed on leaving."""
    with tempfile.TemporaryDirectory(prefix="strongroom-profile-") as tmp:
        apikey = load.new_apikey()
        settings = Settings(data_dir=Path(tmp), bootstrap_apikey=SecretStr(apikey))
        runtime = bootstrap.build(settings)
        try:
            http = _Client(runtime.app)
            form = {"grant_type": "urn:ibm:params:oauth:grant-type:apikey", "apikey": apikey}
            minted = http.post("/identity/token", data=form).json()["access_token"]
            owner = {"Authorization": f"Bearer {minted}"}
            world, token = bench_authz.build_world(http, owner, apikey)  # type: ignore[arg-type]
            asked = bench_authz.questions(world, 1 if kind == "single" else bench_authz.BULK)
            body = json.dumps(asked).encode()
            headers = [
                (b"host", b"strongroom.test"),
                (b"authorization", f"Bearer {token}".encode()),
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ]
            yield _asgi_call(runtime.app, headers, body)
        finally:
            runtime.close()


def main(argv: list[str]) -> None:
    kind = argv[0] if argv else "single"
    n = int(argv[1]) if len(argv) > 1 else 3000
    if "inline" in argv:

        async def inline(fn: Any, *args: Any, **kwargs: Any) -> Any:
            return fn(*args, **kwargs)

        authz_routes.run_in_threadpool = inline  # type: ignore[attr-defined,assignment]
    with asked_in_process(kind) as once:

        async def loop(count: int) -> float:
            began = time.process_time()
            for _ in range(count):
                await once()
            return time.process_time() - began

        asyncio.run(loop(200))
        plain = asyncio.run(loop(n))
        print(f"{kind}: {plain / n * 1e6:.0f} µs of CPU per request without the profiler")
        profiler = cProfile.Profile()
        profiler.enable()
        asyncio.run(loop(n))
        profiler.disable()
        stats = pstats.Stats(profiler).strip_dirs()
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main(sys.argv[1:])
