"""Who may do what on a resource group, through the HTTP API, from seed 004 table 1 (column
"Resource group access": Viewer views the group, Operator "not applicable", Editor views and
edits its name, Administrator views, edits and manages it). Each role is held by its own service
ID as a policy on the group itself (`resourceType: resource-group`, `resource: <id>`); creating
a group touches no group yet, so it is asked with the role on the resource-controller service.
The owner needs no policy of its own: its account-management Administrator covers all."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest
import yaml

from strongroom.testing.server import LiveServer
from tests.api.conftest import token_for

ROLES = ("Viewer", "Operator", "Editor", "Administrator")
GROUPS = "/v2/resource_groups"

MATRIX = yaml.safe_load(
    """
# op: what the persona does; scope: where its role is granted; one expected status per role.
# `list` 200 means the group is in the list; a caller who may view no group is refused (403).
- {op: view,    scope: group,   Viewer: 200, Operator: 403, Editor: 200, Administrator: 200}
- {op: list,    scope: group,   Viewer: 200, Operator: 403, Editor: 200, Administrator: 200}
- {op: rename,  scope: group,   Viewer: 403, Operator: 403, Editor: 200, Administrator: 200}
- {op: suspend, scope: group,   Viewer: 403, Operator: 403, Editor: 200, Administrator: 200}
- {op: delete,  scope: group,   Viewer: 403, Operator: 403, Editor: 403, Administrator: 204}
- {op: create,  scope: group,   Viewer: 403, Operator: 403, Editor: 403, Administrator: 403}
- {op: create,  scope: service, Viewer: 403, Operator: 403, Editor: 403, Administrator: 201}
"""
)


def policy(account: str, iam_id: str, role: str, where: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "type": "access",
        "subject": {"attributes": [{"key": "iam_id", "operator": "stringEquals", "value": iam_id}]},
        "resource": {
            "attributes": [
                {"key": "accountId", "operator": "stringEquals", "value": account},
                *({"operator": "stringEquals", **w} for w in where),
            ]
        },
        "control": {"grant": {"roles": [{"role_id": f"crn:v1:bluemix:public:iam::::role:{role}"}]}},
    }


def on_group(group_id: str) -> list[dict[str, str]]:
    return [
        {"key": "resourceType", "value": "resource-group"},
        {"key": "resource", "value": group_id},
    ]


ON_SERVICE = [{"key": "serviceName", "value": "resource-controller"}]


def perform(http: httpx.Client, headers: dict[str, str], op: str, group_id: str) -> int:
    url = f"{GROUPS}/{group_id}"
    if op == "view":
        return http.get(url, headers=headers).status_code
    if op == "list":
        listed = http.get(GROUPS, headers=headers)
        if listed.status_code != 200:
            return listed.status_code
        assert group_id in {g["id"] for g in listed.json()["resources"]}
        return 200
    if op == "rename":
        renamed = {"name": f"renamed-{secrets.token_hex(4)}"}
        return http.patch(url, json=renamed, headers=headers).status_code
    if op == "suspend":
        return http.patch(url, json={"state": "SUSPENDED"}, headers=headers).status_code
    if op == "delete":
        return http.delete(url, headers=headers).status_code
    assert op == "create"
    body = {"name": f"made-{secrets.token_hex(4)}"}
    return http.post(GROUPS, json=body, headers=headers).status_code


@pytest.mark.parametrize("role", ROLES)
def test_seed_004_table_1_resource_group_access(
    server: LiveServer, http: httpx.Client, bearer: dict[str, str], role: str
) -> None:
    account = server.account_id
    group_id = http.post(
        GROUPS, json={"name": f"{role}-{secrets.token_hex(4)}"}, headers=bearer
    ).json()["id"]
    personas = {}
    for scope, where in (("group", on_group(group_id)), ("service", ON_SERVICE)):
        sid = http.post(
            "/v1/serviceids/",
            json={"account_id": account, "name": f"{role} {scope}", "apikey": {"name": "k"}},
            headers=bearer,
        ).json()
        made = http.post(
            "/v2/policies", json=policy(account, sid["iam_id"], role, where), headers=bearer
        )
        assert made.status_code == 201, made.text
        token = token_for(http, sid["apikey"]["apikey"])
        personas[scope] = {"Authorization": f"Bearer {token}"}
    for row in MATRIX:  # in table order: delete comes after the operations that need the group
        got = perform(http, personas[row["scope"]], row["op"], group_id)
        assert got == row[role], (row["op"], row["scope"], role)
    # What was refused left the group as it was; what was permitted changed it.
    final = http.get(f"{GROUPS}/{group_id}", headers=bearer).json()
    assert final["state"] == {"Administrator": "DELETED", "Editor": "SUSPENDED"}.get(role, "ACTIVE")


def test_the_owner_does_everything_without_a_policy_of_its_own(
    http: httpx.Client, bearer: dict[str, str]
) -> None:
    group_id = http.post(GROUPS, json={"name": f"own-{secrets.token_hex(4)}"}, headers=bearer)
    assert group_id.status_code == 201
    gid = group_id.json()["id"]
    for op in ("view", "list", "rename", "suspend", "delete"):
        assert perform(http, bearer, op, gid) in (200, 204), op
    assert http.get("/v2/quota_definitions", headers=bearer).status_code == 200
