"""Resource Controller bad input and tenant isolation over HTTP: every refusal is a 4xx naming
what was wrong, and writes nothing; another account's instance answers like a missing one."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from strongroom.testing.server import LiveServer
from tests.api.conftest import new_resource_group, token_for

KMS_PLAN = "eedd3585-90c6-4c8f-be3d-062069e99fc3"


def owner_of_new_account(server: LiveServer, http: httpx.Client) -> dict[str, str]:
    tag = uuid.uuid4().hex[:8]
    made = server.container.identity.create_account(f"b {tag}", f"b.{tag}@example.com", None)
    return {"Authorization": f"Bearer {token_for(http, made.owner_key.value)}"}


def body(http: httpx.Client, owner: dict[str, str], **changes: Any) -> dict[str, Any]:
    """A good create body in a fresh resource group of the owner's account, with `changes`."""
    base = {"name": "kp", "target": "us-south", "resource_group": new_resource_group(http, owner),
            "resource_plan_id": KMS_PLAN}  # fmt: skip
    return {**base, **changes}


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"resource_plan_id": "no-such-plan"}, "resource_plan_id"),
        ({"target": "mars-north"}, "target"),
        ({"target": "global"}, "target"),  # kms is regional
        ({"resource_group": "not-a-group"}, "not-a-group"),
        ({"name": ""}, "name"),
        ({"tags": "x"}, "tags"),
        ({"parameters": []}, "parameters"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_creates_name_the_field_and_write_nothing(
    server: LiveServer, http: httpx.Client, changes: dict[str, Any], named: str
) -> None:
    owner = owner_of_new_account(server, http)
    refused = http.post("/v2/resource_instances", json=body(http, owner, **changes), headers=owner)
    assert refused.status_code == 400, refused.text
    assert named in refused.json()["errors"][0]["message"]
    assert http.get("/v2/resource_instances", headers=owner).json()["rows_count"] == 0


def test_bad_updates_and_keys_are_refused(server: LiveServer, http: httpx.Client) -> None:
    owner = owner_of_new_account(server, http)
    kp = http.post("/v2/resource_instances", json=body(http, owner), headers=owner).json()
    url = f"/v2/resource_instances/{kp['guid']}"
    cos = "744bfc56-d12c-4866-88d5-dac9139e0e5d"
    wrong_plan = http.patch(url, json={"resource_plan_id": cos}, headers=owner)
    assert wrong_plan.status_code == 400 and "cloud-object-storage" in wrong_plan.text
    assert http.get(url, headers=owner).json()["resource_plan_id"] == KMS_PLAN
    assert http.get(f"{url}?x=1", headers=owner).status_code == 200
    bad_limit = http.get("/v2/resource_instances?limit=0", headers=owner)
    assert bad_limit.status_code == 400 and "limit" in bad_limit.text
    bad_start = http.get("/v2/resource_instances?start=zzz", headers=owner)
    assert bad_start.status_code == 400 and "start" in bad_start.text
    bad_state = http.get("/v2/resource_instances?state=sleeping", headers=owner)
    assert bad_state.status_code == 400 and "state" in bad_state.text
    no_source = http.post(
        "/v2/resource_keys", json={"name": "k", "source": str(uuid.uuid4())}, headers=owner
    )
    assert no_source.status_code == 404
    reuse = http.post(
        "/v2/resource_keys",
        json={"name": "k", "source": kp["guid"], "parameters": {"serviceid_crn": "crn:x"}},
        headers=owner,
    )
    assert reuse.status_code == 400 and "serviceid_crn" in reuse.text
    keys = http.get(f"{url}/resource_keys", headers=owner).json()
    assert keys["rows_count"] == 0


def test_another_accounts_instance_answers_like_a_missing_one(
    server: LiveServer, http: httpx.Client
) -> None:
    alice, mallory = owner_of_new_account(server, http), owner_of_new_account(server, http)
    kp = http.post("/v2/resource_instances", json=body(http, alice), headers=alice).json()
    key = http.post(
        "/v2/resource_keys", json={"name": "k", "source": kp["guid"]}, headers=alice
    ).json()
    missing = str(uuid.uuid4())
    for ref in (kp["guid"], kp["crn"]):
        theirs = http.get(f"/v2/resource_instances/{quote(ref, safe='')}", headers=mallory)
        nobody = http.get(f"/v2/resource_instances/{missing}", headers=mallory)
        assert theirs.status_code == nobody.status_code == 404
        assert ref in theirs.json()["errors"][0]["message"]
    assert http.delete(f"/v2/resource_instances/{kp['guid']}", headers=mallory).status_code == 404
    assert http.get(f"/v2/resource_keys/{key['guid']}", headers=mallory).status_code == 404
    stolen = http.post(
        "/v2/resource_keys", json={"name": "k", "source": kp["guid"]}, headers=mallory
    )
    assert stolen.status_code == 404
    assert http.get("/v2/resource_instances", headers=mallory).json()["resources"] == []
    assert http.get("/v2/resource_keys", headers=mallory).json()["resources"] == []
    assert http.get(f"/v2/resource_instances/{kp['guid']}", headers=alice).status_code == 200
