"""`strongroom serve` as a user runs it: a real process, first-start output, restarts."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest
from ibm_cloud_sdk_core.authenticators import IAMAuthenticator
from ibm_platform_services import IamIdentityV1

from tests.conftest import PG_SKIP, PG_URL

STRONGROOM = [sys.executable, "-m", "strongroom"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(
    args: list[str], env: dict[str, str] | None = None
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = free_port()
    process = subprocess.Popen(
        [*STRONGROOM, "serve", "--port", str(port), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **(env or {})},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60  # a loaded 2-core machine took 17 s with --workers 2
        while True:
            if process.poll() is not None:
                raise AssertionError(f"server exited: {output_of(process)}")
            try:
                if httpx.get(f"{url}/healthz", timeout=0.5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server did not answer /healthz"
            time.sleep(0.05)
        yield url, process
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout:
            process.stdout.close()


def output_of(process: subprocess.Popen[str]) -> str:
    process.terminate()
    process.wait(timeout=10)
    return process.stdout.read() if process.stdout else ""


def env_lines(text: str) -> dict[str, str]:
    return dict(re.findall(r"^\s+([A-Z_]+)=(\S+)$", text, re.MULTILINE))


def test_first_start_prints_the_owner_key_once_and_the_sdk_lines_work(tmp_path: Path) -> None:
    with serving(["--data-dir", str(tmp_path)]) as (url, process):
        lines = env_lines(output_of(process))
    assert lines["IAM_IDENTITY_URL"] == lines["IAM_IDENTITY_AUTH_URL"] == url
    assert lines["IAM_IDENTITY_AUTH_TYPE"] == "iam"
    assert len(lines["IAM_IDENTITY_APIKEY"]) >= 43
    assert (tmp_path / "root.key").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "strongroom.db").exists()

    # Restart on the same data: the account is there, the key still works, nothing is reprinted.
    with serving(["--data-dir", str(tmp_path)]) as (url, process):
        client = IamIdentityV1(
            authenticator=IAMAuthenticator(lines["IAM_IDENTITY_APIKEY"], url=url)
        )
        client.set_service_url(url)
        details = client.get_api_keys_details(iam_api_key=lines["IAM_IDENTITY_APIKEY"]).get_result()
        assert details["account_id"] == lines["IAM_IDENTITY_ACCOUNT_ID"]
        assert details["iam_id"] == lines["IAM_IDENTITY_IAM_ID"]
        again = output_of(process)
    assert lines["IAM_IDENTITY_APIKEY"] not in again


def test_the_api_key_value_is_not_in_the_database_file(tmp_path: Path) -> None:
    key = "bootstrap-" + "q" * 40
    with serving(["--data-dir", str(tmp_path)], {"STRONGROOM_BOOTSTRAP_APIKEY": key}) as (url, _):
        token = httpx.post(
            f"{url}/identity/token",
            data={"grant_type": "urn:ibm:params:oauth:grant-type:apikey", "apikey": key},
        )
        assert token.status_code == 200
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("strongroom.db*"))
    assert stored, "the database files exist"
    assert key.encode() not in stored


def test_short_bootstrap_key_is_refused(tmp_path: Path) -> None:
    done = subprocess.run(
        [*STRONGROOM, "serve", "--data-dir", str(tmp_path), "--port", str(free_port())],
        env={**os.environ, "STRONGROOM_BOOTSTRAP_APIKEY": "too-short"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert "at least 32 characters" in done.stdout + done.stderr
    assert not (tmp_path / "strongroom.db").exists()


def test_a_foreign_root_key_is_refused(tmp_path: Path) -> None:
    with serving(["--data-dir", str(tmp_path)]):
        pass
    (tmp_path / "root.key").unlink()
    done = subprocess.run(
        [*STRONGROOM, "serve", "--data-dir", str(tmp_path), "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert "root key does not belong to this database" in done.stdout + done.stderr


@pytest.mark.postgres
def test_serve_on_postgresql(tmp_path: Path) -> None:
    if not PG_URL:
        pytest.skip(PG_SKIP)
    from strongroom.testing.postgres import scratch_database

    key = "pg-bootstrap-" + "z" * 40
    with ExitStack() as stack:
        database = stack.enter_context(scratch_database(PG_URL))
        url, process = stack.enter_context(
            serving(
                ["--data-dir", str(tmp_path), "--database-url", database],
                {"STRONGROOM_BOOTSTRAP_APIKEY": key},
            )
        )
        client = IamIdentityV1(authenticator=IAMAuthenticator(key, url=url))
        client.set_service_url(url)
        details = client.get_api_keys_details(iam_api_key=key).get_result()
        sid = client.create_service_id(account_id=details["account_id"], name="on-pg").get_result()
        assert client.get_service_id(id=sid["id"]).get_result()["name"] == "on-pg"
        assert "database: postgresql" in output_of(process)


def test_workers_share_one_first_start_and_serve(tmp_path: Path) -> None:
    """`--workers 2`: the owner's key is made and printed once (no two first starts race on the
    empty database), and over fresh connections, which the workers take as they come, the key
    mints tokens that verify wherever they land (the signing keys are in the database)."""
    with serving(["--data-dir", str(tmp_path), "--workers", "2"]) as (url, process):
        output = output_of_running(process, "STRONGROOM_APIKEY=")
        key = env_lines(output)["STRONGROOM_APIKEY"]
        form = {"grant_type": "urn:ibm:params:oauth:grant-type:apikey", "apikey": key}
        for _ in range(20):
            token = httpx.post(f"{url}/identity/token", data=form)
            assert token.status_code == 200, token.text
            bearer = {"Authorization": f"Bearer {token.json()['access_token']}", "IAM-ApiKey": key}
            details = httpx.get(f"{url}/v1/apikeys/details", headers=bearer)
            assert details.status_code == 200, details.text
        printed = output_of(process)
    assert (output + printed).count("created account") == 1
    assert (output + printed).count(f"STRONGROOM_APIKEY={key}") == 1


def output_of_running(process: subprocess.Popen[str], marker: str) -> str:
    """What the running server printed up to the line holding `marker`."""
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line)
        if marker in line:
            return "".join(lines)
    raise AssertionError("".join(lines))


def test_workers_need_a_shared_database(tmp_path: Path) -> None:
    done = subprocess.run(
        [*STRONGROOM, "serve", "--workers", "2", "--database-url", "sqlite://"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "--workers needs a database the processes share" in done.stdout
