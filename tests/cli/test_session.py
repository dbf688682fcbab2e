"""Which token a command runs with: the stored session, refreshed when due, or the environment."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from strongroom.cli import session
from strongroom.testing.server import LiveServer
from tests.cli.harness import Cli


def test_an_expiring_token_is_refreshed_and_the_new_refresh_token_saved(logged_in: Cli) -> None:
    before = logged_in.session()
    logged_in.write_session(expiration=int(time.time()) + 30)  # inside the 60 s margin

    listed = logged_in.json("iam", "service-ids")

    after = logged_in.session()
    assert isinstance(listed, list)
    assert after["refresh_token"] != before["refresh_token"]
    assert after["access_token"] != before["access_token"]
    assert after["expiration"] > time.time() + 60
    assert after["iam_id"] == before["iam_id"]
    assert after["endpoint"] == before["endpoint"]

    # The old refresh token is spent: presenting it again is refused, and the CLI says what to do.
    logged_in.write_session(refresh_token=before["refresh_token"], expiration=0)
    refused = logged_in("iam", "service-ids")
    assert refused.exit_code == 1
    assert "run `strongroom login` again" in refused.stderr


def test_a_fresh_token_is_not_refreshed(logged_in: Cli) -> None:
    before = logged_in.session()

    logged_in.json("iam", "api-keys")

    assert logged_in.session() == before


def test_concurrent_refreshes_spend_the_refresh_token_once(logged_in: Cli) -> None:
    logged_in.write_session(expiration=0)

    with ThreadPoolExecutor(4) as pool:
        sessions = list(pool.map(lambda _: session.current(), range(4)))

    # One refresh for all: a second use of the token would have revoked the family.
    assert len({s.refresh_token for s in sessions}) == 1
    assert sessions[0].refresh_token == logged_in.session()["refresh_token"]
    assert logged_in.json("iam", "service-ids") is not None


def test_a_rejected_access_token_shows_the_servers_message(logged_in: Cli) -> None:
    logged_in.write_session(access_token="not.a.token")

    result = logged_in("iam", "service-ids")

    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == "FAILED"
    assert "access token" in result.stderr


def test_the_api_key_in_the_environment_needs_no_login(
    cli: Cli, server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STRONGROOM_APIKEY", server.apikey)
    monkeypatch.setenv("STRONGROOM_ENDPOINT", server.url)

    keys = cli.json("iam", "api-keys")

    assert keys
    assert {k["iam_id"] for k in keys} == {server.iam_id}
    assert all(k["account_id"] == server.account_id for k in keys)
    assert not cli.session_file.exists()


def test_a_bad_api_key_in_the_environment_fails(
    cli: Cli, server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STRONGROOM_APIKEY", "not-a-key")
    monkeypatch.setenv("STRONGROOM_ENDPOINT", server.url)

    result = cli("iam", "service-ids")

    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["FAILED", "Provided API key could not be found."]


def test_the_endpoint_in_the_environment_overrides_the_session_for_one_run(
    logged_in: Cli, server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    logged_in.write_session(endpoint="http://127.0.0.1:9", expiration=0)
    monkeypatch.setenv("STRONGROOM_ENDPOINT", server.url)

    logged_in.json("iam", "service-ids")

    saved = logged_in.session()
    assert saved["endpoint"] == "http://127.0.0.1:9"
    assert saved["expiration"] > time.time() + 60
