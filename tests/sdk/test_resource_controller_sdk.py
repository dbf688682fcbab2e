"""The official SDK's `ResourceControllerV2` against a live server, on SQLite and PostgreSQL:
instances (create, list and page, get by GUID and by CRN, update, lock, delete into
reclamation, restore, reclaim) and resource keys whose API keys can do exactly what their
role allows on their instance. Each test makes its own account."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from ibm_cloud_sdk_core import ApiException
from ibm_cloud_sdk_core.authenticators import IAMAuthenticator
from ibm_platform_services import ResourceControllerV2, ResourceManagerV2
from ibm_platform_services.resource_controller_v2 import ResourceInstance, ResourceKey

from strongroom.testing.server import LiveServer

KMS_PLAN = "eedd3585-90c6-4c8f-be3d-062069e99fc3"  # kms tiered-pricing (plans.yaml)
COS_LITE = "2fdf0c08-2d32-4f46-84b5-32e0c92fffd8"
READER = "crn:v1:bluemix:public:iam::::serviceRole:Reader"


def rc_client(server: LiveServer, apikey: str) -> ResourceControllerV2:
    client = ResourceControllerV2(authenticator=IAMAuthenticator(apikey, url=server.url))
    client.set_service_url(server.url)
    return client


def new_account(server: LiveServer) -> tuple[str, str]:
    tag = uuid.uuid4().hex[:8]
    made = server.container.identity.create_account(f"rc {tag}", f"rc.{tag}@example.com", None)
    return made.account.id, made.owner_key.value


def group(server: LiveServer, apikey: str) -> str:
    """A fresh resource group in the key's account, made with the official ResourceManagerV2."""
    rm = ResourceManagerV2(authenticator=IAMAuthenticator(apikey, url=server.url))
    rm.set_service_url(server.url)
    return str(rm.create_resource_group(name=f"rg-{uuid.uuid4().hex[:8]}").get_result()["id"])


def start_of(url: str | None) -> str | None:
    return None if url is None else parse_qs(urlparse(url).query)["start"][0]


def test_instances_create_list_page_get_update_lock(server: LiveServer) -> None:
    account, key = new_account(server)
    rc = rc_client(server, key)
    rg = group(server, key)
    made = rc.create_resource_instance(
        name="kp-1", target="us-south", resource_group=rg, resource_plan_id=KMS_PLAN,
        tags=["env:test"], parameters={"allowed_network": "public-and-private"},
    )  # fmt: skip
    assert made.get_status_code() == 201
    kp = made.get_result()
    ResourceInstance.from_dict(kp)
    guid = kp["guid"]
    assert kp["id"] == kp["crn"] == f"crn:v1:bluemix:public:kms:us-south:a/{account}:{guid}::"
    assert (kp["state"], kp["resource_id"], kp["region_id"]) == ("active", "kms", "us-south")
    assert kp["resource_group_id"] == rg
    assert kp["resource_group_crn"].endswith(f"a/{account}::resource-group:{rg}")
    assert kp["parameters"] == {"allowed_network": "public-and-private"}
    assert kp["last_operation"]["state"] == "succeeded" and kp["locked"] is False

    for i in range(3):
        rc.create_resource_instance(
            name=f"cos-{i}", target="global", resource_group=rg, resource_plan_id=COS_LITE
        )
    # Paging with `start` from `next_url`, as the SDK's pager does.
    first = rc.list_resource_instances(limit=3).get_result()
    assert first["rows_count"] == 3 and first["next_url"].startswith("/v2/resource_instances?")
    rest = rc.list_resource_instances(limit=3, start=start_of(first["next_url"])).get_result()
    assert rest["rows_count"] == 1 and rest["next_url"] is None
    names = [r["name"] for r in first["resources"] + rest["resources"]]
    assert names == ["kp-1", "cos-0", "cos-1", "cos-2"]
    kms_only = rc.list_resource_instances(resource_id="kms").get_result()["resources"]
    assert [r["guid"] for r in kms_only] == [guid]
    by_name = rc.list_resource_instances(name="cos-1").get_result()["resources"]
    assert [r["name"] for r in by_name] == ["cos-1"]

    # By GUID and by URL-encoded CRN (the SDK quotes the path parameter).
    assert rc.get_resource_instance(id=guid).get_result()["crn"] == kp["crn"]
    assert rc.get_resource_instance(id=kp["crn"]).get_result()["guid"] == guid

    updated = rc.update_resource_instance(id=guid, name="kp-renamed", parameters={"a": 1})
    assert updated.get_result()["name"] == "kp-renamed"
    assert updated.get_result()["parameters"] == {"a": 1}

    locked = rc.lock_resource_instance(id=guid).get_result()
    assert locked["locked"] is True
    with pytest.raises(ApiException) as refused:
        rc.update_resource_instance(id=guid, name="nope")
    assert refused.value.status_code == 400 and "locked" in refused.value.message
    with pytest.raises(ApiException) as refused:
        rc.delete_resource_instance(id=guid)
    assert refused.value.status_code == 400 and "locked" in refused.value.message
    assert rc.unlock_resource_instance(id=guid).get_result()["locked"] is False
    with pytest.raises(ApiException) as idle:
        rc.cancel_lastop_resource_instance(id=guid)
    assert idle.value.message == "The instance is not cancelable."
    assert rc.get_resource_instance(id=guid).get_result()["name"] == "kp-renamed"


def test_delete_into_reclamation_then_restore_or_reclaim(server: LiveServer) -> None:
    account, key = new_account(server)
    rc = rc_client(server, key)
    rg = group(server, key)
    ids = [
        rc.create_resource_instance(
            name=f"kp-{n}", target="eu-de", resource_group=rg, resource_plan_id=KMS_PLAN
        ).get_result()["guid"]
        for n in range(2)
    ]
    for guid in ids:
        assert rc.delete_resource_instance(id=guid).get_status_code() == 204
        pending = rc.get_resource_instance(id=guid).get_result()
        assert pending["state"] == "pending_reclamation" and pending["deleted_by"]
    assert rc.list_resource_instances().get_result()["rows_count"] == 0
    listed = rc.list_resource_instances(state="pending_reclamation").get_result()
    assert sorted(r["guid"] for r in listed["resources"]) == sorted(ids)

    reclamations = rc.list_reclamations(account_id=account).get_result()["resources"]
    by_instance = {r["resource_instance_id"]: r for r in reclamations}
    assert set(by_instance) == set(ids)
    assert all(r["state"] == "SCHEDULED" for r in reclamations)
    assert rc.list_reclamations(account_id="0" * 32).get_result()["resources"] == []

    restore, reclaim = (by_instance[g]["id"] for g in ids)
    done = rc.run_reclamation_action(id=restore, action_name="restore").get_result()
    assert done["state"] == "RESTORING"
    assert rc.get_resource_instance(id=ids[0]).get_result()["state"] == "active"
    done = rc.run_reclamation_action(id=reclaim, action_name="reclaim", comment="gone").get_result()
    assert done["state"] == "RECLAIMING"
    removed = rc.get_resource_instance(id=ids[1]).get_result()
    assert removed["state"] == "removed"  # readable after removal (spec §8)
    assert rc.list_reclamations().get_result()["resources"] == []
    with pytest.raises(ApiException) as again:
        rc.run_reclamation_action(id=reclaim, action_name="restore")
    assert again.value.status_code == 400 and "RECLAIMING" in again.value.message
    with pytest.raises(ApiException) as unknown:
        rc.run_reclamation_action(id=restore, action_name="purge")
    assert unknown.value.status_code == 400 and "action_name" in unknown.value.message


def authz(server: LiveServer, owner_key: str, iam_id: str, action: str, attrs: Any) -> bool:
    """The decision point's answer (spec §12) for `iam_id` doing `action` on `attrs`."""
    with httpx.Client(base_url=server.url, timeout=10) as http:
        token = http.post(
            "/identity/token",
            data={"grant_type": "urn:ibm:params:oauth:grant-type:apikey", "apikey": owner_key},
        ).json()["access_token"]
        answer = http.post(
            "/v2/authz",
            json=[{"subject": {"attributes": {"id": iam_id}}, "action": action,
                   "resource": {"attributes": attrs}}],
            headers={"Authorization": f"Bearer {token}"},
        )  # fmt: skip
    assert answer.status_code == 200, answer.text
    return bool(answer.json()["responses"][0]["authorizationDecision"]["permitted"])


def test_resource_keys_make_credentials_that_do_what_their_role_allows(
    server: LiveServer,
) -> None:
    account, key = new_account(server)
    rc = rc_client(server, key)
    rg = group(server, key)
    kp = rc.create_resource_instance(
        name="kp", target="us-south", resource_group=rg, resource_plan_id=KMS_PLAN
    ).get_result()
    other = rc.create_resource_instance(
        name="kp-other", target="us-south", resource_group=rg, resource_plan_id=KMS_PLAN
    ).get_result()
    made = rc.create_resource_key(name="reader", source=kp["guid"], role="Reader")
    assert made.get_status_code() == 201
    created = made.get_result()
    ResourceKey.from_dict(created)
    creds = created["credentials"]
    assert creds["iam_role_crn"] == READER
    assert creds["iam_serviceid_crn"].startswith(f"crn:v1:bluemix:public:iam-identity::a/{account}")
    assert creds["apikey"] and creds["iam_apikey_name"].startswith("auto-generated-apikey-")
    assert created["source_crn"] == kp["crn"] and created["state"] == "active"
    assert created["crn"].endswith(f":{kp['guid']}:resource-key:{created['guid']}")

    # The key's API key logs in as the key's service ID, which holds Reader on this instance.
    sid = "iam-" + creds["iam_serviceid_crn"].rsplit(":", 1)[1]
    on_kp = {"accountId": account, "serviceName": "kms", "serviceInstance": kp["guid"]}
    on_other = {**on_kp, "serviceInstance": other["guid"]}
    assert authz(server, key, sid, "kms.secrets.list", on_kp)
    assert not authz(server, key, sid, "kms.secrets.create", on_kp)
    assert not authz(server, key, sid, "kms.secrets.list", on_other)
    with httpx.Client(base_url=server.url, timeout=10) as http:
        login = http.post(
            "/identity/token",
            data={"grant_type": "urn:ibm:params:oauth:grant-type:apikey",
                  "apikey": creds["apikey"]},
        )  # fmt: skip
    assert login.status_code == 200

    # Reads redact the value; lists, by instance, rename.
    read = rc.get_resource_key(id=created["guid"]).get_result()
    assert "apikey" not in read["credentials"] and read["credentials"]["REDACTED"] == "REDACTED"
    assert rc.get_resource_key(id=created["crn"]).get_result()["guid"] == created["guid"]
    listed = rc.list_resource_keys_for_instance(id=kp["guid"]).get_result()
    assert [k["guid"] for k in listed["resources"]] == [created["guid"]]
    assert rc.list_resource_keys(name="reader").get_result()["rows_count"] == 1
    renamed = rc.update_resource_key(id=created["guid"], name="renamed").get_result()
    assert renamed["name"] == "renamed"

    # An instance with keys is not deleted unless recursively.
    with pytest.raises(ApiException) as refused:
        rc.delete_resource_instance(id=kp["guid"])
    assert refused.value.status_code == 400 and created["guid"] in refused.value.message
    with pytest.raises(ApiException) as bad_role:
        rc.create_resource_key(name="x", source=kp["guid"], role="Janitor")
    assert bad_role.value.status_code == 400 and "Janitor" in bad_role.value.message

    # Deleting the key removes its service ID, API key and policy: the access goes at once.
    assert rc.delete_resource_key(id=created["guid"]).get_status_code() == 204
    assert not authz(server, key, sid, "kms.secrets.list", on_kp)
    assert rc.get_resource_key(id=created["guid"]).get_result()["state"] == "removed"
    with httpx.Client(base_url=server.url, timeout=10) as http:
        login = http.post(
            "/identity/token",
            data={"grant_type": "urn:ibm:params:oauth:grant-type:apikey",
                  "apikey": creds["apikey"]},
        )  # fmt: skip
    assert login.status_code == 400

    # Recursive delete takes the remaining keys with it.
    writer = rc.create_resource_key(name="w", source=kp["guid"], role="Writer").get_result()
    assert rc.delete_resource_instance(id=kp["guid"], recursive=True).get_status_code() == 204
    assert rc.get_resource_key(id=writer["guid"]).get_result()["state"] == "removed"
    writer_sid = "iam-" + writer["credentials"]["iam_serviceid_crn"].rsplit(":", 1)[1]
    assert not authz(server, key, writer_sid, "kms.secrets.create", on_kp)
