"""`strongroom audit events|verify|export`: the account's trail through the server's API."""

from __future__ import annotations

import json
from pathlib import Path

from strongroom.testing.server import LiveServer
from tests.audit.helpers import rewrite_chain
from tests.cli.harness import Cli


def test_audit_events_verify_and_export(logged_in: Cli, server: LiveServer, tmp_path: Path) -> None:
    made = logged_in.json("iam", "service-id-create", "audited-by-cli")
    events = logged_in.json("audit", "events", "--action", "iam-identity.serviceid.create")
    assert events and {e["event"]["action"] for e in events} == {"iam-identity.serviceid.create"}
    assert events[-1]["event"]["outcome"] == "success"
    assert events[-1]["event"]["initiator"]["id"] == server.iam_id
    assert made["id"]
    limited = logged_in.json("audit", "events", "--limit", "1")
    assert len(limited) == 1

    table = logged_in.ok("audit", "events", "--action", "iam-identity.serviceid.create")
    assert table.stdout.splitlines()[0].split()[:4] == ["Seq", "Time", "Action", "Outcome"]
    assert "iam-identity.serviceid.create" in table.stdout

    verified = logged_in.ok("audit", "verify")
    assert verified.stdout.startswith("OK: ") and "chain intact" in verified.stdout
    assert logged_in.json("audit", "verify")["ok"] is True

    target = tmp_path / "trail.jsonl"
    logged_in.ok("audit", "export", "--file", str(target))
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert [line["seq"] for line in lines] == list(range(1, len(lines) + 1))
    printed = logged_in.ok("audit", "export", "--outcome", "success").stdout.splitlines()
    assert printed and all(json.loads(p)["event"]["outcome"] == "success" for p in printed)

    refused = logged_in("audit", "events", "--account-id", "0" * 32)
    assert refused.exit_code == 1 and refused.stderr.splitlines()[0] == "FAILED"
    bad = logged_in("audit", "events", "--start", "yesterday")
    assert bad.exit_code == 1 and "`start`" in bad.stderr


def test_audit_hash_matches_the_api(logged_in: Cli, server: LiveServer) -> None:
    printed = logged_in.ok("audit", "hash", "some-leaked-value").stdout.strip()
    assert printed == server.runtime.container.audit.writer.hasher.hash("some-leaked-value")
    assert printed.startswith("hmac-sha256:")
    assert logged_in.json("audit", "hash", "some-leaked-value") == {"hash": printed}


def test_audit_verify_finds_a_rewritten_chain(logged_in: Cli, server: LiveServer) -> None:
    """reliability.md A3 (d): every hash recomputed, the chain's links all hold, and still
    `strongroom audit verify` (and /v1/audit/verify under it) fails on the head's signature."""
    assert logged_in.ok("audit", "verify").stdout.startswith("OK: ")
    restore = rewrite_chain(server, server.account_id)
    try:
        broken = logged_in("audit", "verify")
        assert broken.exit_code == 1 and "the chain was rewritten" in broken.stderr
        found = logged_in("audit", "verify", "--output", "json")
        assert '"ok": false' in found.stdout
    finally:
        restore()
    assert logged_in.ok("audit", "verify").stdout.startswith("OK: ")
