"""Persona x operation on service instances, from seed 004 table 1 as data
(`resource_instance_matrix.yaml`), through the HTTP API on SQLite and PostgreSQL: each platform
role as a policy on `kms` (or on kms in one resource group) answers 2xx or 403 exactly as the
table says."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from strongroom.testing.server import LiveServer
from tests.api.conftest import new_resource_group, token_for

MATRIX = yaml.safe_load((Path(__file__).parent / "resource_instance_matrix.yaml").read_text())
PLANS = {
    "kms": "eedd3585-90c6-4c8f-be3d-062069e99fc3",
    "cloud-object-storage": "2fdf0c08-2d32-4f46-84b5-32e0c92fffd8",
}
TARGETS = {"kms": "us-south", "cloud-object-storage": "global"}
ROLE = "crn:v1:bluemix:public:iam::::role:{}"


class World:
    """One account: its owner, a resource group `in` and `out`, and a persona per policy."""

    def __init__(self, server: LiveServer, http: httpx.Client) -> None:
        tag = uuid.uuid4().hex[:8]
        made = server.container.identity.create_account(f"m {tag}", f"m.{tag}@example.com", None)
        self.account = made.account.id
        self.http = http
        self.owner = {"Authorization": f"Bearer {token_for(http, made.owner_key.value)}"}
        self.groups = {g: new_resource_group(http, self.owner, g) for g in ("in", "out")}
        self.personas: dict[tuple[str, str | None], dict[str, str]] = {}

    def persona(self, role: str, group: str | None = None) -> dict[str, str]:
        if (role, group) not in self.personas:
            sid = self.http.post(
                "/v1/serviceids/",
                json={
                    "account_id": self.account,
                    "name": f"{role}-{group}",
                    "apikey": {"name": "k"},
                },
                headers=self.owner,
            ).json()
            attributes = [
                {"key": "accountId", "operator": "stringEquals", "value": self.account},
                {"key": "serviceName", "operator": "stringEquals", "value": "kms"},
            ]
            if group is not None:
                attributes.append(
                    {"key": "resourceGroupId", "operator": "stringEquals",
                     "value": self.groups[group]}
                )  # fmt: skip
            policy = {
                "type": "access",
                "subject": {"attributes": [
                    {"key": "iam_id", "operator": "stringEquals", "value": sid["iam_id"]}]},
                "resource": {"attributes": attributes},
                "control": {"grant": {"roles": [{"role_id": ROLE.format(role)}]}},
            }  # fmt: skip
            made = self.http.post("/v2/policies", json=policy, headers=self.owner)
            assert made.status_code == 201, made.text
            token = token_for(self.http, sid["apikey"]["apikey"])
            self.personas[(role, group)] = {"Authorization": f"Bearer {token}"}
        return self.personas[(role, group)]

    def instance(self, service: str = "kms", group: str = "in") -> dict[str, Any]:
        body = {"name": "i", "target": TARGETS[service], "resource_group": self.groups[group],
                "resource_plan_id": PLANS[service]}  # fmt: skip
        made = self.http.post("/v2/resource_instances", json=body, headers=self.owner)
        assert made.status_code == 201, made.text
        return dict(made.json())

    def key(self, instance: dict[str, Any]) -> dict[str, Any]:
        made = self.http.post(
            "/v2/resource_keys", json={"name": "k", "source": instance["guid"]}, headers=self.owner
        )
        assert made.status_code == 201, made.text
        return dict(made.json())


Op = Callable[[World, dict[str, str], str, str], httpx.Response]


def _view(w: World, who: dict[str, str], service: str, group: str) -> httpx.Response:
    return w.http.get(f"/v2/resource_instances/{w.instance(service, group)['guid']}", headers=who)


def _list(w: World, who: dict[str, str], service: str, group: str) -> httpx.Response:
    guid = w.instance(service, group)["guid"]
    listed = w.http.get("/v2/resource_instances", params={"guid": guid}, headers=who)
    # A list shows what the caller may see: seeing nothing is this route's refusal.
    if listed.status_code == 200 and not listed.json()["resources"]:
        return httpx.Response(403)
    return listed


def _view_keys(w: World, who: dict[str, str], service: str, group: str) -> httpx.Response:
    guid = w.instance(service, group)["guid"]
    return w.http.get(f"/v2/resource_instances/{guid}/resource_keys", headers=who)


def _create(w: World, who: dict[str, str], service: str, group: str) -> httpx.Response:
    body = {"name": "c", "target": TARGETS[service], "resource_group": w.groups[group],
            "resource_plan_id": PLANS[service]}  # fmt: skip
    return w.http.post("/v2/resource_instances", json=body, headers=who)


def _update(w: World, who: dict[str, str], service: str, group: str) -> httpx.Response:
    guid = w.instance(service, group)["guid"]
    return w.http.patch(f"/v2/resource_instances/{guid}", json={"name": "u"}, headers=who)


def _lock(w: World, who: dict[str, str], service: str, group: str) -> httpx.Response:
    return w.http.post(
        f"/v2/resource_instances/{w.instance(service, group)['guid']}/lock", headers=who
    )


def _delete(w: World, who: dict[str, str], service: str, group: str) -> httpx.Response:
    return w.http.delete(
        f"/v2/resource_instances/{w.instance(service, group)['guid']}", headers=who
    )


def _create_key(w: World, who: dict[str, str], service: str, group: str) -> httpx.Response:
    body = {"name": "k", "source": w.instance(service, group)["guid"], "role": "Reader"}
    return w.http.post("/v2/resource_keys", json=body, headers=who)


def _delete_key(w: World, who: dict[str, str], service: str, group: str) -> httpx.Response:
    key = w.key(w.instance(service, group))
    return w.http.delete(f"/v2/resource_keys/{key['guid']}", headers=who)


OPS: dict[str, Op] = {
    "view": _view, "list": _list, "view_keys": _view_keys, "create": _create, "update": _update,
    "lock": _lock, "delete": _delete, "create_key": _create_key, "delete_key": _delete_key,
}  # fmt: skip

CASES = [
    pytest.param(role, row["op"], row[role], id=f"{role}-{row['op']}")
    for row in MATRIX["operations"]
    for role in MATRIX["roles"]
]
SCOPED = [
    pytest.param(c, id=f"{c['role']}-{c['op']}-{c['service']}-{c['group']}")
    for c in MATRIX["scoped"]
]


@pytest.fixture(scope="module")
def world(server: LiveServer) -> Iterator[World]:
    with httpx.Client(base_url=server.url, timeout=10) as http:
        yield World(server, http)


def test_the_matrix_covers_every_operation_and_role() -> None:
    assert {row["op"] for row in MATRIX["operations"]} == set(OPS)
    assert all(set(MATRIX["roles"]) <= set(row) for row in MATRIX["operations"])


@pytest.mark.parametrize(("role", "op", "allowed"), CASES)
def test_a_role_on_the_service(world: World, role: str, op: str, allowed: bool) -> None:
    response = OPS[op](world, world.persona(role), "kms", "in")
    expected = "2xx" if allowed else "403"
    got = response.status_code
    assert (200 <= got < 300) if allowed else got == 403, f"{role} {op}: {got}, not {expected}"


@pytest.mark.parametrize("case", SCOPED)
def test_a_role_on_the_service_in_a_resource_group(world: World, case: dict[str, Any]) -> None:
    who = world.persona(case["role"], "in")
    got = OPS[case["op"]](world, who, case["service"], case["group"]).status_code
    assert (200 <= got < 300) if case["expect"] else got == 403, f"{case}: {got}"
