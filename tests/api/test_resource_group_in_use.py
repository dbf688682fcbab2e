"""Resource Manager and Resource Controller together (spec §7, §8): a resource group that holds
instances is not deleted; an instance awaiting reclamation still holds it; once reclaimed, the
group goes. An instance is made only in an ACTIVE group of the caller's own account."""

from __future__ import annotations

import uuid

import httpx

from strongroom.testing.server import LiveServer
from tests.api.conftest import new_resource_group, token_for

KMS_PLAN = "eedd3585-90c6-4c8f-be3d-062069e99fc3"


def owner(server: LiveServer, http: httpx.Client) -> dict[str, str]:
    tag = uuid.uuid4().hex[:8]
    made = server.container.identity.create_account(f"u {tag}", f"u.{tag}@example.com", None)
    return {"Authorization": f"Bearer {token_for(http, made.owner_key.value)}"}


def kms_in(http: httpx.Client, headers: dict[str, str], group: str) -> httpx.Response:
    body = {"name": "kp", "target": "us-south", "resource_group": group,
            "resource_plan_id": KMS_PLAN}  # fmt: skip
    return http.post("/v2/resource_instances", json=body, headers=headers)


def test_a_group_with_instances_is_kept_until_they_are_reclaimed(
    server: LiveServer, http: httpx.Client
) -> None:
    headers = owner(server, http)
    group = new_resource_group(http, headers)
    kp = kms_in(http, headers, group).json()

    held = http.delete(f"/v2/resource_groups/{group}", headers=headers)
    assert held.status_code == 409 and group in held.text
    assert http.get(f"/v2/resource_groups/{group}", headers=headers).json()["state"] == "ACTIVE"

    assert http.delete(f"/v2/resource_instances/{kp['guid']}", headers=headers).status_code == 204
    pending = http.delete(f"/v2/resource_groups/{group}", headers=headers)
    assert pending.status_code == 409  # awaiting reclamation, the instance can still come back

    reclamation = http.get(
        f"/v1/reclamations?resource_instance_id={kp['guid']}", headers=headers
    ).json()["resources"][0]
    reclaimed = http.post(
        f"/v1/reclamations/{reclamation['id']}/actions/reclaim", json={}, headers=headers
    )
    assert reclaimed.status_code == 200, reclaimed.text
    assert http.delete(f"/v2/resource_groups/{group}", headers=headers).status_code == 204


def test_instances_go_only_into_active_groups_of_the_account(
    server: LiveServer, http: httpx.Client
) -> None:
    alice, mallory = owner(server, http), owner(server, http)
    theirs = new_resource_group(http, mallory)
    foreign = kms_in(http, alice, theirs)
    assert foreign.status_code == 400 and theirs in foreign.text

    suspended = new_resource_group(http, alice)
    http.patch(f"/v2/resource_groups/{suspended}", json={"state": "SUSPENDED"}, headers=alice)
    assert kms_in(http, alice, suspended).status_code == 400
    assert http.get("/v2/resource_instances", headers=alice).json()["rows_count"] == 0
