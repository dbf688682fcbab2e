"""The official `ibm-platform-services` SDK (`IamIdentityV1` with `IAMAuthenticator`) against a live
server on loopback, on SQLite and PostgreSQL: what a user of IBM Cloud IAM Identity checks."""

from __future__ import annotations

import time
import uuid
from typing import Any
from urllib.parse import parse_qs, urlparse

import jwt
import pytest
from ibm_cloud_sdk_core import ApiException
from ibm_platform_services import IamIdentityV1
from ibm_platform_services.iam_identity_v1 import ServiceId as ServiceIdModel

from strongroom.testing.server import LiveServer
from tests.sdk.conftest import identity_client


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def claims_of(token: str) -> dict[str, Any]:
    """Decode a token the way the SDK's token manager does (no signature check on the client)."""
    return jwt.decode(token, options={"verify_signature": False})


def page_token(url: str | None) -> str | None:
    if url is None:
        return None
    values = parse_qs(urlparse(url).query).get("pagetoken")
    return values[0] if values else None


def test_authenticator_gets_a_token_the_sdk_can_use(server: LiveServer, iam: IamIdentityV1) -> None:
    claims = claims_of(iam.authenticator.token_manager.get_token())
    assert claims["iam_id"] == server.iam_id
    assert claims["account"]["bss"] == server.account_id
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["grant_type"] == "urn:ibm:params:oauth:grant-type:apikey"


def test_service_id_lifecycle(server: LiveServer, iam: IamIdentityV1) -> None:
    name = unique("Python-SDK-IT-ServiceId")
    created = iam.create_service_id(
        account_id=server.account_id, name=name, description="first", unique_instance_crns=[]
    )
    assert created.get_status_code() == 201
    sid = created.get_result()
    ServiceIdModel.from_dict(sid)  # every field the SDK model requires is present
    assert sid["id"].startswith("ServiceId-")
    assert sid["iam_id"] == f"iam-{sid['id']}"
    assert (
        sid["crn"]
        == f"crn:v1:bluemix:public:iam-identity::a/{server.account_id}::serviceid:{sid['id']}"
    )
    assert sid["locked"] is False

    got = iam.get_service_id(id=sid["id"], include_history=True)
    etag = got.get_headers()["Etag"]
    assert etag == got.get_result()["entity_tag"] == sid["entity_tag"]
    assert [h["action"] for h in got.get_result()["history"]] == ["create"]

    updated = iam.update_service_id(
        id=sid["id"], if_match=etag, name=name + "-2", description="second"
    )
    assert updated.get_status_code() == 200
    body = updated.get_result()
    assert (body["name"], body["description"]) == (name + "-2", "second")
    assert body["entity_tag"] != etag and body["entity_tag"].startswith("2-")
    assert updated.get_headers()["ETag"] == body["entity_tag"]

    # A stale tag is refused and changes nothing.
    with pytest.raises(ApiException) as stale:
        iam.update_service_id(id=sid["id"], if_match=etag, name="lost update")
    assert stale.value.code == 412
    assert iam.get_service_id(id=sid["id"]).get_result()["name"] == name + "-2"

    assert iam.lock_service_id(id=sid["id"]).get_status_code() == 204
    assert iam.get_service_id(id=sid["id"]).get_result()["locked"] is True
    for attempt in (
        lambda: iam.update_service_id(id=sid["id"], if_match="*", name="x"),
        lambda: iam.delete_service_id(id=sid["id"]),
    ):
        with pytest.raises(ApiException) as locked:
            attempt()
        assert locked.value.code == 409
        assert sid["id"] in locked.value.message
    assert iam.unlock_service_id(id=sid["id"]).get_status_code() == 204

    assert iam.delete_service_id(id=sid["id"]).get_status_code() == 204
    with pytest.raises(ApiException) as gone:
        iam.get_service_id(id=sid["id"])
    assert gone.value.code == 404
    assert sid["id"] in gone.value.message


def test_service_id_with_api_key_authenticates_and_delete_removes_its_keys(
    server: LiveServer, iam: IamIdentityV1
) -> None:
    sid = iam.create_service_id(
        account_id=server.account_id,
        name=unique("svc"),
        apikey={"name": "svc-key", "description": "for the app", "store_value": True},
    ).get_result()
    value = sid["apikey"]["apikey"]
    assert sid["apikey"]["iam_id"] == sid["iam_id"]

    # A stored service-ID key can be read back; the app authenticates with it as the service ID.
    again = iam.get_api_key(id=sid["apikey"]["id"]).get_result()
    assert again["apikey"] == value
    as_service = identity_client(server, value)
    claims = claims_of(as_service.authenticator.token_manager.get_token())
    assert claims["iam_id"] == sid["iam_id"]
    assert claims["sub_type"] == "ServiceId"
    assert claims["sub"] == sid["id"]

    assert iam.delete_service_id(id=sid["id"]).get_status_code() == 204
    with pytest.raises(ApiException) as gone:
        iam.get_api_key(id=sid["apikey"]["id"])
    assert gone.value.code == 404


def test_user_api_key_lifecycle(server: LiveServer, iam: IamIdentityV1) -> None:
    name = unique("Python-SDK-IT-ApiKey")
    created = iam.create_api_key(
        name=name,
        iam_id=server.iam_id,
        description="PythonSDK test apikey #1",
        account_id=server.account_id,
        expires_at="2049-01-02T18:30:00+0000",
    )
    assert created.get_status_code() == 201
    key = created.get_result()
    value = key["apikey"]
    assert len(value) >= 43

    got = iam.get_api_key(id=key["id"], include_history=True, include_activity=True)
    body = got.get_result()
    assert body["id"] == key["id"]
    assert body["name"] == name
    assert body["iam_id"] == server.iam_id
    assert body["account_id"] == server.account_id
    assert body["created_by"] == server.iam_id
    assert body["created_at"] is not None
    assert body["locked"] is False and body["disabled"] is False
    assert body["crn"].endswith(f"::apikey:{key['id']}")
    assert body["support_sessions"] is False
    assert body["action_when_leaked"] == "disable"
    assert body["expires_at"] == "2049-01-02T18:30+0000"
    assert "apikey" not in body  # a user key's value is shown only at creation

    details = iam.get_api_keys_details(iam_api_key=value).get_result()
    assert details["id"] == key["id"] and details["iam_id"] == server.iam_id

    etag = got.get_headers()["Etag"]
    updated = iam.update_api_key(
        id=key["id"], if_match=etag, name=name + "-2", description=""
    ).get_result()
    assert updated["name"] == name + "-2" and updated["description"] == ""

    # Disabled keys cannot log in; enabled again, they can.
    assert iam.disable_api_key(id=key["id"]).get_status_code() == 204
    with pytest.raises(ApiException) as refused:
        identity_client(server, value).authenticator.token_manager.get_token()
    assert refused.value.code == 400
    assert iam.enable_api_key(id=key["id"]).get_status_code() == 204
    assert identity_client(server, value).authenticator.token_manager.get_token()

    assert iam.lock_api_key(id=key["id"]).get_status_code() == 204
    with pytest.raises(ApiException) as locked:
        iam.delete_api_key(id=key["id"])
    assert locked.value.code == 409
    assert iam.unlock_api_key(id=key["id"]).get_status_code() == 204
    assert iam.delete_api_key(id=key["id"]).get_status_code() == 204
    with pytest.raises(ApiException) as deleted:
        identity_client(server, value).authenticator.token_manager.get_token()
    assert deleted.value.code == 400


def test_user_keys_cannot_be_stored(server: LiveServer, iam: IamIdentityV1) -> None:
    with pytest.raises(ApiException) as refused:
        iam.create_api_key(name="x", iam_id=server.iam_id, store_value=True)
    assert refused.value.code == 400
    assert "store_value" in refused.value.message


def test_list_pagination_follows_next_links(server: LiveServer, iam: IamIdentityV1) -> None:
    marker = unique("Python-page")
    made = {
        iam.create_service_id(account_id=server.account_id, name=f"{marker}-{i}").get_result()["id"]
        for i in range(5)
    }
    seen: list[str] = []
    token = None
    for _ in range(10):
        page = iam.list_service_ids(
            account_id=server.account_id, filter=f'name sw "{marker}"', pagesize=2, pagetoken=token
        ).get_result()
        assert page["limit"] == 2
        seen += [s["id"] for s in page["serviceids"]]
        token = page_token(page.get("next"))
        if token is None:
            break
    assert sorted(seen) == sorted(made)

    by_name = iam.list_service_ids(account_id=server.account_id, name=f"{marker}-3").get_result()
    assert [s["name"] for s in by_name["serviceids"]] == [f"{marker}-3"]


def test_list_api_keys_with_filter_and_sort(server: LiveServer, iam: IamIdentityV1) -> None:
    marker = unique("Python")
    for suffix in ("b", "a", "c"):
        iam.create_api_key(name=f"{marker}-{suffix}", iam_id=server.iam_id)
    listed = iam.list_api_keys(
        account_id=server.account_id,
        iam_id=server.iam_id,
        filter=f'name co "{marker}"',
        sort="name",
        order="desc",
        pagesize=100,
    ).get_result()
    assert [k["name"] for k in listed["apikeys"]] == [f"{marker}-c", f"{marker}-b", f"{marker}-a"]
    assert all("apikey" not in k for k in listed["apikeys"])


def test_accounts_do_not_see_each_other(server: LiveServer, iam: IamIdentityV1) -> None:
    other = server.container.identity.create_account("other", "other@example.com", None)
    theirs = identity_client(server, other.owner_key.value)
    secret = theirs.create_service_id(
        account_id=other.account.id, name=unique("theirs")
    ).get_result()

    # An object in another account answers exactly like one that does not exist.
    with pytest.raises(ApiException) as foreign:
        iam.get_service_id(id=secret["id"])
    with pytest.raises(ApiException) as missing:
        iam.get_service_id(id=f"ServiceId-{uuid.uuid4()}")
    assert foreign.value.code == missing.value.code == 404
    ghost = missing.value.message.split("`")[1]
    assert foreign.value.message.replace(secret["id"], ghost) == missing.value.message
    for attempt in (
        lambda: iam.delete_service_id(id=secret["id"]),
        lambda: iam.update_service_id(id=secret["id"], if_match="*", name="mine now"),
        lambda: iam.lock_service_id(id=secret["id"]),
        lambda: iam.get_api_keys_details(iam_api_key=other.owner_key.value),
    ):
        with pytest.raises(ApiException) as denied:
            attempt()
        assert denied.value.code == 404
    with pytest.raises(ApiException) as listing:
        iam.list_service_ids(account_id=other.account.id)
    assert listing.value.code == 403
    with pytest.raises(ApiException) as creating:
        iam.create_service_id(account_id=other.account.id, name="intruder")
    assert creating.value.code == 403
    mine = iam.list_service_ids(account_id=server.account_id, pagesize=100).get_result()[
        "serviceids"
    ]
    assert all(s["account_id"] == server.account_id for s in mine)
    assert theirs.get_service_id(id=secret["id"]).get_result()["name"] == secret["name"]


def test_tokens_expire_and_refresh_in_the_sdk(server: LiveServer) -> None:
    client = identity_client(server)
    manager = client.authenticator.token_manager
    first = manager.get_token()
    manager.expire_time = int(time.time()) - 1  # make the SDK think its token has expired
    time.sleep(1.1)  # a new token differs in iat/jti
    second = manager.get_token()
    assert second != first
    assert client.list_service_ids(account_id=server.account_id).get_status_code() == 200
