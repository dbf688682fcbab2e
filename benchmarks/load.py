"""A real server as a subprocess, and a bounded HTTP load generator against it.

`serve()` starts `strongroom serve` on a free loopback port and always stops it. `run()` sends one
`Call` over and over from several client processes (one keep-alive `httpx.Client` each): every
round, each process sends a fixed number of requests, or fewer when the round's hard time limit
passes, so a run always stops by itself. Every response is checked; bad ones are counted.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import queue
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import httpx

HOST = "127.0.0.1"  # loopback only


def new_apikey() -> str:
    return "bench-" + secrets.token_urlsafe(32)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _strongroom() -> str:
    beside = Path(sys.executable).parent / "strongroom"  # the virtualenv running the benchmarks
    found = str(beside) if beside.exists() else shutil.which("strongroom")
    if found is None:
        raise RuntimeError("the `strongroom` command is not installed; run `make bench`")
    return found


@dataclass(frozen=True)
class Server:
    url: str
    pid: int

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process and its children (`--workers`), all
        their threads (Linux /proc)."""
        try:
            total = 0.0
            for pid in [self.pid, *_children(self.pid)]:
                total += _cpu(pid)
            return total
        except OSError:
            return float("nan")  # not Linux: the figure shows nan rather than a guess


def _stat(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rpartition(")")[2].split()


def _cpu(pid: int) -> float:
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(parent: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if int(_stat(int(entry))[1]) == parent:
                    found.append(int(entry))
            except (OSError, IndexError):
                continue  # gone meanwhile
    return found


# The rate limits the benchmarks raise (benchmarks/__init__.py) reach every server they start.
PASSED_ON = ("STRONGROOM_RATE_LIMIT_PER_SOURCE", "STRONGROOM_RATE_LIMIT_PER_APIKEY")


@contextmanager
def serve(
    data_dir: Path,
    apikey: str,
    database_url: str | None = None,
    *,
    start_timeout: float = 60.0,
    env: dict[str, str] | None = None,
    workers: int = 1,
) -> Iterator[Server]:
    """`strongroom serve` on a free loopback port, yielded once /healthz answers; always stopped.
    `env`: more `STRONGROOM_*` settings (a second node's shared root key, its consistency mode).
    The server sees none of this process's `STRONGROOM_` variables but the rate limits
    (PASSED_ON), only those in `env`."""
    port = _free_port()
    command = [_strongroom(), "serve", "--host", HOST, "--port", str(port)]
    if workers > 1:
        command += ["--workers", str(workers)]
    command += ["--data-dir", str(data_dir)]
    if database_url:
        command += ["--database-url", database_url]
    server_env = {k: v for k, v in os.environ.items() if not k.startswith("STRONGROOM_")}
    server_env |= {"STRONGROOM_BOOTSTRAP_APIKEY": apikey, "STRONGROOM_LOG_LEVEL": "warning"}
    server_env |= {k: os.environ[k] for k in PASSED_ON if k in os.environ}
    server_env |= env or {}
    log_path = data_dir / "server.log"
    url = f"http://{HOST}:{port}"
    with log_path.open("wb") as log:
        server = subprocess.Popen(command, env=server_env, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_healthy(server, url, start_timeout, log_path)
            yield Server(url, server.pid)
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _wait_healthy(server: subprocess.Popen[bytes], url: str, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(
                f"the server exited ({server.returncode}):\n{log.read_text()[-2000:]}"
            )
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"the server did not answer /healthz within {timeout:.0f} s")


@dataclass(frozen=True)
class Call:
    """One request, sent again and again. A response is good when its status is `status`,
    with `expect_key` its JSON body is an object holding that key, and with `expect_json` its
    JSON body equals that value."""

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None
    status: int = 200
    expect_key: str | None = None
    expect_json: Any = None


@dataclass(frozen=True)
class Load:
    processes: int = 4
    requests: int = 250  # per process and round
    rounds: int = 3
    warmup: int = 20  # per process, before the first round, not counted
    time_limit: float = 30.0  # seconds per round; a round stops sending then
    # "httpx": one keep-alive httpx.Client per process, as an SDK would send. "raw": one
    # keep-alive socket per process writing the request's bytes, prepared once, and reading the
    # answer by its Content-Length: a client that costs far less CPU, for servers that answer
    # faster than httpx can ask on a machine the clients share (bench_authz.py).
    client: str = "httpx"


@dataclass(frozen=True)
class Round:
    completed: int
    failures: int  # completed requests whose response was not good (or raised)
    unfinished: int  # requests not sent because the time limit passed
    seconds: float
    latencies: tuple[float, ...]  # seconds, sorted
    first_error: str | None
    server_cpu: float  # CPU seconds the server process used during the round

    @property
    def server_cpu_per_request(self) -> float:
        return self.server_cpu / max(self.completed, 1)

    @property
    def server_cores(self) -> float:
        """How many cores the server kept busy on average (1.0: one core, e.g. GIL-bound)."""
        return self.server_cpu / self.seconds

    @property
    def rate(self) -> float:
        return self.completed / self.seconds

    def percentile(self, q: float) -> float:
        """Nearest rank; q in (0, 100]."""
        rank = max(1, -(-len(self.latencies) * q // 100))
        return self.latencies[int(rank) - 1]


class _Raw:
    """HTTP/1.1 over one keep-alive loopback socket; answers with a Content-Length only."""

    def __init__(self, url: str, call: Call) -> None:
        host, _, port = url.removeprefix("http://").partition(":")
        self.address = (host, int(port))
        self._connect()
        body = call.content or b""
        lines = [f"{call.method} {call.path} HTTP/1.1", f"Host: {host}:{port}"]
        lines += [f"{name}: {value}" for name, value in call.headers.items()]
        lines.append(f"Content-Length: {len(body)}")
        self.request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body

    def _more(self) -> None:
        chunk = self.sock.recv(262144)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        self.buffer += chunk

    def _connect(self) -> None:
        self.sock = socket.create_connection(self.address, timeout=10.0)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def send(self) -> tuple[int, bytes]:
        """One exchange. A connection the server closed while it sat idle (uvicorn closes
        keep-alive connections after 5 s: a client waiting for the others at a round's start
        can sit that long while a worker compiles a large account) is opened again and the
        request sent once more, as httpx does; a close after any byte of the answer is an
        error."""
        try:
            self.sock.sendall(self.request)
            self._more()
        except ConnectionError:  # reset, broken pipe, or closed (not a timeout)
            if self.buffer:
                raise
            self.sock.close()
            self._connect()
            self.sock.sendall(self.request)
        while (end := self.buffer.find(b"\r\n\r\n")) < 0:
            self._more()
        head, self.buffer = self.buffer[:end], self.buffer[end + 4 :]
        status = int(head[9:12])
        length = None
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length is None:
            raise ConnectionError("an answer without Content-Length")
        while len(self.buffer) < length:
            self._more()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return status, body

    def close(self) -> None:
        self.sock.close()


def _send(client: httpx.Client | _Raw, call: Call) -> tuple[float, str | None]:
    """The request's latency in seconds, and None for a good response or else what was wrong."""
    started = time.perf_counter()
    try:
        if isinstance(client, _Raw):
            status, content = client.send()
        else:
            response = client.request(
                call.method, call.path, headers=call.headers, content=call.content
            )
            status, content = response.status_code, response.content
    except (httpx.HTTPError, OSError, ValueError) as exc:
        return time.perf_counter() - started, f"{type(exc).__name__}: {exc}"
    latency = time.perf_counter() - started
    text = content[:200].decode("utf-8", "replace")
    if status != call.status:
        return latency, f"HTTP {status}: {text}"
    if call.expect_key is not None or call.expect_json is not None:
        try:
            body = json.loads(content)
        except ValueError:
            body = None
        if call.expect_key is not None and (
            not isinstance(body, dict) or call.expect_key not in body
        ):
            return latency, f"no `{call.expect_key}` in {text}"
        if call.expect_json is not None and body != call.expect_json:
            return latency, f"an unexpected answer: {text}"
    return latency, None


def _worker(url: str, call: Call, load: Load, start: Barrier, out: Any) -> None:
    with ExitStack() as stack:
        client: httpx.Client | _Raw
        if load.client == "raw":
            client = _Raw(url, call)
            stack.callback(client.close)
        else:
            client = stack.enter_context(httpx.Client(base_url=url, timeout=10.0))
        for _ in range(load.warmup):
            _send(client, call)
        for _ in range(load.rounds):
            start.wait(timeout=120)
            latencies: list[float] = []
            failures, first_error = 0, None
            began = time.monotonic()  # CLOCK_MONOTONIC: comparable across processes on Linux
            deadline = began + load.time_limit
            for _ in range(load.requests):
                if time.monotonic() > deadline:
                    break
                latency, error = _send(client, call)
                latencies.append(latency)
                if error is not None:
                    failures += 1
                    first_error = first_error or error
            out.put((began, time.monotonic(), latencies, failures, first_error))


def run(server: Server, call: Call, load: Load) -> list[Round]:
    """`load.rounds` rounds of `load.processes` clients sending `call` to `server`."""
    ctx = mp.get_context("spawn")
    start = ctx.Barrier(load.processes + 1)  # the clients, and this process to read the CPU clock
    out = ctx.Queue()
    workers = [
        ctx.Process(target=_worker, args=(server.url, call, load, start, out), daemon=True)
        for _ in range(load.processes)
    ]
    for worker in workers:
        worker.start()
    try:
        rounds = []
        for _ in range(load.rounds):
            cpu = server.cpu_seconds()
            start.wait(timeout=120)
            try:
                reports = [out.get(timeout=load.time_limit + 60) for _ in workers]
            except queue.Empty:
                raise RuntimeError("a load worker stopped without reporting") from None
            latencies = sorted(x for r in reports for x in r[2])
            rounds.append(
                Round(
                    completed=len(latencies),
                    failures=sum(r[3] for r in reports),
                    unfinished=load.processes * load.requests - len(latencies),
                    seconds=max(r[1] for r in reports) - min(r[0] for r in reports),
                    latencies=tuple(latencies),
                    first_error=next((r[4] for r in reports if r[4]), None),
                    server_cpu=server.cpu_seconds() - cpu,
                )
            )
        return rounds
    finally:
        for worker in workers:
            worker.join(timeout=5)
            if worker.is_alive():
                worker.terminate()
                worker.join()
