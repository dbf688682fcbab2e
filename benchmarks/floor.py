"""The floor of the HTTP figures: the smallest app on strongroom's own HTTP stack.

FastAPI and uvicorn, run with the settings `strongroom serve` uses (`strongroom.cli.serve.
uvicorn_options`), one route that reads the request body and answers constant JSON bytes (the
answer strongroom gives to the same request, so the load generator checks it the same way).
Whatever strongroom spends beyond this is ours.

`python -m benchmarks.floor --port P --answer FILE [--path /v2/authz]`; `serve()` runs it as a
subprocess the way `load.serve()` runs strongroom.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from fastapi import FastAPI, Request, Response

from benchmarks import load
from strongroom.cli.serve import uvicorn_options


def create_app(path: str, answer: bytes) -> FastAPI:
    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    @app.post(path)
    async def constant(request: Request) -> Response:
        await request.body()
        return Response(answer, media_type="application/json")

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.floor")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--answer", type=Path, required=True)
    parser.add_argument("--path", default="/v2/authz")
    args = parser.parse_args(argv)
    app = create_app(args.path, args.answer.read_bytes())
    uvicorn.run(app, host=load.HOST, port=args.port, **uvicorn_options("warning"))


@contextmanager
def serve(folder: Path, answer: bytes, path: str = "/v2/authz") -> Iterator[load.Server]:
    """The floor on a free loopback port, yielded once /healthz answers; always stopped."""
    answer_file = folder / "floor-answer.json"
    answer_file.write_bytes(answer)
    port = load._free_port()
    command = [sys.executable, "-m", "benchmarks.floor", "--port", str(port)]
    command += ["--answer", str(answer_file), "--path", path]
    log_path = folder / "floor.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_")}
    with log_path.open("wb") as log:
        server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f"http://{load.HOST}:{port}"
            load._wait_healthy(server, url, 60.0, log_path)
            yield load.Server(url, server.pid)
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


if __name__ == "__main__":
    main()
