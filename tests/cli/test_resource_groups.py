"""`strongroom resource group-create`, `groups`, `group`: through the server's API."""

from __future__ import annotations

import uuid

from strongroom.testing.server import LiveServer
from tests.cli.harness import Cli


def test_resource_group_round_trip(logged_in: Cli, server: LiveServer) -> None:
    name = f"cli-rg-{uuid.uuid4().hex[:8]}"
    created = logged_in.json("resource", "group-create", name)
    assert (created["name"], created["state"], created["default"]) == (name, "ACTIVE", False)
    assert created["account_id"] == server.account_id
    assert created["crn"].endswith(f"::resource-group:{created['id']}")

    listed = logged_in.json("resource", "groups")
    assert {"Default", name} <= {g["name"] for g in listed}
    (default,) = logged_in.json("resource", "groups", "--default")
    assert default["name"] == "Default" and default["default"] is True

    shown = logged_in.json("resource", "group", name)
    assert shown == created
    only_id = logged_in.ok("resource", "group", name, "--id")
    assert only_id.stdout.strip() == created["id"]


def test_text_output_and_failures(logged_in: Cli) -> None:
    name = f"[bold]cli-rg[/bold]-{uuid.uuid4().hex[:6]}"  # printed as is, not as Rich markup
    made = logged_in.ok("resource", "group-create", name)
    assert "OK" in made.stdout and name in made.stdout
    table = logged_in.ok("resource", "groups")
    header = table.stdout.splitlines()[0].split()
    assert header[:2] == ["Name", "ID"]
    assert any(line.startswith(name) for line in table.stdout.splitlines())
    shown = logged_in.ok("resource", "group", "Default")
    assert "Default Resource Group" in shown.stdout and "true" in shown.stdout

    missing = logged_in("resource", "group", "no such group")
    assert missing.exit_code == 1
    assert missing.stderr.splitlines()[0] == "FAILED"
    assert "no resource group named `no such group`" in missing.stderr
    blank = logged_in("resource", "group-create", " ")
    assert blank.exit_code == 1 and "`name`" in blank.stderr
