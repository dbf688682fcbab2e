"""Policies on an access group apply to its members, and every change to membership takes effect
on the next check: a member removed, a group deleted, public access turned off, a dynamic rule
deleted or its membership expired (the server's clock is moved, not waited for)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from strongroom import bootstrap
from strongroom.identity.models import AccountRole, Membership, User
from strongroom.testing import FrozenClock, InProcessClient
from strongroom.testing.server import LiveServer
from tests.api.conftest import token_for

VIEWER = "crn:v1:bluemix:public:iam::::role:Viewer"
PUBLIC = "AccessGroupId-PublicAccess"
KEY = "k" * 40


def group_policy(group_id: str, account_id: str, service: str) -> dict[str, Any]:
    """Viewer on `service` for the members of `group_id`."""
    return {
        "type": "access",
        "subject": {
            "attributes": [
                {"key": "access_group_id", "operator": "stringEquals", "value": group_id}
            ]
        },
        "resource": {
            "attributes": [
                {"key": "accountId", "operator": "stringEquals", "value": account_id},
                {"key": "serviceName", "operator": "stringEquals", "value": service},
            ]
        },
        "control": {"grant": {"roles": [{"role_id": VIEWER}]}},
    }


def test_a_groups_policy_applies_to_its_members_until_they_leave(
    server: LiveServer, http: httpx.Client, bearer: dict[str, str]
) -> None:
    account = server.account_id
    sid = http.post(
        "/v1/serviceids/",
        json={"account_id": account, "name": "member", "apikey": {"name": "k"}},
        headers=bearer,
    ).json()
    iam_id = sid["iam_id"]

    def lists() -> int:
        theirs = {"Authorization": f"Bearer {token_for(http, sid['apikey']['apikey'])}"}
        return http.get("/v1/serviceids/", headers=theirs).status_code

    group = http.post(
        f"/v2/groups?account_id={account}", json={"name": f"g {uuid.uuid4()}"}, headers=bearer
    ).json()["id"]
    policy = http.post(
        "/v2/policies", json=group_policy(group, account, "iam-identity"), headers=bearer
    )
    assert policy.status_code == 201, policy.text
    members = f"/v2/groups/{group}/members"
    assert lists() == 403
    join = {"members": [{"iam_id": iam_id, "type": "service"}]}
    assert http.put(members, json=join, headers=bearer).status_code == 207
    assert lists() == 200
    assert http.delete(f"{members}/{iam_id}", headers=bearer).status_code == 204
    assert lists() == 403
    http.put(members, json=join, headers=bearer)
    assert lists() == 200
    assert http.delete(f"/v2/groups/{group}?force=true", headers=bearer).status_code == 204
    assert lists() == 403
    gone = http.get(f"/v2/policies/{policy.json()['id']}", headers=bearer)
    assert gone.json()["state"] == "deleted"  # force deleted the group's policies too


# -- dynamic membership and public access, with a clock the test moves ---------------------------


class World:
    def __init__(self, runtime: Any, clock: FrozenClock) -> None:
        self.runtime, self.clock = runtime, clock
        self.client = InProcessClient(runtime.app)
        self.account = runtime.first_start.account.id

    def headers(self, apikey: str = KEY) -> dict[str, str]:
        grant = {"grant_type": "urn:ibm:params:oauth:grant-type:apikey", "apikey": apikey}
        token = self.client.post("/identity/token", data=grant).json()["access_token"]
        return {"Authorization": f"Bearer {token}"}

    def call(self, method: str, path: str, json: Any = None, apikey: str = KEY) -> httpx.Response:
        return self.client.request(method, path, json=json, headers=self.headers(apikey))

    def user(self, iam_id: str) -> str:
        """A user of the account with an API key of its own; the key's value."""
        now = self.clock.now()
        with self.runtime.uow(write=True) as unit:
            unit.users.add(User(iam_id, f"{iam_id}@example.com", "Dyn", "User", now))
            unit.users.add_membership(Membership(self.account, iam_id, AccountRole.MEMBER, now))
        created = self.call("POST", "/v1/apikeys", {"name": "k", "iam_id": iam_id})
        assert created.status_code == 201, created.text
        return str(created.json()["apikey"])


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    from strongroom.config import Settings

    clock = FrozenClock(datetime(2026, 3, 2, 9, tzinfo=UTC))
    runtime = bootstrap.build(
        Settings(data_dir=tmp_path, database_url="sqlite://", bootstrap_apikey=KEY), clock
    )
    yield World(runtime, clock)
    runtime.close()


def test_dynamic_members_hold_the_groups_access_until_the_rule_or_the_login_lapses(
    world: World,
) -> None:
    user = "IBMid-DYNAMIC001"
    key = world.user(user)
    acct = world.account

    def lists() -> int:
        return world.call("GET", "/v1/serviceids/", apikey=key).status_code

    group = world.call("POST", f"/v2/groups?account_id={acct}", {"name": "admins"}).json()["id"]
    rule = {
        "expiration": 2,
        "realm_name": "https://idp.example.com",
        "conditions": [{"claim": "groups", "operator": "CONTAINS", "value": '"admins"'}],
    }
    created = world.call("POST", f"/v2/groups/{group}/rules", rule)
    assert created.status_code == 201
    assert world.call("POST", "/v2/policies", group_policy(group, acct, "iam-identity")).is_success
    login = f"/v2/groups/_federated_logins?account_id={acct}"

    def logs_in(*groups: str) -> None:
        body = {"iam_id": user, "realm_name": rule["realm_name"], "claims": {"groups": groups}}
        assert world.call("POST", login, body).status_code == 204

    assert lists() == 403
    logs_in("developers")
    assert lists() == 403
    logs_in("developers", "admins")
    assert lists() == 200
    members = world.call("GET", f"/v2/groups/{group}/members?membership_type=dynamic").json()
    assert [(m["iam_id"], m["membership_type"]) for m in members["members"]] == [(user, "dynamic")]
    assert world.call("HEAD", f"/v2/groups/{group}/members/{user}").status_code == 204
    mine = world.call("GET", f"/v2/groups?account_id={acct}&iam_id={user}&membership_type=all")
    assert group in [g["id"] for g in mine.json()["groups"]]
    world.clock.advance(2 * 3600 + 1)  # the membership lasts `expiration` hours after the login
    assert lists() == 403
    assert world.call("HEAD", f"/v2/groups/{group}/members/{user}").status_code == 404
    logs_in("admins")
    assert lists() == 200
    removed = world.call("DELETE", f"/v2/groups/{group}/rules/{created.json()['id']}")
    assert removed.status_code == 204
    assert lists() == 403


def test_turning_public_access_off_removes_its_policies(world: World) -> None:
    key = world.user("IBMid-PUBLIC0001")
    acct = world.account

    def reads_groups() -> int:
        return world.call("GET", f"/v2/groups?account_id={acct}", apikey=key).status_code

    assert reads_groups() == 403
    policy = world.call("POST", "/v2/policies", group_policy(PUBLIC, acct, "iam-groups"))
    assert policy.status_code == 201
    assert reads_groups() == 200
    settings = f"/v2/groups/settings?account_id={acct}"
    off = world.call("PATCH", settings, {"public_access_enabled": False})
    assert off.status_code == 200 and off.json()["public_access_enabled"] is False
    assert reads_groups() == 403
    assert world.call("GET", f"/v2/policies/{policy.json()['id']}").json()["state"] == "deleted"
    assert world.call("PATCH", settings, {"public_access_enabled": True}).status_code == 200
    assert reads_groups() == 403  # the policies stay deleted
