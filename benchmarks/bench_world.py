"""A million policies (issue 7): `/v2/authz` on a server started on a 1M-policy world.

Opt-in and slow (minutes; not part of the default run): `python -m benchmarks world`. For each
database (SQLite, and PostgreSQL when `STRONGROOM_BENCH_PG_URL`/`STRONGROOM_TEST_PG_URL` is set)
and each world (a small one, `world.SMALL`, then the 1M one, `world.Shape()`):

- generate the world into a scratch database (benchmarks/world.py) and time it;
- start `strongroom serve` on it: spawn to the first /healthz 200, and the server's RSS then (it
  compiles nothing at start: each account's policies are read and compiled at its first check);
- for a small account (about 950 policies at 1M): the first `/v2/authz` single decision, which
  reads and compiles that account (cold), then the same decision under the bounded load
  generator (warm: rate, p50/p99), and 100 of the account's questions per request (warm bulk),
  with bench_authz's clients and `STRONGROOM_BENCH_WORKERS`;
- a batch of 8 checks in each of the other small probe accounts (49), each compiled at its
  first check: the server's RSS after 1, 10, 25 and all of them;
- the same cold and warm figures for the large account (50,000 policies at 1M), last, so the
  small accounts' RSS growth is not hidden in the heap its compile freed.

Every response is checked: 200, every decision permitted as the generator recorded, and under
load the same JSON body as the first answer.

`STRONGROOM_BENCH_WORLD_POLICIES` scales the large world down (e.g. 200000) for a quicker run;
`STRONGROOM_POLICY_CACHE_ACCOUNTS`, when set, is passed on to the server (the bound on the
accounts it keeps compiled, where the server has one) so the RSS figures show it.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx

from benchmarks import bench_authz, load, world
from benchmarks.report import Figure
from strongroom.testing.postgres import scratch_database

Progress = Callable[[str], None]
PG_ENV = ("STRONGROOM_BENCH_PG_URL", "STRONGROOM_TEST_PG_URL")
CACHE_ENV = "STRONGROOM_POLICY_CACHE_ACCOUNTS"  # the LRU bound on compiled accounts, if any
# bench_authz's load (4 raw-socket clients) and worker count (`STRONGROOM_BENCH_WORKERS`), so
# that the figures on this world compare with its small one row for row.
LOAD, WORKERS, BULK = bench_authz.LOAD, bench_authz.WORKERS, bench_authz.BULK


def _large() -> world.Shape:
    policies = int(os.environ.get("STRONGROOM_BENCH_WORLD_POLICIES", "1000000"))
    scale = policies / world.Shape.policies
    return world.Shape(
        accounts=max(50, int(world.Shape.accounts * scale)),
        identities=int(world.Shape.identities * scale),
        policies=policies,
        large_policies=world.Shape.large_policies,
    )


@contextmanager
def _tmp_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="strongroom-bench-") as tmp:
        yield Path(tmp)


def _passed_on() -> dict[str, str]:
    """The policy cache's bound, when set here, reaches the server (load.serve passes on no
    other STRONGROOM_ variable)."""
    return {k: os.environ[k] for k in (CACHE_ENV,) if k in os.environ}


def rss_mb(pid: int) -> float:
    """Resident set size of a server (Linux /proc), in MB, its worker processes' included; nan
    elsewhere."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            workers = [int(child) for child in children.read().split()]
    except OSError:
        workers = []
    return _rss_mb(pid) + sum(_rss_mb(worker) for worker in workers)


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def run(reps: int, progress: Progress) -> list[Figure]:
    backends: list[tuple[str, str | None]] = [("SQLite", None)]
    pg = next((os.environ[name] for name in PG_ENV if os.environ.get(name)), None)
    if pg:
        backends.append(("PostgreSQL", pg))
    else:
        progress(f"PostgreSQL leg skipped: set {PG_ENV[0]} (or {PG_ENV[1]})")
    figures: list[Figure] = []
    large = _large()
    for backend, admin_url in backends:
        for label, shape in (("small world", world.SMALL), (f"{large.policies:,}", large)):
            name = label if label == "small world" else f"{label} policies"
            figures += _world(f"world: {name}, {backend}", shape, admin_url, reps, progress)
    return figures


def _token(http: httpx.Client, apikey: str) -> str:
    form = {"grant_type": "urn:ibm:params:oauth:grant-type:apikey", "apikey": apikey}
    response = http.post("/identity/token", data=form)
    response.raise_for_status()
    found: str = response.json()["access_token"]
    return found


def _check(response: httpx.Response, questions: int) -> Any:
    """The body, if the call answered 200 with every decision permitted (as generated)."""
    if response.status_code != 200:
        raise RuntimeError(f"/v2/authz answered {response.status_code}: {response.text[:300]}")
    body = response.json()
    permitted = [r["authorizationDecision"]["permitted"] for r in body["responses"]]
    if permitted != [True] * questions:
        raise RuntimeError(f"/v2/authz decided {permitted}, the world says all permitted")
    return body


def _world(
    section: str, shape: world.Shape, admin_url: str | None, reps: int, progress: Progress
) -> list[Figure]:
    figures: list[Figure] = []
    with ExitStack() as stack:
        tmp = stack.enter_context(_tmp_dir())
        url = stack.enter_context(scratch_database(admin_url)) if admin_url else None
        progress(f"{section}: generating {shape.policies:,} policies")
        made = world.generate(tmp, url, shape, progress)
        rows = ", ".join(f"{n:,} {table}" for table, n in made.rows.items())
        total = made.seconds["total"]
        figures.append(
            Figure(section, "generate the world", [1 / total],
                   note=f"{total:.1f} s ({made.seconds['bulk rows']:.1f} s of bulk rows): {rows}",
                   per_op=False)
        )  # fmt: skip
        began = time.monotonic()
        server = stack.enter_context(
            load.serve(
                tmp,
                made.probes[0].apikey,
                url,
                start_timeout=120,
                env=_passed_on(),
                workers=WORKERS,
            )
        )
        startup = time.monotonic() - began
        figures.append(
            Figure(section, "startup: spawn to /healthz", [1 / startup],
                   note=f"{startup:.2f} s; server RSS {rss_mb(server.pid):.0f} MB", per_op=False)
        )  # fmt: skip
        with httpx.Client(base_url=server.url, timeout=300) as http:
            tokens = [_token(http, p.apikey) for p in made.probes]
            # A small account first, then the other small ones (RSS grows from the start-up
            # heap, not into what the large account's compile freed), the large one last.
            figures += _cold_and_warm(
                section, server, http, made.probes[1], tokens[1], reps, "small", progress
            )
            figures.append(_touch(section, server, http, made.probes[1:], tokens[1:], progress))
            figures += _cold_and_warm(
                section, server, http, made.probes[0], tokens[0], reps, "large", progress
            )
    return figures


def _cold_and_warm(
    section: str,
    server: load.Server,
    http: httpx.Client,
    probe: world.Probe,
    token: str,
    reps: int,
    kind: str,
    progress: Progress,
) -> list[Figure]:
    """The first check of an account (read and compiled then), then the same check warm."""
    label = f"{kind} account ({probe.policies:,} policies)"
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    content = json.dumps(probe.questions[:1]).encode()
    progress(f"{section}: first check, {label}")
    t0 = time.perf_counter()
    first = http.post("/v2/authz", content=content, headers=headers)
    cold = time.perf_counter() - t0
    expected = _check(first, 1)
    note = f"{cold * 1e3:,.0f} ms; server RSS {rss_mb(server.pid):.0f} MB after"
    figures = [
        Figure(section, f"first check, {label}: reads and compiles it", [1 / cold],
               note=note, per_op=False)
    ]  # fmt: skip
    call = load.Call("POST", "/v2/authz", headers, content, expect_json=expected)
    progress(f"{section}: warm checks, {label}")
    rounds = load.run(server, call, replace(LOAD, rounds=reps))
    figures.append(Figure.from_rounds(section, f"warm checks, {label}", rounds))
    # The probe's questions over and over, to the bulk size: every one permitted.
    many = [dict(probe.questions[i % len(probe.questions)], requestId=f"r{i}") for i in range(BULK)]
    content = json.dumps(many).encode()
    expected = _check(http.post("/v2/authz", content=content, headers=headers), BULK)
    call = load.Call("POST", "/v2/authz", headers, content, expect_json=expected)
    progress(f"{section}: warm checks, {BULK} per request, {label}")
    rounds = load.run(server, call, replace(LOAD, rounds=reps, requests=LOAD.requests // 5))
    bulk = Figure.from_rounds(section, f"warm checks, {BULK} per request, {label}", rounds)
    bulk.note = f"{bulk.median * BULK:,.0f} decisions/s"
    figures.append(bulk)
    return figures


def _touch(
    section: str,
    server: load.Server,
    http: httpx.Client,
    probes: list[world.Probe],
    tokens: list[str],
    progress: Progress,
) -> Figure:
    """Check each account once (each is compiled at its first check); the RSS as it grows."""
    progress(f"{section}: touching {len(probes)} small accounts")
    seen: list[str] = []
    started = time.perf_counter()
    for n, (probe, token) in enumerate(zip(probes, tokens, strict=True), start=1):
        headers = {"Authorization": f"Bearer {token}"}
        _check(http.post("/v2/authz", json=probe.questions, headers=headers), len(probe.questions))
        if n in (1, 10, 25, len(probes)):
            seen.append(f"{n}: {rss_mb(server.pid):.0f} MB")
    seconds = time.perf_counter() - started
    policies = sum(p.policies for p in probes)
    return Figure(
        section,
        f"touch {len(probes)} small accounts ({policies:,} policies; one batch of 8 checks each)",
        [len(probes) / seconds],
        note="server RSS after accounts " + ", ".join(seen),
        per_op=False,
    )
