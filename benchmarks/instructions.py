"""Instructions per `POST /v2/authz` request, counted by valgrind's callgrind: the same count
for the same code and input however busy the machine is, where CPU time on this shared 2-core
machine moves by half between runs. For comparing two versions of the code, not for rates.

    python -m benchmarks.instructions [single|bulk] [--requests N] [--src DIR]

The world of bench_authz is built through the APIs in process (SQLite, the ASGI app called
directly, as `profile_authz` does) with callgrind's instrumentation off, so that part runs at
valgrind's light speed; only the N requests that follow are counted (`callgrind_control -i`).
`--src DIR` imports strongroom from another checkout's `src` (an old version, say), so both
are counted with this tool. Each request's answer is checked as in `profile_authz`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH_ROOT = Path(__file__).resolve().parent.parent


def _child(kind: str, requests: int, flags: Path) -> None:
    """Build the world, answer 5 requests uncounted, then N between the parent's flags."""
    from benchmarks.profile_authz import asked_in_process

    with asked_in_process(kind) as once:

        async def answer(count: int) -> None:
            for _ in range(count):
                await once()

        asyncio.run(answer(5))
        _settle_heap()
        (flags / "ready").touch()
        _wait(flags / "go")
        asyncio.run(answer(requests))
        (flags / "done").touch()
        _wait(flags / "end")


def _settle_heap() -> None:
    """What `strongroom serve` does before serving, in the version being counted (older ones
    did nothing)."""
    try:
        from strongroom.cli.serve import settle_heap
    except ImportError:
        return
    settle_heap()


def _wait(flag: Path, timeout: float = 1800.0) -> None:
    deadline = time.monotonic() + timeout
    while not flag.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {flag.name} within {timeout:.0f} s")
        time.sleep(0.05)


def count(kind: str, requests: int, src: Path | None = None) -> int:
    """Instructions per request over one counted run of `requests` requests."""
    for tool in ("valgrind", "callgrind_control", "callgrind_annotate"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed (Debian: apt install valgrind)")
    with tempfile.TemporaryDirectory(prefix="strongroom-callgrind-") as tmp:
        flags, out = Path(tmp), Path(tmp) / "callgrind.out"
        paths = [str(src)] if src else []
        # A fixed hash seed: string hashes decide dict probing, which moves the count by ~3 %.
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([*paths, str(BENCH_ROOT)])}
        env["PYTHONHASHSEED"] = "0"
        command = ["valgrind", "--tool=callgrind", "--instr-atstart=no"]
        command += [f"--callgrind-out-file={out}", sys.executable, "-m", "benchmarks.instructions"]
        command += ["--child", str(flags), kind, "--requests", str(requests)]
        with open(flags / "valgrind.log", "w") as log:
            child = subprocess.Popen(command, env=env, stdout=log, stderr=log)
            try:
                _wait_or_fail(flags / "ready", child, flags)
                _control(child.pid, "-i", "on")
                (flags / "go").touch()
                _wait_or_fail(flags / "done", child, flags)
                _control(child.pid, "-i", "off")
                (flags / "end").touch()
                if child.wait(timeout=600) != 0:
                    raise SystemExit((flags / "valgrind.log").read_text()[-2000:])
            finally:
                if child.poll() is None:
                    child.kill()
        summary = subprocess.run(
            ["callgrind_annotate", str(out)], capture_output=True, text=True, check=True
        ).stdout
    found = re.search(r"^([\d,]+)\s.*PROGRAM TOTALS", summary, re.MULTILINE)
    if found is None:
        raise SystemExit("callgrind_annotate printed no total")
    return int(found.group(1).replace(",", "")) // requests


def _wait_or_fail(flag: Path, child: subprocess.Popen[bytes], flags: Path) -> None:
    while not flag.exists():
        if child.poll() is not None:
            raise SystemExit((flags / "valgrind.log").read_text()[-2000:])
        time.sleep(0.2)


def _control(pid: int, *args: str) -> None:
    subprocess.run(["callgrind_control", *args, str(pid)], capture_output=True, check=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.instructions", description=__doc__)
    parser.add_argument("kind", choices=("single", "bulk"), nargs="?", default="bulk")
    parser.add_argument("--requests", type=int, default=None, help="counted requests")
    parser.add_argument("--src", type=Path, help="import strongroom from this src directory")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    requests = args.requests or (20 if args.kind == "bulk" else 200)
    if args.child:
        _child(args.kind, requests, args.child)
        return
    per_request = count(args.kind, requests, args.src)
    decisions = 1 if args.kind == "single" else 100
    print(
        f"{args.kind}: {per_request:,} instructions per request"
        f" ({per_request // decisions:,} per decision), {requests} requests counted"
    )


if __name__ == "__main__":
    main()
