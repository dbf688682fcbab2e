"""Resource Manager (spec §7) through HTTP: bad input answers 4xx in IBM's envelope naming the
field or the group, and writes nothing; a group that still holds resources (the `group_in_use`
hook, which service instances answer) or the default group is never deleted."""

from __future__ import annotations

import json
import secrets
from dataclasses import replace
from typing import Any

import httpx
import pytest

from strongroom.api.app import create_app
from strongroom.clock import SystemClock
from strongroom.resources.groups import ResourceGroupService
from strongroom.resources.quotas import load_quotas
from strongroom.testing import InProcessClient
from strongroom.testing.server import LiveServer
from tests.api.test_bad_input import assert_envelope

GROUPS = "/v2/resource_groups"


def groups(http: httpx.Client, bearer: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    response = http.get(GROUPS, params={"include_deleted": "true", **params}, headers=bearer)
    assert response.status_code == 200, response.text
    return list(response.json()["resources"])


def new_group(http: httpx.Client, bearer: dict[str, str]) -> str:
    created = http.post(GROUPS, json={"name": f"api-{secrets.token_hex(4)}"}, headers=bearer)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


@pytest.mark.parametrize(
    ("content", "fragments"),
    [
        (b"{not json", ("JSON",)),
        (b"[]", ("body",)),
        (b"{}", ("name", "required")),
        (json.dumps({"name": "   "}).encode(), ("name",)),
        (json.dumps({"name": 7}).encode(), ("name",)),
        (json.dumps({"name": "x" * 41}).encode(), ("name", "40")),
        (json.dumps({"name": "tab\there"}).encode(), ("name", "control")),
        (json.dumps({"name": "ok", "account_id": ""}).encode(), ("account_id",)),
    ],
)
def test_create_refuses_bad_bodies_and_writes_nothing(
    server: LiveServer,
    http: httpx.Client,
    bearer: dict[str, str],
    content: bytes,
    fragments: tuple[str, ...],
) -> None:
    before = groups(http, bearer)
    sent = {**bearer, "Content-Type": "application/json"}
    assert_envelope(http.post(GROUPS, content=content, headers=sent), 400, *fragments)
    assert groups(http, bearer) == before


def test_a_live_name_is_taken_case_insensitively(
    http: httpx.Client, bearer: dict[str, str]
) -> None:
    name = f"taken-{secrets.token_hex(4)}"
    assert http.post(GROUPS, json={"name": name}, headers=bearer).status_code == 201
    before = groups(http, bearer)
    again = http.post(GROUPS, json={"name": name.upper()}, headers=bearer)
    assert_envelope(again, 409, name.upper())
    assert groups(http, bearer) == before


@pytest.mark.parametrize(
    ("body", "fragments"),
    [
        ({}, ("name", "state")),
        ({"state": "DELETED"}, ("state", "ACTIVE", "SUSPENDED")),
        ({"state": "active"}, ("state",)),
        ({"name": ""}, ("name",)),
    ],
)
def test_update_refuses_bad_bodies_and_writes_nothing(
    http: httpx.Client, bearer: dict[str, str], body: dict[str, Any], fragments: tuple[str, ...]
) -> None:
    group_id = new_group(http, bearer)
    before = http.get(f"{GROUPS}/{group_id}", headers=bearer).json()
    answer = http.patch(f"{GROUPS}/{group_id}", json=body, headers=bearer)
    assert_envelope(answer, 400, *fragments)
    assert http.get(f"{GROUPS}/{group_id}", headers=bearer).json() == before


def test_list_parameters_are_checked(http: httpx.Client, bearer: dict[str, str]) -> None:
    assert_envelope(http.get(GROUPS, params={"date": "2024-13"}, headers=bearer), 400, "date")
    assert http.get(GROUPS, params={"default": "maybe"}, headers=bearer).status_code == 400
    assert http.get(GROUPS, params={"date": "2024-01"}, headers=bearer).status_code == 200


def test_an_unknown_quota_definition_is_named(http: httpx.Client, bearer: dict[str, str]) -> None:
    ghost = secrets.token_hex(16)
    assert_envelope(http.get(f"/v2/quota_definitions/{ghost}", headers=bearer), 404, ghost)


def test_the_default_group_is_never_deleted(http: httpx.Client, bearer: dict[str, str]) -> None:
    (default,) = groups(http, bearer, default="true")
    answer = http.delete(f"{GROUPS}/{default['id']}", headers=bearer)
    assert_envelope(answer, 400, default["id"], "default")
    assert groups(http, bearer, default="true") == [default]


def test_a_group_that_holds_resources_is_not_deleted(
    server: LiveServer, http: httpx.Client, bearer: dict[str, str]
) -> None:
    """The `group_in_use` hooks are asked inside the deleting unit of work; one that answers
    True (a service instance still in the group) refuses the delete."""
    full, empty = new_group(http, bearer), new_group(http, bearer)
    asked: list[str] = []

    def holds_instances(uow: object, group_id: str) -> bool:
        asked.append(group_id)
        return group_id == full

    runtime = server.runtime
    service = ResourceGroupService(
        runtime.uow, server.clock or SystemClock(), load_quotas(), group_in_use=[holds_instances]
    )
    client = InProcessClient(create_app(replace(runtime.container, resource_groups=service)))
    before = http.get(f"{GROUPS}/{full}", headers=bearer).json()
    refused = client.request("DELETE", f"{GROUPS}/{full}", headers=bearer)
    assert_envelope(refused, 409, full, "not empty")
    assert http.get(f"{GROUPS}/{full}", headers=bearer).json() == before
    assert client.request("DELETE", f"{GROUPS}/{empty}", headers=bearer).status_code == 204
    assert asked == [full, empty]
