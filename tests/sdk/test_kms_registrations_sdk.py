"""Registrations and event acknowledgement (spec kms-api.md §3 rows 29-32, §3.8).

The official client lists registrations; only services make them (the py3, go and java clients
no longer expose registration CRUD), so the service side is driven over HTTP here, as a service
would: with the token of a Cloud Object Storage instance's service credential (a resource key,
made with the official ResourceControllerV2), which the tenant granted Reader on its key
management instance.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from ibm_cloud_sdk_core import ApiException
from ibm_cloud_sdk_core.authenticators import IAMAuthenticator
from ibm_platform_services import ResourceControllerV2

from tests.sdk.kms_helpers import (
    Kms,
    Tenant,
    create_key,
    grant,
    kms,
    new_tenant,
    reason,
    result_json,
    role_crn,
)

__all__ = ["kms"]  # the module-scoped fixture

COS_PLAN = "744bfc56-d12c-4866-88d5-dac9139e0e5d"  # cloud-object-storage `standard`
INPUT = "application/vnd.ibm.kms.registration_input+json"
ACK = "application/vnd.ibm.kms.event_acknowledge+json"


@dataclass
class Service:
    """A service instance and the token its credential gets from /identity/token."""

    instance: str  # its GUID
    iam_id: str
    token: str

    def crn(self, tenant: Tenant, resource: str) -> str:
        return (
            f"crn:v1:bluemix:public:cloud-object-storage:global:a/{tenant.account_id}"
            f":{self.instance}:{resource}"
        )


def token_for(url: str, apikey: str) -> str:
    found = httpx.post(
        f"{url}/identity/token",
        data={"grant_type": "urn:ibm:params:oauth:grant-type:apikey", "apikey": apikey},
    )
    assert found.status_code == 200, found.text
    token: str = found.json()["access_token"]
    return token


def storage_service(kms: Kms, tenant: Tenant) -> Service:
    """A Cloud Object Storage instance of the tenant and its resource key's identity."""
    rc = ResourceControllerV2(authenticator=IAMAuthenticator(tenant.apikey, url=kms.server.url))
    rc.set_service_url(kms.server.url)
    kms_instance = rc.get_resource_instance(id=tenant.instance).get_result()
    cos = rc.create_resource_instance(
        name=f"cos-{uuid.uuid4().hex[:6]}",
        target="global",
        resource_group=kms_instance["resource_group_id"],
        resource_plan_id=COS_PLAN,
    ).get_result()
    key = rc.create_resource_key(name="kms-registrar", source=cos["guid"]).get_result()
    credentials = key["credentials"]
    iam_id = "iam-" + credentials["iam_serviceid_crn"].rsplit(":", 1)[1]
    return Service(cos["guid"], iam_id, token_for(kms.server.url, credentials["apikey"]))


def call(
    kms: Kms,
    tenant: Tenant,
    token: str,
    method: str,
    path: str,
    resource: dict[str, Any] | None = None,
    collection_type: str = INPUT,
) -> httpx.Response:
    body = None
    if resource is not None:
        body = {
            "metadata": {"collectionType": collection_type, "collectionTotal": 1},
            "resources": [resource],
        }
    return httpx.request(
        method,
        f"{kms.server.url}/api/v2{path}",
        json=body,
        headers={"Authorization": f"Bearer {token}", "Bluemix-Instance": tenant.instance},
    )


def at(key_id: str, crn: str) -> str:
    return f"/keys/{key_id}/registrations/{quote(crn, safe='')}"


def code(response: httpx.Response) -> str:
    found: str = response.json()["resources"][0]["reasons"][0]["code"]
    return found


def refused(method: Any, **kwargs: Any) -> ApiException:
    with pytest.raises(ApiException) as caught:
        method(**kwargs)
    return caught.value


def test_services_register_resources_and_users_list_them(kms: Kms) -> None:
    tenant = new_tenant(kms.server)
    kp, inst = tenant.client, tenant.instance
    root = create_key(tenant, "bucket-root")
    standard = create_key(tenant, "standard", extractable=True)
    empty = result_json(
        kp.get_registrations(id=root["id"], bluemix_instance=inst, total_count=True)
    )
    assert empty["resources"] == [] and empty["metadata"]["totalCount"] == 0
    assert empty["metadata"]["collectionType"] == "application/vnd.ibm.kms.registration+json"
    none = result_json(kp.get_registrations_all_keys(bluemix_instance=inst))
    assert none["resources"] == []

    cos = storage_service(kms, tenant)
    photos = cos.crn(tenant, "bucket:photos")
    made = call(kms, tenant, cos.token, "POST", at(root["id"], photos), {"description": "x"})
    assert made.status_code == 401  # a service needs the key's IAM action like anyone
    grant(kms.server, tenant, cos.iam_id, role_crn("Reader"))

    # A user, even the owner, makes no registration (spec §1.5 SERVICE_ONLY_ERR).
    owner = call(kms, tenant, _owner_token(kms, tenant), "POST", at(root["id"], photos), {})
    assert owner.status_code == 403 and code(owner) == "SERVICE_ONLY_ERR"

    made = call(
        kms,
        tenant,
        cos.token,
        "POST",
        at(root["id"], photos),
        {"description": "photo bucket", "registrationMetadata": "shard=7"},
    )
    assert made.status_code == 201, made.text
    item = made.json()["resources"][0]
    assert item["keyId"] == root["id"] and item["keyName"] == "bucket-root"
    assert item["resourceCrn"] == photos and item["preventKeyDeletion"] is False
    assert item["keyVersion"]["id"] == root["keyVersion"]["id"]
    assert item["createdBy"] == cos.iam_id and item["registrationMetadata"] == "shard=7"
    again = call(kms, tenant, cos.token, "POST", at(root["id"], photos), {})
    assert again.status_code == 409 and code(again) == "REGISTRATION_ALREADY_EXISTS_ERR"

    # Its own instance's resources only, on root keys only.
    elsewhere = photos.replace(cos.instance, str(uuid.uuid4()))
    foreign = call(kms, tenant, cos.token, "POST", at(root["id"], elsewhere), {})
    assert foreign.status_code == 403 and code(foreign) == "RESOURCE_OWNER_ERR"
    not_crn = call(kms, tenant, cos.token, "POST", at(root["id"], "bucket-photos"), {})
    assert not_crn.status_code == 400
    std = call(kms, tenant, cos.token, "POST", at(standard["id"], photos), {})
    assert std.status_code == 422 and code(std) == "KEY_ROOT_REQ_REG_ERR"

    # A CRN holding `/` (s2sdoc: `...::/agentid=1234`) and no body at all.
    agent = cos.crn(tenant, ":/agentid=1234")
    assert call(kms, tenant, cos.token, "POST", at(root["id"], agent)).status_code == 201
    logs = cos.crn(tenant, "bucket:logs")
    worm = {"description": "logs", "preventKeyDeletion": True}
    assert call(kms, tenant, cos.token, "POST", at(root["id"], logs), worm).status_code == 201

    # Users list them with the official client; registrationMetadata is for services alone.
    listed = result_json(kp.get_registrations(id=root["id"], bluemix_instance=inst))
    assert {r["resourceCrn"] for r in listed["resources"]} == {photos, agent, logs}
    assert all("registrationMetadata" not in r for r in listed["resources"])
    everything = result_json(kp.get_registrations_all_keys(bluemix_instance=inst, total_count=True))
    assert everything["metadata"]["totalCount"] == 3
    page = result_json(
        kp.get_registrations_all_keys(bluemix_instance=inst, limit=1, offset=2, total_count=True)
    )
    assert len(page["resources"]) == 1 and page["metadata"]["totalCount"] == 3
    buckets = result_json(
        kp.get_registrations_all_keys(
            bluemix_instance=inst, url_encoded_resource_crn_query=cos.crn(tenant, "bucket:ph*")
        )
    )
    assert [r["resourceCrn"] for r in buckets["resources"]] == [photos]
    any_type = result_json(
        kp.get_registrations(
            id=root["id"],
            bluemix_instance=inst,
            url_encoded_resource_crn_query=cos.crn(tenant, "*:*"),
        )
    )
    assert len(any_type["resources"]) == 3
    kept = result_json(
        kp.get_registrations(id=root["id"], bluemix_instance=inst, prevent_key_deletion=True)
    )
    assert [r["resourceCrn"] for r in kept["resources"]] == [logs]
    too_wide = refused(
        kp.get_registrations_all_keys,
        bluemix_instance=inst,
        url_encoded_resource_crn_query="crn:v1:bluemix:public:*:global:*:*:bucket:photos",
    )
    assert too_wide.code == 400 and reason(too_wide) == "INVALID_QUERY_PARAM_ERR"
    in_default = result_json(
        kp.get_registrations_all_keys(bluemix_instance=inst, x_kms_key_ring="default")
    )
    assert len(in_default["resources"]) == 3
    # The service sees its own metadata.
    seen = httpx.get(
        f"{kms.server.url}/api/v2/keys/registrations",
        headers={"Authorization": f"Bearer {cos.token}", "Bluemix-Instance": inst},
    ).json()["resources"]
    assert {r["resourceCrn"]: r["registrationMetadata"] for r in seen}[photos] == "shard=7"

    # PATCH merges, PUT replaces and records the key's current version.
    merged = call(
        kms, tenant, cos.token, "PATCH", at(root["id"], photos), {"preventKeyDeletion": True}
    )
    assert merged.status_code == 200
    item = merged.json()["resources"][0]
    assert item["preventKeyDeletion"] is True and item["description"] == "photo bucket"
    assert item["registrationMetadata"] == "shard=7"
    kp.rotate_key(id=root["id"], bluemix_instance=inst)
    latest = result_json(kp.get_key_metadata(id=root["id"], bluemix_instance=inst))
    replaced = call(kms, tenant, cos.token, "PUT", at(root["id"], photos), {"description": "new"})
    assert replaced.status_code == 200
    item = replaced.json()["resources"][0]
    assert item["description"] == "new" and item["preventKeyDeletion"] is False
    assert item["registrationMetadata"] == ""
    assert item["keyVersion"]["id"] == latest["resources"][0]["keyVersion"]["id"] != root["id"]
    missing = call(
        kms, tenant, cos.token, "PUT", at(root["id"], cos.crn(tenant, "bucket:none")), {}
    )
    assert missing.status_code == 404 and code(missing) == "REGISTRATION_NOT_FOUND_ERR"

    # DELETE: 204, then 404.
    assert call(kms, tenant, cos.token, "DELETE", at(root["id"], agent)).status_code == 204
    gone = call(kms, tenant, cos.token, "DELETE", at(root["id"], agent))
    assert gone.status_code == 404 and code(gone) == "REGISTRATION_NOT_FOUND_ERR"
    user_delete = call(kms, tenant, _owner_token(kms, tenant), "DELETE", at(root["id"], photos))
    assert user_delete.status_code == 403 and code(user_delete) == "SERVICE_ONLY_ERR"

    # Registrations protect the key: preventKeyDeletion blocks even a forced delete.
    protected = refused(kp.delete_key, id=root["id"], bluemix_instance=inst)
    assert protected.code == 409 and reason(protected) == "PROTECTED_RESOURCE_ERR"
    worm_kept = refused(kp.delete_key, id=root["id"], bluemix_instance=inst, force=True)
    assert worm_kept.code == 409 and reason(worm_kept) == "PREV_KEY_DEL_ERR"
    lifted = call(
        kms, tenant, cos.token, "PATCH", at(root["id"], logs), {"preventKeyDeletion": False}
    )
    assert lifted.status_code == 200
    still = refused(kp.delete_key, id=root["id"], bluemix_instance=inst)
    assert still.code == 409 and reason(still) == "PROTECTED_RESOURCE_ERR"
    # Force removes them with the key.
    assert kp.delete_key(id=root["id"], bluemix_instance=inst, force=True).get_status_code() == 204
    after = result_json(kp.get_registrations_all_keys(bluemix_instance=inst, total_count=True))
    assert after["resources"] == [] and after["metadata"]["totalCount"] == 0
    late = call(kms, tenant, cos.token, "POST", at(root["id"], photos), {})
    assert late.status_code == 410 and code(late) == "KEY_DELETED_ERR"


def test_a_disabled_key_takes_no_new_registration_but_lets_one_go(kms: Kms) -> None:
    tenant = new_tenant(kms.server)
    kp, inst = tenant.client, tenant.instance
    root = create_key(tenant, "root")
    cos = storage_service(kms, tenant)
    grant(kms.server, tenant, cos.iam_id, role_crn("Reader"))
    one, two = cos.crn(tenant, "bucket:one"), cos.crn(tenant, "bucket:two")
    assert call(kms, tenant, cos.token, "POST", at(root["id"], one)).status_code == 201
    kp.disable_key(id=root["id"], bluemix_instance=inst)
    refused_new = call(kms, tenant, cos.token, "POST", at(root["id"], two))
    assert refused_new.status_code == 422 and code(refused_new) == "KEY_INVALID_STATE_ERR"
    assert call(kms, tenant, cos.token, "DELETE", at(root["id"], one)).status_code == 204


def test_only_services_acknowledge_events(kms: Kms) -> None:
    tenant = new_tenant(kms.server)
    cos = storage_service(kms, tenant)
    grant(kms.server, tenant, cos.iam_id, role_crn("Reader"))
    event = {
        "eventId": str(uuid.uuid4()),
        "adopterKeyState": "DEK_ENABLED",
        "timestamp": "2030-01-01T00:00:00Z",
        "keyStateData": {"rewrappedKeyVersion": str(uuid.uuid4())},
    }
    done = call(kms, tenant, cos.token, "POST", "/event_ack", event, ACK)
    assert done.status_code == 204 and done.content == b""
    owner = call(kms, tenant, _owner_token(kms, tenant), "POST", "/event_ack", event, ACK)
    assert owner.status_code == 403 and code(owner) == "SERVICE_ONLY_ERR"
    for bad in (
        {**event, "timestamp": "yesterday"},
        {k: v for k, v in event.items() if k != "eventId"},
    ):
        wrong = call(kms, tenant, cos.token, "POST", "/event_ack", bad, ACK)
        assert wrong.status_code == 400 and code(wrong) == "INVALID_FIELD_ERR"


def _owner_token(kms: Kms, tenant: Tenant) -> str:
    return token_for(kms.server.url, tenant.apikey)
