"""Enterprise Management over HTTP: bad input gets a 4xx in IBM's envelope naming the problem,
and nothing is written (names, unknown parents, cycles, other enterprises), on SQLite and
PostgreSQL."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from strongroom.testing.server import LiveServer
from tests.api.conftest import token_for
from tests.api.test_bad_input import assert_envelope


def enterprise(server: LiveServer, http: httpx.Client) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    made = server.container.identity.create_account(f"e {tag}", f"o.{tag}@example.com", None)
    source = {"Authorization": f"Bearer {token_for(http, made.owner_key.value)}"}
    body = {
        "source_account_id": made.account.id,
        "name": "Acme",
        "primary_contact_iam_id": made.owner.iam_id,
    }
    created = http.post("/v1/enterprises", json=body, headers=source)
    assert created.status_code == 202, created.text
    result = created.json()
    headers = {"Authorization": f"Bearer {token_for(http, result['iam_apikey'])}"}
    ea, eid = result["enterprise_account_id"], result["enterprise_id"]
    return {
        "id": eid,
        "crn": f"crn:v1:bluemix:public:enterprise::a/{ea}::enterprise:{eid}",
        "owner": made.owner.iam_id,
        "headers": headers,
        "source_headers": source,
        "source": made.account.id,
    }


def snapshot(http: httpx.Client, ent: dict[str, Any]) -> tuple[Any, Any]:
    accounts = http.get("/v1/accounts", headers=ent["headers"]).json()["resources"]
    groups = http.get("/v1/account-groups", headers=ent["headers"]).json()["resources"]
    return accounts, groups


@pytest.mark.parametrize(
    ("body", "status", "fragments"),
    [
        ({"name": "ab"}, 400, ("`name`", "3-60")),
        ({"name": "x" * 61}, 400, ("`name`", "61")),
        ({"parent": "not-a-crn"}, 400, ("`parent`",)),
        ({"parent": "crn:v1:bluemix:public:iam::a/" + "a" * 32 + "::role:x"}, 400, ("`parent`",)),
        ({"owner_iam_id": "IBMid-nobody-here"}, 400, ("owner_iam_id", "IBMid-nobody-here")),
        ({"owner_iam_id": 7}, 400, ("owner_iam_id",)),
        ({"surprise": 1}, 400, ("surprise",)),
        (
            {"options": {"create_iam_service_id_with_apikey_and_owner_policies": "yes"}},
            400,
            ("options",),
        ),
    ],
)
def test_account_creation_refuses_bad_input_and_writes_nothing(
    server: LiveServer,
    http: httpx.Client,
    body: dict[str, Any],
    status: int,
    fragments: tuple[str, ...],
) -> None:
    ent = enterprise(server, http)
    before = snapshot(http, ent)
    sent = {"parent": ent["crn"], "name": "dev", "owner_iam_id": ent["owner"], **body}
    response = http.post("/v1/accounts", json=sent, headers=ent["headers"])
    assert_envelope(response, status, *fragments)
    assert snapshot(http, ent) == before


def test_unknown_parents_cycles_and_other_enterprises_write_nothing(
    server: LiveServer, http: httpx.Client
) -> None:
    ent, other = enterprise(server, http), enterprise(server, http)
    h = ent["headers"]

    def group(parent: str, name: str) -> dict[str, Any]:
        body = {"parent": parent, "name": name, "primary_contact_iam_id": ent["owner"]}
        made = http.post("/v1/account-groups", json=body, headers=h)
        assert made.status_code == 201, made.text
        return dict(
            http.get(f"/v1/account-groups/{made.json()['account_group_id']}", headers=h).json()
        )

    top = group(ent["crn"], "top")
    mid = group(top["crn"], "mid")
    low = group(mid["crn"], "low")
    before = snapshot(http, ent)

    ghost = ent["crn"].rsplit(":enterprise:", 1)[0] + ":account-group:" + "0" * 32
    for parent in (ghost, other["crn"]):
        body = {"parent": parent, "name": "dev", "owner_iam_id": ent["owner"]}
        assert_envelope(http.post("/v1/accounts", json=body, headers=h), 404, parent)
        body = {"parent": parent, "name": "grp", "primary_contact_iam_id": ent["owner"]}
        assert_envelope(http.post("/v1/account-groups", json=body, headers=h), 404, parent)
    for target in (top, mid, low):
        moved = http.patch(
            f"/v1/account-groups/{top['id']}", json={"parent": target["crn"]}, headers=h
        )
        assert_envelope(moved, 400, top["id"], "cycle")
    across = http.patch(f"/v1/account-groups/{mid['id']}", json={"parent": other["crn"]}, headers=h)
    assert_envelope(across, 400, "not in enterprise", ent["id"])
    source_move = http.patch(
        f"/v1/accounts/{ent['source']}", json={"parent": other["crn"]}, headers=h
    )
    assert_envelope(source_move, 400, "not in enterprise")
    # The other enterprise's objects are missing to this enterprise's token, and vice versa.
    assert_envelope(http.get(f"/v1/accounts/{other['source']}", headers=h), 404, other["source"])
    assert_envelope(http.get(f"/v1/enterprises/{other['id']}", headers=h), 404, other["id"])
    assert_envelope(
        http.get(f"/v1/account-groups/{top['id']}", headers=other["headers"]), 404, top["id"]
    )
    assert snapshot(http, ent) == before
    assert http.get(f"/v1/account-groups/{top['id']}", headers=h).json()["parent"] == ent["crn"]


def test_tier_limit_enterprise_account_and_paging_tokens(
    server: LiveServer, http: httpx.Client
) -> None:
    ent = enterprise(server, http)
    h = ent["headers"]
    parent = ent["crn"]
    for depth in range(5):
        body = {"parent": parent, "name": f"tier {depth}", "primary_contact_iam_id": ent["owner"]}
        made = http.post("/v1/account-groups", json=body, headers=h)
        assert made.status_code == 201, made.text
        parent = http.get(
            f"/v1/account-groups/{made.json()['account_group_id']}", headers=h
        ).json()["crn"]
    body = {"parent": parent, "name": "tier 6", "primary_contact_iam_id": ent["owner"]}
    assert_envelope(http.post("/v1/account-groups", json=body, headers=h), 400, "5 tiers")
    accounts = http.get("/v1/accounts", headers=h).json()["resources"]
    ea = next(a for a in accounts if a["is_enterprise_account"])
    assert_envelope(
        http.patch(f"/v1/accounts/{ea['id']}", json={"parent": parent}, headers=h), 409, ea["id"]
    )
    assert_envelope(http.delete(f"/v1/accounts/{ent['source']}", headers=h), 409, "source")
    assert_envelope(
        http.get("/v1/accounts", params={"next_docid": "zz"}, headers=h), 400, "next_docid"
    )
    assert_envelope(http.get("/v1/accounts", params={"limit": 101}, headers=h), 400, "limit")


def test_a_deleted_created_account_gives_no_more_tokens(
    server: LiveServer, http: httpx.Client
) -> None:
    ent = enterprise(server, http)
    body = {
        "parent": ent["crn"],
        "name": "temporary",
        "owner_iam_id": ent["owner"],
        "options": {"create_iam_service_id_with_apikey_and_owner_policies": True},
    }
    made = http.post("/v1/accounts", json=body, headers=ent["headers"]).json()
    token_for(http, made["iam_apikey"])  # works while the account lives
    assert (
        http.delete(f"/v1/accounts/{made['account_id']}", headers=ent["headers"]).status_code == 204
    )
    refused = http.post(
        "/identity/token",
        data={"grant_type": "urn:ibm:params:oauth:grant-type:apikey", "apikey": made["iam_apikey"]},
    )
    assert refused.status_code == 400
    listed = http.get("/v1/accounts", params={"include_deleted": "true"}, headers=ent["headers"])
    states = {a["id"]: a["state"] for a in listed.json()["resources"]}
    assert states[made["account_id"]] == "DELETED"
    live = http.get("/v1/accounts", headers=ent["headers"]).json()["resources"]
    assert made["account_id"] not in [a["id"] for a in live]
