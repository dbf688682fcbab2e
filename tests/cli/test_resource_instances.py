"""`strongroom resource service-instance…`: create, list, show, delete, through the server's API."""

from __future__ import annotations

import uuid

from strongroom.testing.server import LiveServer
from tests.cli.harness import Cli


def test_service_instance_round_trip(logged_in: Cli, server: LiveServer) -> None:
    name = f"cli-kp-{uuid.uuid4().hex[:8]}"
    group = logged_in.json("resource", "group-create", f"rg-{uuid.uuid4().hex[:8]}")["id"]
    made = logged_in.json(
        "resource", "service-instance-create", name, "kms", "tiered-pricing", "us-south",
        "-g", group, "-p", '{"allowed_network": "private-only"}',
    )  # fmt: skip
    assert made["name"] == name and made["resource_id"] == "kms"
    assert made["resource_plan_id"] == "eedd3585-90c6-4c8f-be3d-062069e99fc3"
    assert made["region_id"] == "us-south" and made["resource_group_id"] == group
    assert made["parameters"] == {"allowed_network": "private-only"}
    assert made["account_id"] == server.account_id

    listed = logged_in.json("resource", "service-instances", "--service-name", "kms")
    assert made["guid"] in [i["guid"] for i in listed]
    table = logged_in.ok("resource", "service-instances").stdout
    assert name in table and made["guid"] in table

    for ref in (name, made["guid"], made["crn"]):
        assert logged_in.json("resource", "service-instance", ref)["guid"] == made["guid"]
    shown = logged_in.ok("resource", "service-instance", name).stdout
    assert "us-south" in shown and "active" in shown

    deleted = logged_in.json("resource", "service-instance-delete", name, "-f")
    assert deleted["guid"] == made["guid"]
    gone = logged_in("resource", "service-instance", name)
    assert gone.exit_code == 1 and name in gone.stderr  # no longer listed by name


def test_unknown_plan_and_service_fail_with_the_reason(logged_in: Cli) -> None:
    group = logged_in.json("resource", "group-create", f"rg-{uuid.uuid4().hex[:8]}")["id"]
    bad_plan = logged_in("resource", "service-instance-create", "x", "kms", "gold", "-g", group)
    assert bad_plan.exit_code == 1 and bad_plan.stderr.splitlines()[0] == "FAILED"
    assert "gold" in bad_plan.stderr and "tiered-pricing" in bad_plan.stderr
    bad_service = logged_in(
        "resource", "service-instance-create", "x", "nosql", "lite", "-g", group
    )
    assert bad_service.exit_code == 1 and "nosql" in bad_service.stderr
    wrong_place = logged_in(
        "resource", "service-instance-create", "x", "kms", "tiered-pricing", "mars", "-g", group
    )
    assert wrong_place.exit_code == 1 and "mars" in wrong_place.stderr
