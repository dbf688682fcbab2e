"""Key management: envelope encryption in process and over HTTP, and rotation at 10,000 versions.

- In process (SQLite, the services as bootstrap wires them, the owner's guard): wrap and unwrap
  of a 32-byte data key, next to the floor every wrap pays: one AES-256-GCM encryption of 32
  bytes with `cryptography` (plus opening the sealed version material: two more AES-GCM
  operations and the master key's).
- Rotation stays cheap (issue 6): a root key is rotated 10,000 times on a clock moved an hour
  between rotations; the time of a rotation, and of unwrapping a ciphertext made by the first
  version, are measured at the start and after the 10,000th version.
- Over HTTP (SQLite, and PostgreSQL when `STRONGROOM_BENCH_PG_URL`/`STRONGROOM_TEST_PG_URL` is
  set): `POST /api/v2/keys/{id}/actions/wrap` and `/unwrap` under the bounded load generator.
"""

from __future__ import annotations

import base64
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import SecretStr

from benchmarks import load
from benchmarks.report import Figure, rates
from strongroom import bootstrap
from strongroom.authz import Guard
from strongroom.config import Settings
from strongroom.testing import FrozenClock, InProcessClient
from strongroom.testing.postgres import scratch_database

Progress = Callable[[str], None]
IN_PROCESS = "kms: in process, one thread (SQLite)"
ROTATION = "kms: rotation of one root key to 10,000 versions (SQLite)"
PG_ENV = ("STRONGROOM_BENCH_PG_URL", "STRONGROOM_TEST_PG_URL")
KMS_PLAN = "eedd3585-90c6-4c8f-be3d-062069e99fc3"
KEY_TYPE = "application/vnd.ibm.kms.key+json"
VERSIONS = int(os.environ.get("STRONGROOM_BENCH_KMS_VERSIONS", "10000"))
LOAD = load.Load()


@contextmanager
def _tmp_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="strongroom-bench-") as tmp:
        yield Path(tmp)


def _token(call: Callable[..., httpx.Response], apikey: str) -> str:
    form = {"grant_type": "urn:ibm:params:oauth:grant-type:apikey", "apikey": apikey}
    found: str = call("POST", "/identity/token", data=form).json()["access_token"]
    return found


def _instance_and_key(call: Callable[..., httpx.Response], token: str) -> tuple[str, str]:
    """A kms instance (Resource Controller) and a root key in it, through the APIs."""
    auth = {"Authorization": f"Bearer {token}"}
    group = call("GET", "/v2/resource_groups", headers=auth).json()["resources"][0]["id"]
    made = call(
        "POST",
        "/v2/resource_instances",
        headers=auth,
        json={"name": "bench", "target": "us-south", "resource_group": group,
              "resource_plan_id": KMS_PLAN},
    )  # fmt: skip
    instance = made.json()["guid"]
    body = {
        "metadata": {"collectionType": KEY_TYPE, "collectionTotal": 1},
        "resources": [{"type": KEY_TYPE, "name": "bench-root", "extractable": False}],
    }
    key = call(
        "POST", "/api/v2/keys", headers={**auth, "Bluemix-Instance": instance}, json=body
    ).json()["resources"][0]["id"]
    return instance, key


def run(reps: int, progress: Progress) -> list[Figure]:
    figures = _in_process(reps, progress)
    backends: list[tuple[str, str | None]] = [("SQLite", None)]
    pg = next((os.environ[name] for name in PG_ENV if os.environ.get(name)), None)
    if pg:
        backends.append(("PostgreSQL", pg))
    else:
        progress(f"PostgreSQL leg skipped: set {PG_ENV[0]} (or {PG_ENV[1]})")
    for backend, admin_url in backends:
        figures += _over_http(backend, admin_url, reps, progress)
    return figures


def _in_process(reps: int, progress: Progress) -> list[Figure]:
    clock = FrozenClock(datetime.now(UTC))
    with _tmp_dir() as tmp:
        apikey = load.new_apikey()
        settings = Settings(data_dir=tmp, database_url=None, bootstrap_apikey=SecretStr(apikey))
        runtime = bootstrap.build(settings, kms_clock=clock)
        try:
            client = InProcessClient(runtime.app)
            token = _token(client.request, apikey)
            instance, key = _instance_and_key(client.request, token)
            c = runtime.container
            principal = c.tokens.verify(token)

            def guard(action: str) -> Guard:
                return Guard(principal, action, c.authorizer)

            wrap_guard, unwrap_guard = guard("kms.secrets.wrap"), guard("kms.secrets.unwrap")
            rotate_guard = guard("kms.secrets.rotate")
            dek = base64.b64encode(os.urandom(32)).decode()
            made = c.kms_wrap.wrap(wrap_guard, instance, key, {"plaintext": dek})
            first_ciphertext = made.ciphertext

            def wrap() -> object:
                return c.kms_wrap.wrap(wrap_guard, instance, key, {"plaintext": dek})

            def unwrap() -> object:
                return c.kms_wrap.unwrap(
                    unwrap_guard, instance, key, {"ciphertext": first_ciphertext}, True
                )

            aead, nonce, data = AESGCM(os.urandom(32)), os.urandom(12), os.urandom(32)
            progress(f"{IN_PROCESS}: wrap, unwrap, AES-GCM floor")
            floor = Figure(
                IN_PROCESS, "AES-256-GCM encrypt 32 bytes (cryptography, floor)",
                rates(lambda: aead.encrypt(nonce, data, None), reps),
            )  # fmt: skip
            wrapped = Figure(IN_PROCESS, "WrapService.wrap (32-byte key)", rates(wrap, reps))
            unwrapped = Figure(IN_PROCESS, "WrapService.unwrap", rates(unwrap, reps))
            for fig in (wrapped, unwrapped):
                fig.note = f"{fig.us() / floor.us():.0f}x the AES-GCM floor"
            figures = [floor, wrapped, unwrapped]

            progress(f"{ROTATION}: {VERSIONS:,} rotations")

            def rotate() -> float:
                clock.advance(3601)
                t0 = time.perf_counter()
                c.kms_wrap.rotate(rotate_guard, instance, key, {})
                return time.perf_counter() - t0

            early = [rotate() for _ in range(100)]
            unwrap_early = _timed(unwrap, 200)
            middle = [rotate() for _ in range(VERSIONS - 200)]
            late = [rotate() for _ in range(100)]
            unwrap_late = _timed(unwrap, 200)
            del middle
            versions = c.kms_keys.versions(
                guard("kms.secrets.listkeyversions"), instance, key, 0, 1
            )
            total = versions[1]
            for name, early_s, late_s in (
                ("rotate", early, late),
                ("unwrap a version-1 ciphertext (rewrapped)", unwrap_early, unwrap_late),
            ):
                e, lt = statistics.median(early_s), statistics.median(late_s)
                fig = Figure(ROTATION, f"{name} @ {total:,} versions", [1 / lt])
                fig.note = (
                    f"median of {len(late_s)}; {e * 1e3:.2f} ms at the first versions, "
                    f"{lt * 1e3:.2f} ms at {total:,} ({lt / e:.2f}x)"
                )
                figures.append(fig)
            return figures
        finally:
            runtime.close()


def _timed(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def _over_http(backend: str, admin_url: str | None, reps: int, progress: Progress) -> list[Figure]:
    section = f"kms: HTTP, {backend}, {LOAD.processes} clients"
    apikey = load.new_apikey()
    figures = []
    with ExitStack() as stack:
        tmp = stack.enter_context(_tmp_dir())
        database_url = stack.enter_context(scratch_database(admin_url)) if admin_url else None
        server = stack.enter_context(load.serve(tmp, apikey, database_url))
        with httpx.Client(base_url=server.url, timeout=30) as http:
            token = _token(http.request, apikey)
            instance, key = _instance_and_key(http.request, token)
            headers = {"Authorization": f"Bearer {token}", "Bluemix-Instance": instance}
            dek = base64.b64encode(os.urandom(32)).decode()
            made = http.post(
                f"/api/v2/keys/{key}/actions/wrap", headers=headers, json={"plaintext": dek}
            ).json()
        wrap = load.Call(
            "POST", f"/api/v2/keys/{key}/actions/wrap", headers,
            json.dumps({"plaintext": dek}).encode(), expect_key="ciphertext",
        )  # fmt: skip
        unwrap = load.Call(
            "POST", f"/api/v2/keys/{key}/actions/unwrap", headers,
            json.dumps({"ciphertext": made["ciphertext"]}).encode(), expect_key="plaintext",
        )  # fmt: skip
        for call in (wrap, unwrap):
            progress(f"{section}: {call.method} {call.path}")
            rounds = load.run(server, call, replace(LOAD, rounds=reps))
            name = f"POST /api/v2/keys/{{id}}/actions/{call.path.rsplit('/', 1)[1]}"
            figures.append(Figure.from_rounds(section, name, rounds))
    return figures
