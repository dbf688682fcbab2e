"""`POST /v2/authz` over HTTP against a live `strongroom serve`, beside its floor.

The world is made through the APIs, as a customer would (SQLite; PostgreSQL too when
`STRONGROOM_BENCH_PG_URL`/`STRONGROOM_TEST_PG_URL` is set): 200 users named by policies, 8
service IDs in 4 access groups, 340 policies (300 on users, 40 on groups, over 10 Key Protect
and 32 Object Storage instances), and the asker: a service ID holding Viewer on
iam-access-management, which grants `iam-access-management.authz.check` (routers/authz.py).

Then, under the bounded load generator (benchmarks/load.py, its raw-socket client; with
`STRONGROOM_BENCH_WORKERS=N`, `strongroom serve --workers N`): a single-decision request, a bulk
request of 100 decisions (users and group members, permitted and denied), and the floor
(benchmarks/floor.py): FastAPI + uvicorn with `strongroom serve`'s settings answering the
single-decision answer as constant bytes, and again the bulk answer to the bulk body, which
shows what reading and writing a request that size costs the HTTP stack alone. Every response
is checked: the first answer's decisions against what the world says, then every later answer
must equal that first one.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx

from benchmarks import floor, load
from benchmarks.report import Figure
from strongroom.policy.catalog import load_catalog
from strongroom.testing.postgres import scratch_database

Progress = Callable[[str], None]
PG_ENV = ("STRONGROOM_BENCH_PG_URL", "STRONGROOM_TEST_PG_URL")
# The raw-socket client: httpx costs the clients more CPU than a decision costs the server,
# and here they share the server's two cores (docs/benchmarks.md, "Authorization over HTTP").
LOAD = load.Load(processes=4, requests=1000, warmup=50, time_limit=30.0, client="raw")
BULK = 100
SEED = 7
# `strongroom serve --workers N` for the strongroom legs, and as many for the floor
WORKERS = int(os.environ.get("STRONGROOM_BENCH_WORKERS", "1"))
TARGET_RPS, TARGET_P99_MS, TARGET_BULK_DPS, TARGET_FLOOR = 3_000.0, 10.0, 50_000.0, 0.5

VIEWER = "crn:v1:bluemix:public:iam::::role:Viewer"
READER = "crn:v1:bluemix:public:iam::::serviceRole:Reader"
WRITER = "crn:v1:bluemix:public:iam::::serviceRole:Writer"
USERS, SERVICE_IDS, GROUPS = 200, 8, 4
KMS = [f"0b1e7c1a-0000-4000-8000-{i:012d}" for i in range(10)]
COS = [f"c05c05c0-0000-4000-8000-{i:012d}" for i in range(GROUPS * 8)]
ACTIONS = {
    "kms": ("kms.secrets.wrap", "kms.secrets.create"),
    "cloud-object-storage": ("cloud-object-storage.object.get", "cloud-object-storage.object.put"),
}
Grant = tuple[str, str, str]  # service, instance, role CRN


@dataclass
class World:
    account: str
    grants: dict[str, list[Grant]]  # subject iam_id -> grants, its groups' included
    members: list[str]  # service IDs' iam_ids (each in one group)


def _user(i: int) -> str:
    return f"IBMid-BENCH{i:06d}"


def _policy(account: str, subject: tuple[str, str], service: str, instance: str, role: str) -> Any:
    return {
        "type": "access",
        "subject": {"attributes": [
            {"key": subject[0], "operator": "stringEquals", "value": subject[1]}]},
        "resource": {"attributes": [
            {"key": "accountId", "operator": "stringEquals", "value": account},
            {"key": "serviceName", "operator": "stringEquals", "value": service},
            {"key": "serviceInstance", "operator": "stringEquals", "value": instance}]},
        "control": {"grant": {"roles": [{"role_id": role}]}},
    }  # fmt: skip


def _ok(response: httpx.Response) -> Any:
    if response.status_code >= 300:
        raise RuntimeError(f"{response.request.method} {response.request.url}: {response.text}")
    return response.json()


def build_world(http: httpx.Client, owner: dict[str, str], apikey: str) -> tuple[World, str]:
    """The world above through the APIs; returns it and the asker's access token."""
    me = _ok(http.get("/v1/apikeys/details", headers={**owner, "IAM-ApiKey": apikey}))
    account = me["account_id"]
    grants: dict[str, list[Grant]] = {}
    policies = []
    for i in range(USERS):
        mine = grants.setdefault(_user(i), [])
        mine.append(("kms", KMS[i % 10], READER))
        if i < 100:
            mine.append(("kms", KMS[(i + 3) % 10], WRITER))
    for iam_id, mine in grants.items():
        policies += [_policy(account, ("iam_id", iam_id), *g) for g in mine]
    groups: list[tuple[str, list[Grant]]] = []
    for g in range(GROUPS):
        made = _ok(http.post(f"/v2/groups?account_id={account}", json={"name": f"bench {g}"},
                             headers=owner))  # fmt: skip
        theirs = [("kms", KMS[(2 * g + j) % 10], WRITER) for j in range(2)]
        theirs += [("cloud-object-storage", COS[g * 8 + j], READER) for j in range(8)]
        policies += [_policy(account, ("access_group_id", made["id"]), *t) for t in theirs]
        groups.append((made["id"], theirs))
    members = []
    for k in range(SERVICE_IDS):
        sid = _ok(http.post("/v1/serviceids/", json={"account_id": account, "name": f"m{k}"},
                            headers=owner))  # fmt: skip
        group_id, theirs = groups[k % GROUPS]
        join = {"members": [{"iam_id": sid["iam_id"], "type": "service"}]}
        _ok(http.put(f"/v2/groups/{group_id}/members", json=join, headers=owner))
        grants[sid["iam_id"]] = list(theirs)
        members.append(sid["iam_id"])
    for body in policies:
        _ok(http.post("/v2/policies", json=body, headers=owner))
    asker = _ok(http.post(
        "/v1/serviceids/", json={"account_id": account, "name": "pdp", "apikey": {"name": "k"}},
        headers=owner,
    ))  # fmt: skip
    viewer = {
        "type": "access",
        "subject": {"attributes": [
            {"key": "iam_id", "operator": "stringEquals", "value": asker["iam_id"]}]},
        "resource": {"attributes": [
            {"key": "accountId", "operator": "stringEquals", "value": account},
            {"key": "serviceName", "operator": "stringEquals", "value": "iam-access-management"}]},
        "control": {"grant": {"roles": [{"role_id": VIEWER}]}},
    }  # fmt: skip
    _ok(http.post("/v2/policies", json=viewer, headers=owner))
    form = {"grant_type": "urn:ibm:params:oauth:grant-type:apikey",
            "apikey": asker["apikey"]["apikey"]}  # fmt: skip
    token: str = _ok(http.post("/identity/token", data=form))["access_token"]
    return World(account, grants, members), token


def questions(world: World, count: int, seed: int = SEED) -> list[dict[str, Any]]:
    """`count` requests: users and group members, on instances they hold a role on or not."""
    rnd = random.Random(seed)
    subjects = sorted(world.grants)
    out = []
    for n in range(count):
        subject = rnd.choice(subjects)
        held = world.grants[subject]
        if n % 2 == 0:  # aimed at a grant: mostly permitted
            service, instance, _ = rnd.choice(held)
        else:
            service = rnd.choice(sorted(ACTIONS))
            instance = rnd.choice(KMS if service == "kms" else COS)
        out.append({
            "requestId": f"r{n}",
            "subject": {"attributes": {"id": subject}},
            "action": rnd.choice(ACTIONS[service]),
            "resource": {"attributes": {"accountId": world.account, "serviceName": service,
                                        "serviceInstance": instance}},
        })  # fmt: skip
    return out


def expected(world: World, asked: list[dict[str, Any]]) -> list[bool]:
    """What the world says, from the role definitions of the shipped catalog."""
    catalog = load_catalog()
    out = []
    for q in asked:
        attrs = q["resource"]["attributes"]
        out.append(
            any(
                service == attrs["serviceName"]
                and instance == attrs["serviceInstance"]
                and q["action"] in catalog.actions_of(service, role)
                for service, instance, role in world.grants[q["subject"]["attributes"]["id"]]
            )
        )
    return out


def checked_call(
    http: httpx.Client, bearer: dict[str, str], world: World, asked: list[dict[str, Any]]
) -> tuple[load.Call, bytes]:
    """The Call for `asked`, once its first answer holds the decisions the world says."""
    content = json.dumps(asked).encode()
    headers = {**bearer, "Content-Type": "application/json"}
    first = http.post("/v2/authz", content=content, headers=headers)
    answer = _ok(first)
    got = [r["authorizationDecision"]["permitted"] for r in answer["responses"]]
    want = expected(world, asked)
    if got != want or any(r["status"] != "200" for r in answer["responses"]):
        raise RuntimeError(f"/v2/authz disagrees with the world: {got} against {want}")
    return load.Call("POST", "/v2/authz", headers, content, expect_json=answer), first.content


@contextmanager
def _tmp_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="strongroom-bench-") as tmp:
        yield Path(tmp)


def _pg_url() -> str | None:
    return next((os.environ[name] for name in PG_ENV if os.environ.get(name)), None)


def run(reps: int, progress: Progress) -> list[Figure]:
    backends: list[tuple[str, str | None]] = [("SQLite", None)]
    if pg := _pg_url():
        backends.append(("PostgreSQL", pg))
    else:
        progress(f"PostgreSQL leg skipped: set {PG_ENV[0]} (or {PG_ENV[1]})")
    figures: list[Figure] = []
    for i, (backend, admin_url) in enumerate(backends):
        figures += _over_http(backend, admin_url, reps, progress, with_floor=i == 0)
    return figures


def _over_http(
    backend: str, admin_url: str | None, reps: int, progress: Progress, *, with_floor: bool
) -> list[Figure]:
    workers = f", {WORKERS} workers" if WORKERS > 1 else ""
    section = f"authz: HTTP, {backend}, {LOAD.processes} clients{workers}"
    apikey = load.new_apikey()
    with ExitStack() as stack:
        tmp = stack.enter_context(_tmp_dir())
        database_url = stack.enter_context(scratch_database(admin_url)) if admin_url else None
        server = stack.enter_context(load.serve(tmp, apikey, database_url, workers=WORKERS))
        http = stack.enter_context(httpx.Client(base_url=server.url, timeout=30.0))
        form = {"grant_type": "urn:ibm:params:oauth:grant-type:apikey", "apikey": apikey}
        owner_token = _ok(http.post("/identity/token", data=form))["access_token"]
        owner = {"Authorization": f"Bearer {owner_token}"}
        progress(f"{section}: building the world through the APIs")
        world, token = build_world(http, owner, apikey)
        bearer = {"Authorization": f"Bearer {token}"}
        single, single_bytes = checked_call(http, bearer, world, questions(world, 1, SEED + 1))
        bulk, bulk_bytes = checked_call(http, bearer, world, questions(world, BULK))

        progress(f"{section}: POST /v2/authz, 1 decision")
        rounds = load.run(server, single, replace(LOAD, rounds=reps))
        fig1 = Figure.from_rounds(section, "POST /v2/authz, 1 decision", rounds)
        fig1.note = _targets(fig1)
        progress(f"{section}: POST /v2/authz, {BULK} decisions")
        bulk_load = replace(LOAD, rounds=reps, requests=LOAD.requests // 5)
        fig100 = Figure.from_rounds(
            section, f"POST /v2/authz, {BULK} decisions", load.run(server, bulk, bulk_load)
        )
        dps = fig100.median * BULK
        fig100.note = (
            f"{dps:,.0f} decisions/s (target ≥ {TARGET_BULK_DPS:,.0f}: "
            f"{'met' if dps >= TARGET_BULK_DPS else 'missed'})"
        )
        figures = [fig1, fig100]
    if with_floor:
        with _tmp_dir() as tmp, floor.serve(tmp, single_bytes, workers=WORKERS) as bottom:
            progress(f"{section}: the floor (constant answer, same stack)")
            rounds = load.run(bottom, single, replace(LOAD, rounds=reps))
            fig0 = Figure.from_rounds(section, "floor: POST /v2/authz, constant", rounds)
            ratio = fig1.median / fig0.median
            cpu = statistics.median(fig1.server_cpu_us) / statistics.median(fig0.server_cpu_us)
            fig0.note = (
                f"strongroom/floor {ratio:.2f} (target ≥ {TARGET_FLOOR}: "
                f"{'met' if ratio >= TARGET_FLOOR else 'missed'}); strongroom {cpu:.1f}x its CPU"
            )
            figures.append(fig0)
        with _tmp_dir() as tmp, floor.serve(tmp, bulk_bytes, workers=WORKERS) as bottom:
            progress(f"{section}: the floor of {BULK} decisions")
            rounds = load.run(bottom, bulk, bulk_load)
            fig00 = Figure.from_rounds(section, f"floor: POST /v2/authz, {BULK}, constant", rounds)
            cpu = statistics.median(fig100.server_cpu_us) / statistics.median(fig00.server_cpu_us)
            fig00.note = (
                f"strongroom/floor {fig100.median / fig00.median:.2f}; strongroom {cpu:.1f}x its"
                " CPU: the HTTP stack's own share of a request this size"
            )
            figures.append(fig00)
    return figures


def _targets(fig: Figure) -> str:
    p99 = statistics.median(fig.p99_ms)
    met = fig.median >= TARGET_RPS and p99 <= TARGET_P99_MS
    return (
        f"target ≥ {TARGET_RPS:,.0f}/s with p99 ≤ {TARGET_P99_MS:.0f} ms: "
        f"{'met' if met else 'missed'}"
    )
