"""`strongroom iam api-key…`: the logged-in identity's own API keys."""

from __future__ import annotations

import json
import stat
import uuid
from pathlib import Path

import pytest

from strongroom.testing.server import LiveServer
from tests.cli.harness import Cli


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def test_api_key_round_trip(
    logged_in: Cli, server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = unique("cli-key")
    created = logged_in.json("iam", "api-key-create", name, "-d", "for a script")
    key_id = created["id"]
    assert key_id.startswith("ApiKey-")
    assert created["name"] == name
    assert created["description"] == "for a script"
    assert created["iam_id"] == server.iam_id
    assert created["account_id"] == server.account_id
    assert isinstance(created["apikey"], str)
    assert len(created["apikey"]) >= 20

    listed = [k for k in logged_in.json("iam", "api-keys") if k["id"] == key_id]
    assert len(listed) == 1
    assert listed[0]["name"] == name
    assert listed[0]["description"] == "for a script"
    assert listed[0]["iam_id"] == server.iam_id
    assert name in logged_in.ok("iam", "api-keys").stdout

    # The printed key is a working key for the same identity.
    monkeypatch.setenv("STRONGROOM_APIKEY", created["apikey"])
    monkeypatch.setenv("STRONGROOM_ENDPOINT", server.url)
    assert key_id in {k["id"] for k in logged_in.json("iam", "api-keys")}
    monkeypatch.delenv("STRONGROOM_APIKEY")

    deleted = logged_in.json("iam", "api-key-delete", name, "-f")
    assert deleted["id"] == key_id
    assert key_id not in {k["id"] for k in logged_in.json("iam", "api-keys")}
    missing = logged_in("iam", "api-key-delete", name, "-f")
    assert missing.exit_code == 1
    assert f"no API key named `{name}`" in missing.stderr


def test_the_key_is_printed_once_and_saved_private(
    logged_in: Cli, server: LiveServer, tmp_path: Path
) -> None:
    target = tmp_path / "key.json"
    result = logged_in.ok("iam", "api-key-create", unique("cli-file"), "--file", str(target))

    saved = json.loads(target.read_text())
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert saved["apikey"] in result.stdout
    assert saved["id"] in result.stdout
    assert "cannot be shown again" in result.stdout
    assert saved["iam_id"] == server.iam_id

    # What --file wrote is what `login --apikey @FILE` reads.
    logged_in.ok("logout")
    logged_in.ok("login", "--apikey", f"@{target}", "--endpoint", server.url)
    assert logged_in.session()["iam_id"] == server.iam_id

    deleted = logged_in.ok("iam", "api-key-delete", saved["id"], "-f")
    assert f"API key {saved['id']} deleted" in deleted.stdout


def test_deleting_an_unknown_id_reports_the_server(logged_in: Cli) -> None:
    ghost = f"ApiKey-{uuid.uuid4()}"

    result = logged_in("iam", "api-key-delete", ghost, "-f")

    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == "FAILED"
    assert ghost in result.stderr
    assert "not found" in result.stderr


def test_an_unwritable_file_does_not_lose_the_key(logged_in: Cli, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")

    result = logged_in(
        "iam", "api-key-create", unique("cli-lost"), "--output", "json",
        "--file", str(blocker / "key.json"),
    )  # fmt: skip

    assert result.exit_code == 1
    created = json.loads(result.stdout)
    assert created["apikey"]
    assert "the API key was created, but" in result.stderr
    logged_in.ok("iam", "api-key-delete", created["id"], "-f")
