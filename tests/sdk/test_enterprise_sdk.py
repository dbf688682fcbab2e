"""The official SDK's `EnterpriseManagementV1` (service URL `<server>/v1`) against a live
server, on SQLite and PostgreSQL: an enterprise made from an account, nested account groups,
created and imported accounts, `limit=1` paging through `next_docid`, moves and updates; cycles
and other enterprises refused; and isolation: the enterprise's administrators get nothing inside
a child account until that account's own policies grant it. Each test makes its own accounts."""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from ibm_cloud_sdk_core import ApiException
from ibm_cloud_sdk_core.authenticators import IAMAuthenticator
from ibm_platform_services import EnterpriseManagementV1, UserManagementV1
from ibm_platform_services.enterprise_management_v1 import (
    Account,
    AccountGroup,
    AccountsPager,
    Enterprise,
)

from strongroom.testing.server import LiveServer
from tests.sdk.conftest import identity_client

ADMINISTRATOR = "crn:v1:bluemix:public:iam::::role:Administrator"
VIEWER = "crn:v1:bluemix:public:iam::::role:Viewer"
WITH_SERVICE_ID = {"create_iam_service_id_with_apikey_and_owner_policies": True}


def enterprise_client(server: LiveServer, apikey: str) -> EnterpriseManagementV1:
    client = EnterpriseManagementV1(authenticator=IAMAuthenticator(apikey, url=server.url))
    client.set_service_url(f"{server.url}/v1")
    return client


def users_client(server: LiveServer, apikey: str) -> UserManagementV1:
    client = UserManagementV1(authenticator=IAMAuthenticator(apikey, url=server.url))
    client.set_service_url(server.url)
    return client


def new_account(server: LiveServer) -> dict[str, str]:
    tag = uuid.uuid4().hex[:8]
    made = server.container.identity.create_account(f"ent {tag}", f"owner.{tag}@example.com", None)
    return {
        "id": made.account.id,
        "owner": made.owner.iam_id,
        "email": made.owner.email,
        "key": made.owner_key.value,
    }


def new_enterprise(server: LiveServer) -> dict[str, str]:
    """An enterprise made by a fresh account's owner, with that owner's own API key in the new
    enterprise account (made with the administrator service ID the create answers with)."""
    source = new_account(server)
    created = enterprise_client(server, source["key"]).create_enterprise(
        source_account_id=source["id"],
        name="Acme",
        primary_contact_iam_id=source["owner"],
        domain="acme.example",
    )
    assert created.get_status_code() == 202
    body = created.get_result()
    ea = body["enterprise_account_id"]
    owner_key = identity_client(server, body["iam_apikey"]).create_api_key(
        name="enterprise owner", iam_id=source["owner"], account_id=ea
    )
    return {
        "id": body["enterprise_id"],
        "account": ea,
        "crn": f"crn:v1:bluemix:public:enterprise::a/{ea}::enterprise:{body['enterprise_id']}",
        "source": source["id"],
        "owner": source["owner"],
        "email": source["email"],
        "sid_key": body["iam_apikey"],
        "key": owner_key.get_result()["apikey"],
    }


def next_docid(url: str | None) -> str | None:
    return None if url is None else parse_qs(urlparse(url).query)["next_docid"][0]


def raw_patch(client: EnterpriseManagementV1, path: str, body: dict[str, Any]) -> Any:
    """A PATCH the SDK has no argument for (moving an account group: strongroom's extension)."""
    request = client.prepare_request(
        method="PATCH",
        url=path,
        headers={"Content-Type": "application/json"},
        data=json.dumps(body),
    )
    return client.send(request)


def test_enterprise_groups_accounts_paging_moves_and_updates(server: LiveServer) -> None:
    ent = new_enterprise(server)
    em = enterprise_client(server, ent["key"])

    got = Enterprise.from_dict(em.get_enterprise(enterprise_id=ent["id"]).get_result())
    assert (got.crn, got.enterprise_account_id, got.source_account_id) == (
        ent["crn"],
        ent["account"],
        ent["source"],
    )
    assert (got.name, got.domain, got.state) == ("Acme", "acme.example", "ACTIVE")
    assert got.primary_contact_email == ent["email"]

    g1 = em.create_account_group(
        parent=ent["crn"], name="Engineering", primary_contact_iam_id=ent["owner"]
    )
    assert g1.get_status_code() == 201
    g1_id = g1.get_result()["account_group_id"]
    g1_crn = AccountGroup.from_dict(em.get_account_group(account_group_id=g1_id).get_result()).crn
    g2_id = em.create_account_group(
        parent=g1_crn, name="Platform", primary_contact_iam_id=ent["owner"]
    ).get_result()["account_group_id"]
    g2 = AccountGroup.from_dict(em.get_account_group(account_group_id=g2_id).get_result())
    assert g2.parent == g1_crn
    assert (
        g2.enterprise_path == f"enterprise:{ent['id']}/account-group:{g1_id}/account-group:{g2_id}"
    )

    created = em.create_account(
        parent=g2.crn, name="dev", owner_iam_id=ent["owner"], options=WITH_SERVICE_ID
    )
    assert created.get_status_code() == 202
    made = created.get_result()
    dev = made["account_id"]
    assert made["iam_service_id"].startswith("ServiceId-") and made["iam_apikey"]
    account = Account.from_dict(em.get_account(account_id=dev).get_result())
    assert (account.parent, account.owner_iam_id, account.name) == (g2.crn, ent["owner"], "dev")
    assert account.enterprise_path == f"{g2.enterprise_path}/account:{dev}"
    assert account.is_enterprise_account is False
    # The new account's service ID holds owner-like policies there, and only there.
    listed = identity_client(server, made["iam_apikey"]).list_service_ids(account_id=dev)
    assert [s["id"] for s in listed.get_result()["serviceids"]] == [made["iam_service_id"]]

    # limit=1 pages through next_docid, by hand and with the SDK's pager.
    seen, docid = [], None
    while True:
        page = em.list_accounts(enterprise_id=ent["id"], limit=1, next_docid=docid).get_result()
        assert page["rows_count"] == len(page["resources"]) == 1
        seen.append(page["resources"][0]["id"])
        docid = next_docid(page["next_url"])
        if docid is None:
            break
    assert sorted(seen) == sorted([ent["account"], ent["source"], dev])
    pager = AccountsPager(client=em, enterprise_id=ent["id"], limit=1)
    assert sorted(a["id"] for a in pager.get_all()) == sorted(seen)
    assert [a["id"] for a in em.list_accounts(parent=g2.crn).get_result()["resources"]] == [dev]
    below_g1 = em.list_accounts(account_group_id=g1_id).get_result()["resources"]
    assert [a["id"] for a in below_g1] == [dev]

    moved = em.update_account(account_id=dev, parent=g1_crn)
    assert moved.get_status_code() == 202
    assert em.get_account(account_id=dev).get_result()["parent"] == g1_crn
    assert em.list_accounts(parent=g2.crn).get_result()["resources"] == []

    assert em.update_enterprise(enterprise_id=ent["id"], name="Acme Corp").get_status_code() == 204
    assert em.get_enterprise(enterprise_id=ent["id"]).get_result()["name"] == "Acme Corp"
    assert em.update_account_group(account_group_id=g2_id, name="Runtime").get_status_code() == 204
    children = em.list_account_groups(parent=g1_crn).get_result()["resources"]
    assert [(g["id"], g["name"]) for g in children] == [(g2_id, "Runtime")]
    listed_ents = em.list_enterprises().get_result()["resources"]
    assert [e["id"] for e in listed_ents] == [ent["id"]]

    # A group may not move under its own descendant; nothing changes.
    with pytest.raises(ApiException) as cycle:
        raw_patch(em, f"/account-groups/{g1_id}", {"parent": g2.crn})
    assert cycle.value.code == 400 and "cycle" in cycle.value.message
    assert em.get_account_group(account_group_id=g1_id).get_result()["parent"] == ent["crn"]

    # Only an empty group can be deleted.
    with pytest.raises(ApiException) as busy:
        em.delete_account_group(account_group_id=g1_id)
    assert busy.value.code == 409 and g1_id in busy.value.message
    assert em.delete_account_group(account_group_id=g2_id).get_status_code() == 204


def test_another_enterprise_is_out_of_reach(server: LiveServer) -> None:
    one, two = new_enterprise(server), new_enterprise(server)
    em = enterprise_client(server, one["key"])
    dev = em.create_account(parent=one["crn"], name="dev", owner_iam_id=one["owner"]).get_result()
    with pytest.raises(ApiException) as moved:
        em.update_account(account_id=dev["account_id"], parent=two["crn"])
    assert moved.value.code == 400 and one["id"] in moved.value.message
    with pytest.raises(ApiException) as placed:
        em.create_account(parent=two["crn"], name="sneaky", owner_iam_id=one["owner"])
    assert placed.value.code == 404 and two["crn"] in placed.value.message
    for call in (
        lambda: em.get_enterprise(enterprise_id=two["id"]),
        lambda: em.get_account(account_id=two["source"]),
        lambda: em.list_accounts(enterprise_id=two["id"]),
    ):
        with pytest.raises(ApiException) as hidden:
            call()
        assert hidden.value.code == 404
    theirs = enterprise_client(server, two["key"]).list_accounts(enterprise_id=two["id"])
    assert dev["account_id"] not in [a["id"] for a in theirs.get_result()["resources"]]


def test_import_needs_the_imported_accounts_consent(server: LiveServer) -> None:
    ent = new_enterprise(server)
    em = enterprise_client(server, ent["key"])
    other = new_account(server)
    with pytest.raises(ApiException) as refused:
        em.import_account_to_enterprise(enterprise_id=ent["id"], account_id=other["id"])
    assert refused.value.code == 404 and other["id"] in refused.value.message

    # The other account's owner makes the enterprise owner an Administrator of `enterprise` there.
    invite = users_client(server, other["key"]).invite_users(
        account_id=other["id"],
        users=[{"email": ent["email"], "account_role": "Member"}],
        iam_policy=[
            {
                "type": "access",
                "roles": [{"role_id": ADMINISTRATOR}],
                "resources": [
                    {
                        "attributes": [
                            {"name": "accountId", "value": other["id"]},
                            {"name": "serviceName", "value": "enterprise"},
                        ]
                    }
                ],
            }
        ],
    )
    assert invite.get_status_code() == 202
    key_there = identity_client(server, other["key"]).create_api_key(
        name="first key", iam_id=ent["owner"], account_id=other["id"]
    )
    users_client(server, key_there.get_result()["apikey"]).accept(account_id=other["id"])

    imported = em.import_account_to_enterprise(enterprise_id=ent["id"], account_id=other["id"])
    assert imported.get_status_code() == 202
    account = em.get_account(account_id=other["id"]).get_result()
    assert (account["parent"], account["owner_iam_id"]) == (ent["crn"], other["owner"])
    with pytest.raises(ApiException) as twice:
        em.import_account_to_enterprise(enterprise_id=ent["id"], account_id=other["id"])
    assert twice.value.code == 409
    # Only accounts the enterprise created can be deleted by it.
    with pytest.raises(ApiException) as kept:
        em.delete_account(account_id=other["id"])
    assert kept.value.code == 409 and "imported" in kept.value.message


def decide(server: LiveServer, apikey: str, subject: str, account: str) -> bool:
    token = IAMAuthenticator(apikey, url=server.url).token_manager.get_token()
    asked = {
        "subject": {"attributes": {"id": subject}},
        "action": "iam-identity.serviceid.list",
        "resource": {"attributes": {"accountId": account, "serviceName": "iam-identity"}},
    }
    response = httpx.post(
        f"{server.url}/v2/authz", json=[asked], headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    return bool(response.json()["responses"][0]["authorizationDecision"]["permitted"])


def test_the_enterprise_grants_nothing_inside_a_child_account(server: LiveServer) -> None:
    ent = new_enterprise(server)
    em = enterprise_client(server, ent["key"])
    child_owner = new_account(server)
    made = em.create_account(
        parent=ent["crn"], name="child", owner_iam_id=child_owner["owner"], options=WITH_SERVICE_ID
    ).get_result()
    child, child_admin = made["account_id"], made["iam_apikey"]

    # The enterprise owner and its administrator service ID: nothing in the child account.
    for key in (ent["key"], ent["sid_key"]):
        with pytest.raises(ApiException) as refused:
            identity_client(server, key).list_service_ids(account_id=child)
        assert refused.value.code == 403
    assert decide(server, child_admin, ent["owner"], child) is False

    # The child account grants it, in its own account: its owner (whose first key there the
    # child's administrator service ID makes) invites them with a Viewer policy.
    owner_there = (
        identity_client(server, child_admin)
        .create_api_key(name="owner", iam_id=child_owner["owner"], account_id=child)
        .get_result()["apikey"]
    )
    users_client(server, owner_there).invite_users(
        account_id=child,
        users=[{"email": ent["email"], "account_role": "Member"}],
        iam_policy=[
            {
                "type": "access",
                "roles": [{"role_id": VIEWER}],
                "resources": [
                    {
                        "attributes": [
                            {"name": "accountId", "value": child},
                            {"name": "serviceName", "value": "iam-identity"},
                        ]
                    }
                ],
            }
        ],
    )
    key_there = (
        identity_client(server, child_admin)
        .create_api_key(name="first key", iam_id=ent["owner"], account_id=child)
        .get_result()["apikey"]
    )
    users_client(server, key_there).accept(account_id=child)
    assert decide(server, child_admin, ent["owner"], child) is True
    listed = identity_client(server, key_there).list_service_ids(account_id=child)
    assert made["iam_service_id"] in [s["id"] for s in listed.get_result()["serviceids"]]
    # A token for the enterprise account still acts only there.
    with pytest.raises(ApiException) as still:
        identity_client(server, ent["key"]).list_service_ids(account_id=child)
    assert still.value.code == 403
