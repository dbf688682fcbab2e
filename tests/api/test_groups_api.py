"""IAM Access Groups over HTTP: bad input is a 4xx naming the field and writes nothing, limits
(reliability.md §4) are clear 4xx answers, and another account's groups answer as missing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from strongroom import bootstrap, ids
from strongroom.access.group_models import AccessGroup
from strongroom.config import Settings
from strongroom.testing import InProcessClient
from strongroom.testing.server import LiveServer
from tests.api.conftest import token_for

RULE = {
    "expiration": 12,
    "realm_name": "https://idp.example.com",
    "conditions": [{"claim": "groups", "operator": "CONTAINS", "value": '"admins"'}],
}


def message(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["message"])


def new_group(http: httpx.Client, server: LiveServer, headers: dict[str, str]) -> dict[str, Any]:
    created = http.post(
        "/v2/groups",
        params={"account_id": server.account_id},
        json={"name": f"api {uuid.uuid4().hex[:8]}"},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    return dict(created.json())


def test_bad_rules_are_refused_naming_the_field_and_write_nothing(
    server: LiveServer, http: httpx.Client, bearer: dict[str, str]
) -> None:
    group = new_group(http, server, bearer)["id"]
    bad: list[tuple[dict[str, Any], str]] = [
        ({**RULE, "conditions": [{"claim": "g", "operator": "LIKE", "value": "1"}]},
         "conditions[0].operator"),
        ({**RULE, "conditions": [{"claim": "g", "operator": "IN", "value": "{}"}]},
         "conditions[0].value"),
        ({**RULE, "conditions": []}, "conditions"),
        ({**RULE, "conditions": [{"operator": "EQUALS", "value": "1"}]}, "conditions[0].claim"),
        ({**RULE, "expiration": 0}, "expiration"),
        ({**RULE, "expiration": 25}, "expiration"),
        ({**RULE, "expiration": "12"}, "expiration"),
        ({**RULE, "realm_name": ""}, "realm_name"),
        ({k: v for k, v in RULE.items() if k != "realm_name"}, "realm_name"),
    ]  # fmt: skip
    for body, field in bad:
        refused = http.post(f"/v2/groups/{group}/rules", json=body, headers=bearer)
        assert refused.status_code == 400, (body, refused.text)
        assert f"`{field}`" in message(refused), (field, message(refused))
    assert http.get(f"/v2/groups/{group}/rules", headers=bearer).json() == {"rules": []}


def test_bad_members_are_refused_and_nothing_is_added(
    server: LiveServer, http: httpx.Client, bearer: dict[str, str]
) -> None:
    group = new_group(http, server, bearer)["id"]
    fine = {"iam_id": "IBMid-GOOD0001", "type": "user"}
    bad: list[tuple[Any, str]] = [
        ({"members": [fine, {"iam_id": "ServiceId-1", "type": "service"}]}, "members[1].iam_id"),
        ({"members": [fine, {"iam_id": "IBMid-X", "type": "robot"}]}, "members[1].type"),
        ({"members": [fine, {"iam_id": "IBMid-X", "type": "profile"}]}, "members[1].iam_id"),
        ({"members": []}, "members"),
        ({"members": [dict(fine, iam_id=f"IBMid-M{n}") for n in range(51)]}, "members"),
        ([fine], "body"),
    ]
    for body, field in bad:
        refused = http.put(f"/v2/groups/{group}/members", json=body, headers=bearer)
        assert refused.status_code == 400, (body, refused.text)
        assert f"`{field}`" in message(refused)
    members = http.get(f"/v2/groups/{group}/members", headers=bearer).json()
    assert members["members"] == [] and members["total_count"] == 0


def test_names_are_unique_per_account_ignoring_case(
    server: LiveServer, http: httpx.Client, bearer: dict[str, str]
) -> None:
    params = {"account_id": server.account_id}
    name = f"Ops {uuid.uuid4().hex[:6]}"
    assert http.post("/v2/groups", params=params, json={"name": name}, headers=bearer).is_success
    for taken in (name.upper(), "public access"):
        refused = http.post("/v2/groups", params=params, json={"name": taken}, headers=bearer)
        assert refused.status_code == 409 and f"`{taken}`" in message(refused)
    for body, field in (({}, "name"), ({"name": "x" * 101}, "name"),
                        ({"name": "ok", "description": 5}, "description")):  # fmt: skip
        refused = http.post("/v2/groups", params=params, json=body, headers=bearer)
        assert refused.status_code == 400 and f"`{field}`" in message(refused)
    missing = http.post("/v2/groups", json={"name": "no account"}, headers=bearer)
    assert missing.status_code == 400 and "`account_id`" in message(missing)


def test_updates_need_a_current_entity_tag(
    server: LiveServer, http: httpx.Client, bearer: dict[str, str]
) -> None:
    group = new_group(http, server, bearer)
    path = f"/v2/groups/{group['id']}"
    tag = http.get(path, headers=bearer).headers["ETag"]
    without = http.patch(path, json={"description": "x"}, headers=bearer)
    assert without.status_code == 428 and "If-Match" in message(without)
    ok = http.patch(path, json={"description": "first"}, headers={**bearer, "If-Match": tag})
    assert ok.status_code == 200 and ok.headers["ETag"] != tag
    stale = http.patch(path, json={"description": "second"}, headers={**bearer, "If-Match": tag})
    assert stale.status_code == 412
    assert http.get(path, headers=bearer).json()["description"] == "first"
    rule = http.post(f"{path}/rules", json=RULE, headers=bearer).json()
    again = http.put(f"{path}/rules/{rule['id']}", json=RULE, headers=bearer)
    assert again.status_code == 428


def test_another_accounts_groups_answer_as_missing(
    server: LiveServer, http: httpx.Client, bearer: dict[str, str]
) -> None:
    other = server.container.identity.create_account("other", "groups@example.com", None)
    theirs = {"Authorization": f"Bearer {token_for(http, other.owner_key.value)}"}
    created = http.post(
        "/v2/groups",
        params={"account_id": other.account.id},
        json={"name": "theirs"},
        headers=theirs,
    )
    group = created.json()["id"]
    rule = http.post(f"/v2/groups/{group}/rules", json=RULE, headers=theirs).json()["id"]
    mine = {**bearer, "If-Match": "*"}
    join = {"members": [{"iam_id": "IBMid-A1", "type": "user"}]}
    for method, path, body in (
        ("GET", f"/v2/groups/{group}", None),
        ("PATCH", f"/v2/groups/{group}", {"name": "mine"}),
        ("DELETE", f"/v2/groups/{group}?force=true", None),
        ("PUT", f"/v2/groups/{group}/members", join),
        ("GET", f"/v2/groups/{group}/members", None),
        ("GET", f"/v2/groups/{group}/rules", None),
        ("GET", f"/v2/groups/{group}/rules/{rule}", None),
        ("DELETE", f"/v2/groups/{group}/rules/{rule}", None),
    ):  # fmt: skip
        response = http.request(method, path, json=body, headers=mine)
        assert response.status_code == 404 and group in message(response), (method, path)
    listed = http.get("/v2/groups", params={"account_id": other.account.id}, headers=bearer)
    assert listed.status_code == 403
    joined = http.put(
        f"/v2/groups/_allgroups/members/IBMid-A1?account_id={server.account_id}",
        json={"type": "user", "groups": [group]},
        headers=bearer,
    )
    assert joined.status_code == 207 and joined.json()["groups"][0]["status_code"] == 404
    assert http.get(f"/v2/groups/{group}", headers=theirs).json()["name"] == "theirs"


def test_federated_logins_are_checked(
    server: LiveServer, http: httpx.Client, bearer: dict[str, str]
) -> None:
    path = f"/v2/groups/_federated_logins?account_id={server.account_id}"
    good = {"iam_id": "IBMid-FED0001", "realm_name": "corp", "claims": {"groups": ["a"]}}
    for body, field in (
        ({**good, "claims": {"groups": [1]}}, "claims.groups"),
        ({**good, "claims": "groups=a"}, "claims"),
        ({**good, "iam_id": "iam-ServiceId-x"}, "iam_id"),
        ({**good, "realm_name": ""}, "realm_name"),
    ):
        refused = http.post(path, json=body, headers=bearer)
        assert refused.status_code == 400 and f"`{field}`" in message(refused)
    assert http.post(path, json=good, headers=bearer).status_code == 204


# -- IBM's default limits, on a server of their own (scaled-down ones: test_limits_api.py) -------

KEY = "k" * 40


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[tuple[Any, InProcessClient, dict[str, str], str]]:
    runtime = bootstrap.build(
        Settings(data_dir=tmp_path, database_url="sqlite://", bootstrap_apikey=KEY)
    )
    client = InProcessClient(runtime.app)
    grant = {"grant_type": "urn:ibm:params:oauth:grant-type:apikey", "apikey": KEY}
    token = client.post("/identity/token", data=grant).json()["access_token"]
    account = runtime.first_start.account.id
    yield runtime, client, {"Authorization": f"Bearer {token}"}, account
    runtime.close()


def test_an_account_holds_at_most_500_groups(fresh: Any) -> None:
    runtime, client, headers, account = fresh
    now = datetime.now(UTC)
    with runtime.uow(write=True) as unit:
        for n in range(500):
            unit.access_groups.add(
                AccessGroup(f"AccessGroupId-{uuid.uuid4()}", account, f"g{n}", "", now, "x",
                            now, "x", ids.new_entity_tag(1))
            )  # fmt: skip
    refused = client.post(f"/v2/groups?account_id={account}", json={"name": "one more"},
                          headers=headers)  # fmt: skip
    assert refused.status_code == 422 and "500" in message(refused)
    assert refused.json()["errors"][0]["code"] == "quota_exceeded"


def test_a_member_joins_at_most_50_groups_and_a_group_holds_5_rules(fresh: Any) -> None:
    _, client, headers, account = fresh
    made = [
        client.post(f"/v2/groups?account_id={account}", json={"name": f"g{n}"},
                    headers=headers).json()["id"]
        for n in range(51)
    ]  # fmt: skip
    joined = client.request(
        "PUT",
        f"/v2/groups/_allgroups/members/IBMid-BUSY0001?account_id={account}",
        json={"type": "user", "groups": made[:50]},
        headers=headers,
    )
    assert joined.status_code == 207
    assert {g["status_code"] for g in joined.json()["groups"]} == {200}
    refused = client.request(
        "PUT",
        f"/v2/groups/{made[50]}/members",
        json={"members": [{"iam_id": "IBMid-BUSY0001", "type": "user"}]},
        headers=headers,
    )
    assert refused.status_code == 422 and "IBMid-BUSY0001" in message(refused)
    for _ in range(5):
        assert client.post(f"/v2/groups/{made[0]}/rules", json=RULE, headers=headers).is_success
    sixth = client.post(f"/v2/groups/{made[0]}/rules", json=RULE, headers=headers)
    assert sixth.status_code == 422 and "5 dynamic rules" in message(sixth)
