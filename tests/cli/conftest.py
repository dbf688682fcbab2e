"""The CLI against the live server, each test with its own empty config directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from strongroom.testing.server import LiveServer
from tests.cli.harness import Cli


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """A CLI whose environment names nothing but its own, empty, config directory."""
    for name in ("STRONGROOM_APIKEY", "STRONGROOM_ENDPOINT", "KP_INSTANCE_ID"):
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "config"
    monkeypatch.setenv("STRONGROOM_CONFIG_DIR", str(config))
    return Cli(config)


@pytest.fixture
def logged_in(cli: Cli, server: LiveServer) -> Cli:
    cli.ok("login", "--apikey", server.apikey, "--endpoint", server.url)
    return cli
