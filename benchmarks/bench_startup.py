"""Startup: from spawning `strongroom serve` to the first 200 from /healthz (the issue asks < 3 s).

Two cases: a fresh data dir (root key, migrations, the first signing key and account are made)
and a restart on existing data. The process start includes Python's own start and imports.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.load import new_apikey, serve
from benchmarks.report import Figure

SECTION = "startup: spawn to first /healthz 200, SQLite"


def _time_start(data_dir: Path, apikey: str) -> float:
    began = time.monotonic()
    with serve(data_dir, apikey):
        return time.monotonic() - began


def run(reps: int, log: Callable[[str], None]) -> list[Figure]:
    log("startup: fresh data dir and restart")
    fresh: list[float] = []
    restart: list[float] = []
    for _ in range(reps):
        with tempfile.TemporaryDirectory(prefix="strongroom-bench-") as tmp:
            apikey = new_apikey()
            fresh.append(_time_start(Path(tmp), apikey))
            restart.append(_time_start(Path(tmp), apikey))
    return [
        Figure(SECTION, "fresh data dir", [1 / s for s in fresh], note=_note(fresh)),
        Figure(SECTION, "restart on existing data", [1 / s for s in restart], note=_note(restart)),
    ]


def _note(seconds: list[float]) -> str:
    return f"median {statistics.median(seconds):.2f} s, worst {max(seconds):.2f} s (target < 3 s)"
