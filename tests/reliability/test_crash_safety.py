"""Durability after a process crash (reliability.md S1).

Writers run loops through the real API against a `strongroom serve` subprocess: service IDs
created with their API key in one request, policies created, updated (If-Match) and deleted,
Key Protect keys created and rotated, access groups and their members. A write is logged only
after its 2xx arrives. At a random moment the server gets SIGKILL; then

* SQLite: `PRAGMA integrity_check` answers `ok` on the file as the crash left it;
* no half-applied transaction is in the database (a service ID without the API key it was
  created with, a key whose current version row is missing, a policy without its parts, a
  member row of a missing group);
* the server restarts on the same database and serves every acknowledged write: objects whose
  creation was acknowledged are there, acknowledged deletions are gone, each policy carries its
  last acknowledged revision, each key at least its acknowledged versions, each group its
  acknowledged members. Only the one request in flight per writer at the kill may go either way.

Default: 10 cycles per backend. STRONGROOM_HEAVY=1: 200 cycles per backend.
"""

from __future__ import annotations

import os
import random
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from strongroom.store.sql import tables as t
from strongroom.store.sql.engine import normalise_url
from tests.conftest import SERVER_BACKENDS, database_url_for
from tests.reliability import HEAVY
from tests.reliability.server_process import kill9, spawn

CYCLES = int(os.environ.get("STRONGROOM_CRASH_CYCLES", "200" if HEAVY else "10"))
WRITERS = 3
KMS_PLAN = "eedd3585-90c6-4c8f-be3d-062069e99fc3"
APIKEY_GRANT = "urn:ibm:params:oauth:grant-type:apikey"
VIEWER = "crn:v1:bluemix:public:iam::::role:Viewer"
KEY_TYPE = "application/vnd.ibm.kms.key+json"
LIVE_CAP = 4  # objects of a kind a writer keeps before it deletes or updates instead


# -- what the writers were told ---------------------------------------------------------------


@dataclass
class Ledger:
    """One writer's acknowledged state: changed only after a 2xx. `pending` is the request in
    flight, the one write whose outcome a kill may leave either way."""

    service_ids: dict[str, str] = field(default_factory=dict)  # live: id -> its API key id
    deleted_service_ids: dict[str, str] = field(default_factory=dict)
    policies: dict[str, int] = field(default_factory=dict)  # live: id -> acked revision
    deleted_policies: set[str] = field(default_factory=set)
    keys: dict[str, int] = field(default_factory=dict)  # id -> acked number of versions
    rotated: dict[str, int] = field(default_factory=dict)  # verified rotated keys (checked last)
    groups: dict[str, set[str]] = field(default_factory=dict)  # id -> acked member iam_ids
    deleted_groups: set[str] = field(default_factory=set)
    pending: tuple[str, str, Any] | None = None  # (kind, object id, detail)
    acked: int = 0
    refused: list[str] = field(default_factory=list)  # answers other than the 2xx expected


@dataclass
class World:
    account: str
    instance: str  # the kms instance GUID
    apikey: str


def _token(client: httpx.Client, apikey: str) -> dict[str, str]:
    answer = client.post("/identity/token", data={"grant_type": APIKEY_GRANT, "apikey": apikey})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _policy(account: str, rev: int) -> dict[str, Any]:
    return {
        "type": "access",
        "description": f"rev-{rev}",
        "subjects": [
            {"attributes": [{"name": "iam_id", "value": f"IBMid-{uuid.uuid4().hex[:12].upper()}"}]}
        ],
        "roles": [{"role_id": VIEWER}],
        "resources": [
            {
                "attributes": [
                    {"name": "accountId", "value": account},
                    {"name": "serviceName", "value": "kms"},
                ]
            }
        ],
    }


def _ok(response: httpx.Response, *codes: int) -> httpx.Response:
    if response.status_code not in codes:
        raise AssertionError(
            f"{response.request.method} {response.request.url.path}: "
            f"{response.status_code} {response.text[:300]}"
        )
    return response


def write_once(client: httpx.Client, world: World, headers: dict[str, str], led: Ledger) -> None:
    """One random write; the ledger changes only once its 2xx has arrived."""
    kind = random.choice(("sid", "policy", "key", "group"))
    if kind == "sid":
        if len(led.service_ids) >= LIVE_CAP:
            sid = random.choice(list(led.service_ids))
            led.pending = ("sid-delete", sid, None)
            _ok(client.delete(f"/v1/serviceids/{sid}", headers=headers), 204)
            led.deleted_service_ids[sid] = led.service_ids.pop(sid)
        else:
            led.pending = ("sid-create", "", None)
            body = {"account_id": world.account, "name": f"crash-{uuid.uuid4().hex[:8]}",
                    "apikey": {"name": "crash-key"}}  # fmt: skip
            made = _ok(client.post("/v1/serviceids/", json=body, headers=headers), 201).json()
            led.service_ids[made["id"]] = made["apikey"]["id"]
    elif kind == "policy":
        if len(led.policies) < LIVE_CAP:
            led.pending = ("policy-create", "", None)
            made = client.post("/v1/policies", json=_policy(world.account, 0), headers=headers)
            led.policies[_ok(made, 201).json()["id"]] = 0
        elif random.random() < 0.25:
            pid = random.choice(list(led.policies))
            led.pending = ("policy-delete", pid, None)
            _ok(client.delete(f"/v1/policies/{pid}", headers=headers), 204)
            del led.policies[pid]
            led.deleted_policies.add(pid)
        else:
            pid = random.choice(list(led.policies))
            current = _ok(client.get(f"/v1/policies/{pid}", headers=headers), 200)
            body = {k: current.json()[k] for k in ("type", "subjects", "roles", "resources")}
            rev = led.policies[pid] + 1
            led.pending = ("policy-update", pid, rev)
            changed = client.put(
                f"/v1/policies/{pid}",
                json={**body, "description": f"rev-{rev}"},
                headers={**headers, "If-Match": current.headers["ETag"]},
            )
            _ok(changed, 200)
            led.policies[pid] = rev
    elif kind == "key":
        kms = {**headers, "Bluemix-Instance": world.instance}
        # Key Protect rotates a key at most once an hour (kms/lifecycle.py): rotate a key that
        # has one version, else make a new one.
        fresh = [k for k, versions in led.keys.items() if versions == 1]
        if not fresh or random.random() < 0.5:
            led.pending = ("key-create", "", None)
            body = {
                "metadata": {"collectionType": KEY_TYPE, "collectionTotal": 1},
                "resources": [{"type": KEY_TYPE, "name": f"crash-{uuid.uuid4().hex[:8]}"}],
            }
            made = _ok(client.post("/api/v2/keys", json=body, headers=kms), 201)
            led.keys[made.json()["resources"][0]["id"]] = 1
        else:
            kid = random.choice(fresh)
            led.pending = ("key-rotate", kid, led.keys[kid] + 1)
            _ok(client.post(f"/api/v2/keys/{kid}/actions/rotate", headers=kms), 204)
            led.keys[kid] += 1
    else:
        live = [g for g in led.groups if g not in led.deleted_groups]
        if len(live) < 2:
            led.pending = ("group-create", "", None)
            made = client.post(
                "/v2/groups",
                params={"account_id": world.account},
                json={"name": f"crash {uuid.uuid4().hex[:8]}"},
                headers=headers,
            )
            led.groups[_ok(made, 201).json()["id"]] = set()
        elif random.random() < 0.15:
            gid = random.choice(live)
            led.pending = ("group-delete", gid, None)
            gone = client.delete(f"/v2/groups/{gid}", params={"force": "true"}, headers=headers)
            _ok(gone, 204)
            led.deleted_groups.add(gid)
        else:
            gid = random.choice(live)
            member = f"IBMid-{uuid.uuid4().hex[:12].upper()}"
            led.pending = ("member-add", gid, member)
            body = {"members": [{"iam_id": member, "type": "user"}]}
            _ok(client.put(f"/v2/groups/{gid}/members", json=body, headers=headers), 207)
            led.groups[gid].add(member)
    led.pending = None
    led.acked += 1


def write_until_killed(url: str, world: World, led: Ledger, stop: threading.Event) -> None:
    with httpx.Client(base_url=url, timeout=30) as client:
        try:
            headers = _token(client, world.apikey)
            while not stop.is_set():
                write_once(client, world, headers, led)
        except (httpx.TransportError, httpx.RemoteProtocolError):
            return  # the server died under us: the request in flight stays `pending`
        except AssertionError as exc:
            led.refused.append(str(exc))


# -- checks -----------------------------------------------------------------------------------


def integrity(db_file: Path) -> str:
    """`PRAGMA integrity_check` on the file as the crash left it (WAL recovered by sqlite)."""
    conn = sqlite3.connect(db_file)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


def half_applied(engine: sa.Engine) -> list[str]:
    """Rows that only a torn transaction could leave."""
    problems: list[str] = []
    with engine.connect() as conn:
        sids = conn.execute(
            sa.select(t.service_ids.c.id, t.service_ids.c.iam_id).where(
                t.service_ids.c.name.like("crash-%")
            )
        ).all()
        owners = set(
            conn.execute(
                sa.select(t.api_keys.c.iam_id).where(t.api_keys.c.name == "crash-key")
            ).scalars()
        )
        problems += [
            f"service ID {s.id} without its API key" for s in sids if s.iam_id not in owners
        ]
        live_iams = {s.iam_id for s in sids}
        problems += [f"API key of a deleted service ID {i}" for i in owners - live_iams]
        newest = (
            sa.select(t.kms_key_versions.c.key_id, sa.func.max(t.kms_key_versions.c.seq).label("s"))
            .group_by(t.kms_key_versions.c.key_id)
            .subquery()
        )
        rows = conn.execute(
            sa.select(t.kms_keys.c.id, t.kms_keys.c.version_id, t.kms_key_versions.c.id)
            .select_from(t.kms_keys)
            .outerjoin(newest, newest.c.key_id == t.kms_keys.c.id)
            .outerjoin(
                t.kms_key_versions,
                sa.and_(
                    t.kms_key_versions.c.key_id == t.kms_keys.c.id,
                    t.kms_key_versions.c.seq == newest.c.s,
                ),
            )
        ).all()
        problems += [
            f"key {key} names version {named}, newest stored is {stored}"
            for key, named, stored in rows
            if named != stored
        ]
        for pid, document, subject in conn.execute(
            sa.select(t.policies.c.id, t.policies.c.document, t.policies.c.subject_iam_id)
        ):
            ours = str(document.get("description", "")).startswith("rev-")
            if ours and not (document.get("roles") and document.get("resources") and subject):
                problems.append(f"policy {pid} lacks its roles, resources or subject")
        groups = set(conn.execute(sa.select(t.access_groups.c.id)).scalars())
        members = set(conn.execute(sa.select(t.access_group_members.c.group_id)).scalars())
        problems += [f"members of a missing group {g}" for g in members - groups]
    return problems


def _policy_gone(got: httpx.Response) -> bool:
    """A deleted policy reads as `state: deleted` until purged (PATCH can restore it, spec §6.1)."""
    return got.status_code == 404 or (got.status_code == 200 and got.json()["state"] == "deleted")


def verify_rotated(client: httpx.Client, world: World, led: Ledger) -> list[str]:
    """The rotated keys still hold their versions (checked once, at the end of a run)."""
    kms = {**_token(client, world.apikey), "Bluemix-Instance": world.instance}
    lost = []
    for kid, count in led.rotated.items():
        got = client.get(f"/api/v2/keys/{kid}/versions?totalCount=true", headers=kms)
        if got.status_code != 200 or int(got.json()["metadata"]["totalCount"]) != count:
            lost.append(f"rotated key {kid} lost versions: {got.status_code} {got.text[:200]}")
    return lost


def verify(client: httpx.Client, world: World, led: Ledger) -> list[str]:
    """Every acknowledged write, read back through the restarted server; then the ledger takes
    the outcome of the request that was in flight."""
    headers = _token(client, world.apikey)
    kms = {**headers, "Bluemix-Instance": world.instance}
    pending = led.pending or ("", "", None)
    lost: list[str] = []
    for sid, key in list(led.service_ids.items()):
        got = client.get(f"/v1/serviceids/{sid}", headers=headers).status_code
        if pending[:2] == ("sid-delete", sid) and got == 404:
            led.deleted_service_ids[sid] = led.service_ids.pop(sid)
            continue
        if got != 200 or client.get(f"/v1/apikeys/{key}", headers=headers).status_code != 200:
            lost.append(f"acknowledged service ID {sid} or its key {key} is missing")
    for sid, key in led.deleted_service_ids.items():
        if client.get(f"/v1/serviceids/{sid}", headers=headers).status_code != 404:
            lost.append(f"acknowledged deletion of service ID {sid} undone")
        if client.get(f"/v1/apikeys/{key}", headers=headers).status_code != 404:
            lost.append(f"API key {key} of deleted service ID {sid} still there")
    for pid, rev in list(led.policies.items()):
        got = client.get(f"/v1/policies/{pid}", headers=headers)
        if pending[:2] == ("policy-delete", pid) and _policy_gone(got):
            del led.policies[pid]
            led.deleted_policies.add(pid)
            continue
        if got.status_code != 200 or got.json().get("state") != "active":
            lost.append(f"acknowledged policy {pid} is missing ({got.status_code})")
            continue
        stored = int(got.json().get("description", "rev-x").removeprefix("rev-"))
        allowed = {rev, pending[2]} if pending[:2] == ("policy-update", pid) else {rev}
        if stored not in allowed:
            lost.append(f"policy {pid} is at rev {stored}, acknowledged rev {rev}")
        led.policies[pid] = stored
    for pid in led.deleted_policies:
        if not _policy_gone(client.get(f"/v1/policies/{pid}", headers=headers)):
            lost.append(f"acknowledged deletion of policy {pid} undone")
    for kid, count in list(led.keys.items()):
        got = client.get(f"/api/v2/keys/{kid}/versions?totalCount=true", headers=kms)
        if got.status_code != 200:
            lost.append(f"acknowledged key {kid} is missing ({got.status_code})")
            continue
        stored = int(got.json()["metadata"]["totalCount"])
        allowed = {count, pending[2]} if pending[:2] == ("key-rotate", kid) else {count}
        if stored not in allowed:
            lost.append(f"key {kid} has {stored} versions, acknowledged {count}")
        led.keys[kid] = stored
        if stored > 1:  # rotated: it will not change again (one rotation an hour)
            led.rotated[kid] = led.keys.pop(kid)
    for gid, members in list(led.groups.items()):
        got = client.get(f"/v2/groups/{gid}/members", params={"limit": 100}, headers=headers)
        if gid in led.deleted_groups:
            if got.status_code != 404:
                lost.append(f"acknowledged deletion of group {gid} undone")
            continue
        if pending[:2] == ("group-delete", gid) and got.status_code == 404:
            led.deleted_groups.add(gid)
            continue
        if got.status_code != 200:
            lost.append(f"acknowledged group {gid} is missing ({got.status_code})")
            continue
        stored = {m["iam_id"] for m in got.json()["members"]}
        if not members <= stored:
            lost.append(f"group {gid} lost acknowledged members {members - stored}")
        extra = stored - members
        if extra and not (pending[:2] == ("member-add", gid) and extra == {pending[2]}):
            lost.append(f"group {gid} has members nobody added: {extra}")
        led.groups[gid] = stored
    led.pending = None
    return lost


def setup_world(url: str, apikey: str) -> World:
    with httpx.Client(base_url=url, timeout=30) as client:
        headers = _token(client, apikey)
        details = _ok(
            client.get("/v1/apikeys/details", headers={**headers, "IAM-ApiKey": apikey}), 200
        )
        account = details.json()["account_id"]
        group = _ok(
            client.post("/v2/resource_groups", json={"name": "crash"}, headers=headers), 201
        )
        body = {"name": "crash-kp", "target": "us-south", "resource_group": group.json()["id"],
                "resource_plan_id": KMS_PLAN}  # fmt: skip
        made = _ok(client.post("/v2/resource_instances", json=body, headers=headers), 201)
        return World(account, made.json()["guid"], apikey)


@dataclass
class Figures:
    cycles: int = 0
    acked: int = 0
    lost: list[str] = field(default_factory=list)
    torn: list[str] = field(default_factory=list)
    integrity_failures: list[str] = field(default_factory=list)
    ready_s: list[float] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def run_cycles(
    data_dir: Path, database_url: str | None, cycles: int, *, progress: bool = False
) -> Figures:
    apikey = "crash-" + uuid.uuid4().hex * 2
    figures = Figures()
    served = spawn(data_dir, database_url, apikey)
    world = setup_world(served.url, apikey)
    ledgers = [Ledger() for _ in range(WRITERS)]
    engine = sa.create_engine(
        normalise_url(database_url or f"sqlite:///{data_dir / 'strongroom.db'}")
    )
    reported = reported_torn = 0
    try:
        for _ in range(cycles):
            stop = threading.Event()
            writers = [
                threading.Thread(target=write_until_killed, args=(served.url, world, led, stop))
                for led in ledgers
            ]
            for writer in writers:
                writer.start()
            # Kill at a random moment once the writers are under way (a loaded runner may take
            # seconds to answer the first request), so every cycle kills writes in flight.
            before, deadline = sum(led.acked for led in ledgers), time.monotonic() + 30
            while sum(led.acked for led in ledgers) < before + WRITERS:
                if time.monotonic() > deadline or not any(w.is_alive() for w in writers):
                    break
                time.sleep(0.01)
            time.sleep(random.uniform(0.0, 0.5))
            kill9(served)
            stop.set()
            for writer in writers:
                writer.join(timeout=60)
            figures.cycles += 1
            if database_url is None:
                verdict = integrity(data_dir / "strongroom.db")
                if verdict != "ok":
                    figures.integrity_failures.append(verdict)
            figures.torn += half_applied(engine)
            engine.dispose()
            served = spawn(data_dir, database_url, apikey)
            figures.ready_s.append(served.ready_s)
            with httpx.Client(base_url=served.url, timeout=30) as client:
                for led in ledgers:
                    figures.lost += verify(client, world, led)
            if progress:  # a heavy run reports as it goes
                for finding in figures.lost[reported:] + figures.torn[reported_torn:]:
                    print(f"S1 finding: {finding}", flush=True)
                reported, reported_torn = len(figures.lost), len(figures.torn)
                for finding in (r for x in ledgers for r in x.refused):
                    print(f"S1 refused so far: {finding}", flush=True)
                print(
                    f"S1 cycle {figures.cycles}: acked {sum(x.acked for x in ledgers)}, "
                    f"lost {len(figures.lost)}, torn {len(figures.torn)}, integrity failures "
                    f"{len(figures.integrity_failures)}, "
                    f"refused {sum(len(x.refused) for x in ledgers)}, "
                    f"ready {served.ready_s:.2f} s",
                    flush=True,
                )
        with httpx.Client(base_url=served.url, timeout=30) as client:
            for led in ledgers:
                figures.lost += verify_rotated(client, world, led)
    finally:
        kill9(served)
        engine.dispose()
    figures.acked = sum(led.acked for led in ledgers)
    figures.refused = [r for led in ledgers for r in led.refused]
    return figures


@contextmanager
def _backend(backend: str, tmp_path: Path) -> Iterator[str | None]:
    with ExitStack() as stack:
        yield database_url_for(backend, stack, str(tmp_path))


@pytest.mark.parametrize("backend", SERVER_BACKENDS)
def test_acknowledged_writes_survive_kill_9(backend: str, tmp_path: Path) -> None:
    with _backend(backend, tmp_path) as url:
        figures = run_cycles(tmp_path, url, CYCLES, progress=HEAVY)
    ready = sorted(figures.ready_s)
    p95 = ready[int(0.95 * (len(ready) - 1))]
    print(
        f"\nS1 {backend}: {figures.cycles} kill cycles, {figures.acked} acknowledged writes, "
        f"{len(figures.lost)} lost, {len(figures.torn)} torn, "
        f"integrity failures {len(figures.integrity_failures)}, restart-to-ready p95 {p95:.2f} s"
    )
    assert figures.cycles == CYCLES
    assert figures.refused == []
    assert figures.acked > CYCLES  # the writers really wrote between kills
    assert figures.integrity_failures == []
    assert figures.torn == []
    assert figures.lost == []
