"""The floor of the HTTP figures: the smallest app on strongroom's own HTTP stack.

FastAPI and uvicorn, run with the settings `strongroom serve` uses (`strongroom.cli.serve.
uvicorn_options`), one route that reads the request body and answers constant JSON bytes (the
answer strongroom gives to the same request, so the load generator checks it the same way).
Whatever strongroom spends beyond this is ours.

`python -m benchmarks.floor --port P --answer FILE [--path /v2/authz] [--workers N]`; `serve()`
runs it as a subprocess the way `load.serve()` runs strongroom, with as many worker processes
as the strongroom leg it is compared with.
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


ANSWER_ENV, PATH_ENV = "FLOOR_ANSWER_FILE", "FLOOR_PATH"


def app_from_env() -> FastAPI:
    """The app, for uvicorn's worker processes, which import it by name."""
    return create_app(os.environ[PATH_ENV], Path(os.environ[ANSWER_ENV]).read_bytes())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.floor")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--answer", type=Path, required=True)
    parser.add_argument("--path", default="/v2/authz")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    os.environ[ANSWER_ENV], os.environ[PATH_ENV] = str(args.answer), args.path
    options = uvicorn_options("warning")
    if args.workers > 1:
        options["workers"] = args.workers
    uvicorn.run(
        "benchmarks.floor:app_from_env", factory=True, host=load.HOST, port=args.port, **options
    )


@contextmanager
def serve(
    folder: Path, answer: bytes, path: str = "/v2/authz", workers: int = 1
) -> Iterator[load.Server]:
    """The floor on a free loopback port, yielded once /healthz answers; always stopped."""
    answer_file = folder / "floor-answer.json"
    answer_file.write_bytes(answer)
    port = load._free_port()
    command = [sys.executable, "-m", "benchmarks.floor", "--port", str(port)]
    command += ["--answer", str(answer_file), "--path", path, "--workers", str(workers)]
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
