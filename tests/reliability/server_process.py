"""`strongroom serve` in a child process that can be SIGKILLed (reliability.md S1).

Importing strongroom costs seconds of CPU (far more under load on a shared runner): a fork server
that imported the `strongroom` command once starts each server in a fraction of that, so a kill
cycle costs the restart itself (bootstrap, schema check, uvicorn), not the imports. The child
runs the real command line, `strongroom serve ...`, exactly as a user would.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.process
import os
import signal
import socket
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

FORKS = multiprocessing.get_context("forkserver")
FORKS.set_forkserver_preload(["strongroom.cli.main", "tests.reliability.server_process"])


def run_strongroom(argv: list[str], env: dict[str, str], log_path: str) -> None:
    """The child: the `strongroom` command (cli/main.py), its output in the server log, and only
    the `STRONGROOM_*` settings it is given."""
    for name in [n for n in os.environ if n.startswith("STRONGROOM_")]:
        del os.environ[name]
    os.environ.update(env)
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    os.dup2(log, 1)
    os.dup2(log, 2)
    from strongroom.cli.main import app

    app(argv, prog_name="strongroom")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Served:
    process: multiprocessing.process.BaseProcess
    url: str
    ready_s: float  # from spawn to the first healthy /healthz


def spawn(data_dir: Path, database_url: str | None, apikey: str) -> Served:
    """`strongroom serve` on a fresh loopback port, returned once /healthz answers."""
    port = _free_port()
    argv = ["serve", "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data_dir)]
    if database_url:
        argv += ["--database-url", database_url]
    env = {"STRONGROOM_BOOTSTRAP_APIKEY": apikey, "STRONGROOM_LOG_LEVEL": "warning"}
    log = data_dir / "server.log"
    started = time.monotonic()
    process = FORKS.Process(target=run_strongroom, args=(argv, env, str(log)), daemon=True)
    process.start()
    url = f"http://127.0.0.1:{port}"
    while time.monotonic() - started < 120:
        if not process.is_alive():
            tail = log.read_text()[-3000:] if log.exists() else ""
            raise AssertionError(f"the server exited ({process.exitcode}):\n{tail}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return Served(process, url, time.monotonic() - started)
        except httpx.TransportError:
            pass
        time.sleep(0.02)
    kill9(Served(process, url, 0.0))
    raise AssertionError("the server did not become healthy within 120 s")


def kill9(served: Served) -> None:
    """SIGKILL: no shutdown handler, no flush, no final commit; what is on disk is all there is."""
    if served.process.is_alive() and served.process.pid:
        os.kill(served.process.pid, signal.SIGKILL)
    served.process.join(timeout=30)
