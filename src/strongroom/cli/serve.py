"""`strongroom serve`: build the runtime and run it under uvicorn.

On the first start of an empty database it prints the owner's API key, once, and the lines that
point the official IBM SDK at this server (spec §2.2, §13.3).
"""

from __future__ import annotations

import gc
import os
from importlib.util import find_spec
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn
from fastapi import FastAPI
from pydantic import ValidationError
from rich.console import Console

from strongroom import bootstrap
from strongroom.config import Settings
from strongroom.errors import ConfigurationError
from strongroom.identity.requests import NewAccount

console = Console()


def settings_from(
    host: str | None, port: int | None, data_dir: Path | None, database_url: str | None
) -> Settings:
    overrides: dict[str, Any] = {
        k: v
        for k, v in {
            "host": host,
            "port": port,
            "data_dir": data_dir,
            "database_url": database_url,
        }.items()
        if v is not None
    }
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
        console.print(f"[red]strongroom: {problems}[/red]")
        raise typer.Exit(2) from exc


def sdk_lines(url: str, first: NewAccount) -> list[str]:
    key = first.owner_key.value
    lines = [f"STRONGROOM_ENDPOINT={url}", f"STRONGROOM_APIKEY={key}"]
    for prefix in (
        "IAM_IDENTITY",
        "IAM_ACCESS_GROUPS",
        "IAM_POLICY_MANAGEMENT",
        "RESOURCE_MANAGER",
    ):
        lines += [
            f"{prefix}_URL={url}",
            f"{prefix}_AUTH_TYPE=iam",
            f"{prefix}_AUTH_URL={url}",
            f"{prefix}_APIKEY={key}",
        ]
    lines += [
        f"IAM_IDENTITY_ACCOUNT_ID={first.account.id}",
        f"IAM_IDENTITY_IAM_ID={first.owner.iam_id}",
    ]
    return lines


def announce(url: str, first: NewAccount) -> None:
    console.print(f"[bold]strongroom[/bold]: created account [cyan]{first.account.id}[/cyan]")
    console.print(f"owner [cyan]{first.owner.iam_id}[/cyan] <{first.owner.email}>")
    console.print("[bold yellow]The owner's API key is shown this once; keep it now:[/bold yellow]")
    console.print(f"  {first.owner_key.value}", highlight=False, soft_wrap=True)
    console.print("\nPoint the IBM SDK (or `strongroom login`) at this server with:")
    for line in sdk_lines(url, first):
        console.print(f"  {line}", highlight=False, soft_wrap=True)
    console.print()


def uvicorn_options(log_level: str) -> dict[str, Any]:
    """How uvicorn runs strongroom (and the benchmarks' floor, benchmarks/floor.py): uvloop and
    httptools (the `uvicorn[standard]` extra), no access log (one log line per request costs
    more than a policy decision; docs/benchmarks.md). Where uvloop or httptools does not install
    (uvloop has no Windows build), asyncio and h11 serve instead, as uvicorn's `auto` would."""
    loop = "uvloop" if find_spec("uvloop") else "asyncio"
    http = "httptools" if find_spec("httptools") else "h11"
    return {
        "loop": loop,
        "http": http,
        "log_level": log_level,
        "access_log": False,
        # With --workers, uvicorn kills a worker that misses its health ping (5 s by default).
        # A worker compiling a 50,000-policy account (about 5 s here, docs/benchmarks.md) holds
        # the GIL for most of that time: it is busy, not hung.
        "timeout_worker_healthcheck": WORKER_HEALTHCHECK_SECONDS,
    }


WORKER_HEALTHCHECK_SECONDS = 60


def serve(
    host: Annotated[
        str | None, typer.Option(help="address to listen on (default 127.0.0.1)")
    ] = None,
    port: Annotated[int | None, typer.Option(help="port to listen on (default 8080)")] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="where the SQLite database and root key live (default ./.strongroom)"),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(help="SQLAlchemy URL, e.g. postgresql://user@host/db (instead of SQLite)"),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="server processes (default 1). Each is a node: a change made through one is "
            "seen by the others within 1 s (docs/architecture.md, consistency)",
        ),
    ] = 1,
) -> None:
    """Run the server."""
    settings = settings_from(host, port, data_dir, database_url)
    if workers > 1 and _in_memory(settings):
        console.print("[red]strongroom: --workers needs a database the processes share[/red]")
        raise typer.Exit(2)
    try:
        # With workers, this process still migrates and makes the first account, once, before
        # any worker starts (several first starts on one empty database would race), and it
        # alone runs the key-management sweep; the workers only serve.
        runtime = bootstrap.build(settings)
    except ConfigurationError as exc:
        console.print(f"[red]strongroom: {exc.message}[/red]")
        raise typer.Exit(2) from exc
    url = f"http://{settings.host}:{settings.port}"
    if runtime.first_start is not None:
        announce(url, runtime.first_start)
    console.print(
        f"strongroom listening on {url} (database: {runtime.database.dialect})", highlight=False
    )
    try:
        runtime.start_background()  # the key-management sweep (STRONGROOM_KMS_SWEEP_SECONDS)
        options = uvicorn_options(settings.log_level)
        if workers == 1:
            settle_heap()
            uvicorn.run(runtime.app, host=settings.host, port=settings.port, **options)
        else:
            os.environ.update(_worker_environment(settings))
            uvicorn.run(
                f"{__name__}:worker_app",
                factory=True,
                workers=workers,
                host=settings.host,
                port=settings.port,
                **options,
            )
    finally:
        runtime.close()


def _in_memory(settings: Settings) -> bool:
    """An SQLite database each process would hold alone (`sqlite://`, `:memory:`)."""
    url = settings.database_url or ""
    return url.startswith("sqlite") and (url.rstrip("/").endswith(":") or ":memory:" in url)


def _worker_environment(settings: Settings) -> dict[str, str]:
    """What the command line said, for the worker processes, which read their Settings from the
    environment (uvicorn starts them afresh)."""
    found = {"STRONGROOM_DATA_DIR": str(settings.data_dir)}
    if settings.database_url:
        found["STRONGROOM_DATABASE_URL"] = settings.database_url
    return found


def worker_app() -> FastAPI:
    """One worker's app (`strongroom serve --workers N`): the database is migrated already."""
    app = bootstrap.build(Settings()).app
    settle_heap()
    return app


# Young objects between collections of the youngest generation (CPython's default is 700). A
# 100-decision /v2/authz request makes some 2,000 short-lived containers, nearly all freed by
# reference counting: at 700 the collector ran three times a request, scanning them for cycles
# there are none of. 7,000 took 5 % of the instructions off such a request (docs/benchmarks.md).
YOUNG_THRESHOLD = 7_000


def settle_heap() -> None:
    """Once the app is built, before serving: move everything alive now (modules, catalogs, the
    app, compiled policies) out of the collector's sight, since none of it is garbage, so a full
    collection scans only what requests made; then collect the youngest generation less often."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
