"""`strongroom login` / `logout`, the session file, and the failures a user meets first."""

from __future__ import annotations

import json
import socket
import stat
import time
from pathlib import Path

import pytest

from strongroom.testing.server import LiveServer
from tests.cli.harness import Cli


def test_login_saves_a_private_session_without_the_key(cli: Cli, server: LiveServer) -> None:
    result = cli.ok("login", "--apikey", server.apikey, "--endpoint", server.url)

    assert server.iam_id in result.stdout
    assert server.account_id in result.stdout
    assert stat.S_IMODE(cli.session_file.stat().st_mode) == 0o600
    raw = cli.session_file.read_text()
    assert server.apikey not in raw
    saved = json.loads(raw)
    assert saved["endpoint"] == server.url
    assert saved["iam_id"] == server.iam_id
    assert saved["account_id"] == server.account_id
    assert saved["access_token"].count(".") == 2
    assert saved["refresh_token"] not in ("", None, "not_supported")
    assert time.time() + 60 < saved["expiration"] < time.time() + 24 * 3600


def test_login_replaces_a_wider_mode_session_file(cli: Cli, server: LiveServer) -> None:
    cli.config_dir.mkdir()
    cli.session_file.write_text("{}")
    cli.session_file.chmod(0o644)

    cli.ok("login", "--apikey", server.apikey, "--endpoint", server.url)

    assert stat.S_IMODE(cli.session_file.stat().st_mode) == 0o600
    assert cli.session()["iam_id"] == server.iam_id


def test_login_reads_the_key_from_a_file(cli: Cli, server: LiveServer, tmp_path: Path) -> None:
    key_file = tmp_path / "key.json"
    key_file.write_text(json.dumps({"name": "mine", "apikey": server.apikey}))

    cli.ok("login", "--apikey", f"@{key_file}", "--endpoint", server.url)

    assert cli.session()["iam_id"] == server.iam_id


def test_login_asks_for_the_key_without_echoing_it(cli: Cli, server: LiveServer) -> None:
    result = cli("login", "--endpoint", server.url, stdin=server.apikey + "\n")

    assert result.exit_code == 0, result.stderr
    assert "API key" in result.output
    assert server.apikey not in result.output
    assert cli.session()["iam_id"] == server.iam_id


def test_login_uses_the_endpoint_from_the_environment(
    cli: Cli, server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STRONGROOM_ENDPOINT", server.url)

    cli.ok("login", "--apikey", server.apikey)

    assert cli.session()["endpoint"] == server.url


def test_a_bad_api_key_fails_with_the_servers_message(cli: Cli, server: LiveServer) -> None:
    result = cli("login", "--apikey", "not-a-key", "--endpoint", server.url)

    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["FAILED", "Provided API key could not be found."]
    assert result.stdout == ""
    assert not cli.session_file.exists()


def test_commands_need_a_login(cli: Cli) -> None:
    result = cli("iam", "service-ids")

    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == "FAILED"
    assert "not logged in: run `strongroom login --apikey KEY`" in result.stderr


def test_an_unreachable_server_is_named(cli: Cli) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"

    result = cli("login", "--apikey", "whatever", "--endpoint", url)

    assert result.exit_code == 1
    assert f"cannot connect to strongroom at {url}" in result.stderr


DAMAGED = {
    "endpoint": "http://127.0.0.1:9",
    "access_token": "a.b.c",
    "refresh_token": "r",
    "expiration": "soon",
    "account_id": "a",
    "iam_id": "i",
}


@pytest.mark.parametrize(
    "content", ["{not json", "[]", '{"endpoint": "http://x"}', json.dumps(DAMAGED)]
)
def test_a_damaged_session_file_asks_for_a_new_login(cli: Cli, content: str) -> None:
    cli.config_dir.mkdir()
    cli.session_file.write_text(content)

    result = cli("iam", "api-keys")

    assert result.exit_code == 1
    assert "run `strongroom login` again" in result.stderr


def test_logout_forgets_the_session(logged_in: Cli) -> None:
    assert logged_in.ok("logout").stdout.strip() == "Logged out."
    assert not logged_in.session_file.exists()
    assert logged_in.ok("logout").stdout.strip() == "Not logged in."
    assert logged_in("iam", "service-ids").exit_code == 1
