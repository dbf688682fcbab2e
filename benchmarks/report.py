"""Timing helpers, the figures they produce, the machine they ran on, and the printed table.

Every figure keeps all its repetitions; what is printed is their median (and their range, so
that a noisy run shows as one).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import platform
import queue
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import version
from multiprocessing.synchronize import Barrier
from typing import Any

from cryptography.hazmat.backends.openssl.backend import backend
from rich.console import Console
from rich.table import Table

from benchmarks.load import Round


@dataclass
class Figure:
    section: str
    name: str
    rates: list[float]  # one per repetition
    p50_ms: list[float] = field(default_factory=list)  # HTTP figures only
    p99_ms: list[float] = field(default_factory=list)
    server_cpu_us: list[float] = field(default_factory=list)  # server CPU time per request
    server_cores: list[float] = field(default_factory=list)  # cores the server kept busy
    failures: int = 0
    unfinished: int = 0
    first_error: str | None = None
    note: str = ""
    per_op: bool = True  # single-threaded: 1/rate is the time of one operation

    @classmethod
    def from_rounds(cls, section: str, name: str, rounds: list[Round]) -> Figure:
        return cls(
            section,
            name,
            rates=[r.rate for r in rounds],
            p50_ms=[r.percentile(50) * 1000 for r in rounds],
            p99_ms=[r.percentile(99) * 1000 for r in rounds],
            server_cpu_us=[r.server_cpu_per_request * 1e6 for r in rounds],
            server_cores=[r.server_cores for r in rounds],
            failures=sum(r.failures for r in rounds),
            unfinished=sum(r.unfinished for r in rounds),
            first_error=next((r.first_error for r in rounds if r.first_error), None),
            per_op=False,
        )

    @property
    def median(self) -> float:
        return statistics.median(self.rates)

    @property
    def ok(self) -> bool:
        return self.failures == 0 and self.unfinished == 0

    def us(self) -> float:
        return 1e6 / self.median


def rate(fn: Callable[[], object], seconds: float) -> float:
    """Calls of `fn` per second, calling it for `seconds`."""
    done = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        fn()
        done += 1
    return done / elapsed


def rates(fn: Callable[[], object], reps: int, seconds: float = 1.0) -> list[float]:
    rate(fn, seconds / 5)  # warm up
    return [rate(fn, seconds) for _ in range(reps)]


def _parallel_worker(
    make: Callable[[], Callable[[], object]], reps: int, seconds: float, start: Barrier, out: Any
) -> None:
    fn = make()
    rate(fn, seconds / 5)
    for _ in range(reps):
        start.wait(timeout=60)
        out.put(rate(fn, seconds))


def parallel_rates(
    make: Callable[[], Callable[[], object]], processes: int, reps: int, seconds: float = 1.0
) -> list[float]:
    """Total calls per second of `processes` processes each calling `make()` at the same time.
    `make` must pickle (a module-level function or a functools.partial of one)."""
    ctx = mp.get_context("spawn")
    start, out = ctx.Barrier(processes), ctx.Queue()
    workers = [
        ctx.Process(target=_parallel_worker, args=(make, reps, seconds, start, out), daemon=True)
        for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    try:
        try:
            return [sum(out.get(timeout=seconds + 60) for _ in workers) for _ in range(reps)]
        except queue.Empty:
            raise RuntimeError("a benchmark process stopped without reporting") from None
    finally:
        for worker in workers:
            worker.join(timeout=5)
            if worker.is_alive():
                worker.terminate()
                worker.join()


def machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(
                (ln.split(":", 1)[1].strip() for ln in info if ln.startswith("model name")), cpu
            )
    except OSError:
        pass
    return {
        "nproc": str(
            len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        ),
        "cpu": cpu,
        "os": f"{platform.system()} {platform.release()}",
        "python": sys.version.split()[0],
        "cryptography": f"{version('cryptography')} ({backend.openssl_version_text()})",
        "pyjwt / uvicorn / httpx": " / ".join(version(p) for p in ("pyjwt", "uvicorn", "httpx")),
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def _per_op(fig: Figure) -> str:
    if fig.per_op:
        return f"{fig.us():,.1f}"
    if fig.server_cpu_us:
        cpu, cores = statistics.median(fig.server_cpu_us), statistics.median(fig.server_cores)
        return f"{cpu:,.0f} @{cores:.2f}"
    return ""


def _cells(fig: Figure, reps: int) -> list[str]:
    status = ""
    if not fig.ok:
        why = f" ({fig.first_error[:80]})" if fig.first_error else ""
        status = f"FAILED: {fig.failures} bad, {fig.unfinished} unsent{why};"
    latency = ""
    if fig.p50_ms:
        latency = f"{statistics.median(fig.p50_ms):.1f} / {statistics.median(fig.p99_ms):.1f}"
    return [
        fig.name,
        f"{fig.median:,.0f}",
        f"{min(fig.rates):,.0f}-{max(fig.rates):,.0f} ({len(fig.rates)}/{reps})",
        _per_op(fig),
        latency,
        " ".join(x for x in (status, fig.note) if x),
    ]


HEADERS = ["figure", "per second", "range (reps)", "µs per op", "p50 / p99 ms", "notes"]
LEGEND = (
    "µs per op: one call on one thread; for HTTP, the server's CPU time per request @ the cores"
    " it kept busy. HTTP clients: processes on the same machine, keep-alive, loopback."
)


def _sections(figures: list[Figure]) -> dict[str, list[Figure]]:
    sections: dict[str, list[Figure]] = {}
    for fig in figures:
        sections.setdefault(fig.section, []).append(fig)
    return sections


def print_table(figures: list[Figure], info: dict[str, str], reps: int, console: Console) -> None:
    console.print(", ".join(f"[bold]{k}[/bold] {v}" for k, v in info.items()), highlight=False)
    table = Table(
        *HEADERS,
        title=f"medians of {reps} repetitions",
        title_justify="left",
        caption=LEGEND,
        caption_justify="left",
    )
    for col in table.columns[1:5]:
        col.justify = "right"
    for section, figs in _sections(figures).items():
        table.add_row(f"[bold]{section}[/bold]", end_section=False)
        for i, fig in enumerate(figs):
            row = _cells(fig, reps)
            table.add_row(*row, style=None if fig.ok else "red", end_section=i == len(figs) - 1)
    console.print(table)


def markdown(figures: list[Figure], reps: int) -> str:
    rows = [HEADERS, ["---"] * len(HEADERS)]
    for section, figs in _sections(figures).items():
        rows.append([f"**{section}**"] + [""] * (len(HEADERS) - 1))
        rows += [_cells(f, reps) for f in figs]
    lines = ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join([*lines, "", LEGEND])
