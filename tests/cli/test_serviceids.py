"""`strongroom iam service-id…`: create, list, show, delete, through the server's API."""

from __future__ import annotations

import uuid

import pytest

from strongroom.cli import client
from strongroom.testing.server import LiveServer
from tests.cli.harness import Cli


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def test_service_id_round_trip(logged_in: Cli, server: LiveServer) -> None:
    name = unique("cli-sid")
    created = logged_in.json("iam", "service-id-create", name, "-d", "made by the CLI")
    sid = created["id"]
    assert sid.startswith("ServiceId-")
    assert created["name"] == name
    assert created["description"] == "made by the CLI"
    assert created["account_id"] == server.account_id
    assert created["iam_id"] == f"iam-{sid}"
    assert created["locked"] is False

    listed = [s for s in logged_in.json("iam", "service-ids") if s["id"] == sid]
    assert len(listed) == 1
    assert listed[0]["name"] == name
    assert listed[0]["description"] == "made by the CLI"
    assert listed[0]["entity_tag"] == created["entity_tag"]

    by_name = logged_in.json("iam", "service-id", name)
    by_id = logged_in.json("iam", "service-id", sid)
    for shown in (by_name, by_id):
        assert shown["id"] == sid
        assert shown["name"] == name
        assert shown["iam_id"] == created["iam_id"]
        assert shown["account_id"] == server.account_id
        assert shown["crn"] == created["crn"]

    deleted = logged_in.json("iam", "service-id-delete", name, "-f")
    assert deleted["id"] == sid

    gone = logged_in("iam", "service-id", sid)
    assert gone.exit_code == 1
    assert gone.stderr.splitlines()[0] == "FAILED"
    assert sid in gone.stderr
    assert "not found" in gone.stderr
    assert sid not in {s["id"] for s in logged_in.json("iam", "service-ids")}
    missing = logged_in("iam", "service-id", name)
    assert missing.exit_code == 1
    assert f"no service ID named `{name}`" in missing.stderr


def test_text_output_shows_the_fields(logged_in: Cli) -> None:
    name = unique("[bold]cli-text[/bold]")  # must print as is, not as Rich markup
    created = logged_in.ok("iam", "service-id-create", name, "--description", "plain words")
    assert "OK" in created.stdout
    assert name in created.stdout
    assert "plain words" in created.stdout
    sid = logged_in.json("iam", "service-id", name)["id"]
    assert sid in created.stdout

    shown = logged_in.ok("iam", "service-id", sid).stdout
    assert name in shown
    assert f"iam-{sid}" in shown
    assert sid in logged_in.ok("iam", "service-ids").stdout

    deleted = logged_in.ok("iam", "service-id-delete", sid, "--force")
    assert f"service ID {sid} deleted" in deleted.stdout


def test_a_locked_service_id_refuses_deletion(logged_in: Cli) -> None:
    name = unique("cli-locked")
    created = logged_in.json("iam", "service-id-create", name, "--lock")
    assert created["locked"] is True

    refused = logged_in("iam", "service-id-delete", created["id"], "-f")

    assert refused.exit_code == 1
    lines = refused.stderr.splitlines()
    assert lines[0] == "FAILED"
    assert "is locked" in lines[1]
    assert logged_in.json("iam", "service-id", created["id"])["locked"] is True


def test_delete_asks_first(logged_in: Cli) -> None:
    sid = logged_in.json("iam", "service-id-create", unique("cli-ask"))["id"]

    declined = logged_in("iam", "service-id-delete", sid, stdin="n\n")
    assert declined.exit_code == 1
    assert logged_in.json("iam", "service-id", sid)["id"] == sid

    accepted = logged_in("iam", "service-id-delete", sid, stdin="y\n")
    assert accepted.exit_code == 0, accepted.stderr
    assert sid in accepted.stdout
    assert logged_in("iam", "service-id", sid).exit_code == 1


def test_an_ambiguous_name_lists_the_ids(logged_in: Cli) -> None:
    name = unique("cli-twin")
    first = logged_in.json("iam", "service-id-create", name)["id"]
    second = logged_in.json("iam", "service-id-create", name)["id"]

    for command in ("service-id", "service-id-delete"):
        result = logged_in("iam", command, name, *(["-f"] if command.endswith("delete") else []))
        assert result.exit_code == 1
        assert f"2 service IDs are named `{name}`" in result.stderr
        assert first in result.stderr
        assert second in result.stderr
    assert logged_in.json("iam", "service-id", first)["id"] == first


def test_listing_follows_every_page(logged_in: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    mine = {logged_in.json("iam", "service-id-create", unique("cli-page"))["id"] for _ in range(3)}
    monkeypatch.setattr(client, "PAGE_SIZE", 2)

    ids = [s["id"] for s in logged_in.json("iam", "service-ids")]

    assert mine <= set(ids)
    assert len(ids) == len(set(ids))
