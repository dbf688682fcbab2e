"""Two nodes, one PostgreSQL database (docs/deployment.md): how fast a revoke made through node A
reaches node B.

Two `strongroom serve` processes share a scratch database, the root key and the public URL. Each
round grants a service ID Viewer through A, waits until B permits it, deletes the policy through A
and, from A's acknowledgement (the 204 received), asks B through `POST /v2/authz`:
- cached mode (LISTEN/NOTIFY, 1 s bound): asks until B refuses; the figure is the propagation
  time, from the acknowledgement to the receipt of B's first refusal (so it includes one round
  trip to B);
- strong mode: asks once; any permit is stale, and counts as a failure (the figure must show 0).
Needs `STRONGROOM_BENCH_PG_URL` or `STRONGROOM_TEST_PG_URL`; skipped without.
"""

from __future__ import annotations

import base64
import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx

from benchmarks import load
from benchmarks.report import Figure
from strongroom.testing.postgres import scratch_database

PG_ENV = ("STRONGROOM_BENCH_PG_URL", "STRONGROOM_TEST_PG_URL")
ROUNDS = int(os.environ.get("STRONGROOM_BENCH_NODES_ROUNDS", "100"))  # per repetition
SECTION = "nodes: a revoke on node A seen by node B, PostgreSQL"
PUBLIC_URL = "http://strongroom.bench"  # both nodes behind one (notional) load balancer
VIEWER = "crn:v1:bluemix:public:iam::::role:Viewer"
BOUND = 5.0  # seconds: a round waiting longer than this is a failure, not a figure


class _Node:
    def __init__(self, url: str, apikey: str, stack: ExitStack) -> None:
        self.http = stack.enter_context(httpx.Client(base_url=url, timeout=10))
        grant = {"grant_type": "urn:ibm:params:oauth:grant-type:apikey", "apikey": apikey}
        token = self.http.post("/identity/token", data=grant).json()["access_token"]
        self.headers = {"Authorization": f"Bearer {token}"}
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        self.account = str(claims["account"]["bss"])

    def permitted(self, iam_id: str) -> bool:
        body = [
            {
                "subject": {"attributes": {"id": iam_id}},
                "action": "iam-identity.serviceid.list",
                "resource": {
                    "attributes": {"accountId": self.account, "serviceName": "iam-identity"}
                },
            }
        ]
        answer = self.http.post("/v2/authz", json=body, headers=self.headers)
        answer.raise_for_status()
        return bool(answer.json()["responses"][0]["authorizationDecision"]["permitted"])

    def call(self, method: str, path: str, status: int, body: Any = None) -> Any:
        answer = self.http.request(method, path, json=body, headers=self.headers)
        if answer.status_code != status:
            raise RuntimeError(f"{method} {path}: HTTP {answer.status_code}: {answer.text[:200]}")
        return answer.json() if answer.content else None


def _policy(account: str, iam_id: str) -> dict[str, Any]:
    def eq(key: str, value: str) -> dict[str, str]:
        return {"key": key, "operator": "stringEquals", "value": value}

    return {
        "type": "access",
        "subject": {"attributes": [eq("iam_id", iam_id)]},
        "resource": {"attributes": [eq("accountId", account), eq("serviceName", "iam-identity")]},
        "control": {"grant": {"roles": [{"role_id": VIEWER}]}},
    }


def _until(node: _Node, iam_id: str, expected: bool) -> float:
    started = time.perf_counter()
    while node.permitted(iam_id) != expected:
        if time.perf_counter() - started > BOUND:
            raise RuntimeError(f"node B still answered {not expected} after {BOUND:.0f} s")
    return time.perf_counter() - started


def _rounds(a: _Node, b: _Node, subject: str, strong: bool) -> tuple[list[float], int, float]:
    """(propagation seconds per round, stale permits, seconds taken)."""
    delays: list[float] = []
    stale = 0
    began = time.perf_counter()
    for _ in range(ROUNDS):
        policy = a.call("POST", "/v2/policies", 201, _policy(a.account, subject))["id"]
        _until(b, subject, True)
        a.call("DELETE", f"/v2/policies/{policy}", 204)
        if strong:
            stale += b.permitted(subject)
        else:
            delays.append(_until(b, subject, False))
    return delays, stale, time.perf_counter() - began


def _mode(admin_url: str, mode: str, reps: int, log: Callable[[str], None]) -> Figure:
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="strongroom-bench-")))
        url = stack.enter_context(scratch_database(admin_url))
        apikey = load.new_apikey()
        common = {"STRONGROOM_CONSISTENCY": mode, "STRONGROOM_PUBLIC_URL": PUBLIC_URL}
        (tmp / "a").mkdir()
        (tmp / "b").mkdir()
        first = stack.enter_context(load.serve(tmp / "a", apikey, url, env=common))
        joined = common | {
            "STRONGROOM_ROOT_KEY_FILE": str(tmp / "a" / "root.key"),
            "STRONGROOM_KMS_SWEEP_SECONDS": "0",  # one node sweeps
        }
        second = stack.enter_context(load.serve(tmp / "b", apikey, url, env=joined))
        a, b = _Node(first.url, apikey, stack), _Node(second.url, apikey, stack)
        made = {"account_id": a.account, "name": f"bench-{uuid.uuid4().hex[:6]}"}
        subject = a.call("POST", "/v1/serviceids/", 201, made)["iam_id"]
        p50: list[float] = []
        p99: list[float] = []
        rates: list[float] = []
        stale = 0
        for rep in range(reps):
            log(f"nodes: {mode} mode, repetition {rep + 1} of {reps} ({ROUNDS} rounds)")
            delays, stale_now, seconds = _rounds(a, b, subject, mode == "strong")
            stale += stale_now
            rates.append(ROUNDS / seconds)
            if delays:
                delays.sort()
                p50.append(statistics.median(delays) * 1000)
                p99.append(delays[max(0, -(-len(delays) * 99 // 100) - 1)] * 1000)
    if mode == "strong":
        return Figure(
            SECTION,
            "strong: stale permits right after the revoke",
            rates,
            failures=stale,
            first_error=f"{stale} stale permits" if stale else None,
            note=f"{stale} stale permits in {reps * ROUNDS} revoke/check rounds (must be 0)",
            per_op=False,
        )
    return Figure(
        SECTION,
        "cached: revoke acknowledged on A -> B refuses",
        rates,
        p50_ms=p50,
        p99_ms=p99,
        note=f"{reps * ROUNDS} rounds; bound 1 s (STRONGROOM_MAX_STALENESS); per second: rounds",
        per_op=False,
    )


def run(reps: int, log: Callable[[str], None]) -> list[Figure]:
    admin_url = next((os.environ[name] for name in PG_ENV if os.environ.get(name)), None)
    if admin_url is None:
        log(f"nodes: skipped, set {PG_ENV[0]} (or {PG_ENV[1]}) to a PostgreSQL server")
        return []
    return [_mode(admin_url, mode, reps, log) for mode in ("cached", "strong")]
