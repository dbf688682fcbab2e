"""Key policies and instance policies through the official Key Protect client (`keyprotect` 3.x,
`IbmKeyProtectApiV2`) against a live server (spec kms-api.md §3 rows 2, 22-26, §3.1, §3.6,
Appendix A): what each policy does to creating, importing, deleting and reaching keys, and
automatic rotation once its interval has passed on the key-management clock."""

from __future__ import annotations

import base64
import time
import uuid
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from ibm_cloud_sdk_core import ApiException
from ibm_cloud_sdk_core.authenticators import IAMAuthenticator
from ibm_platform_services import IamIdentityV1

from strongroom.config import Settings
from strongroom.store.sql.tables import kms_instances
from strongroom.testing import FrozenClock
from tests.conftest import start_server
from tests.sdk.kms_helpers import (
    KEY_TYPE,
    Kms,
    Tenant,
    body,
    create_key,
    envelope,
    grant,
    kms,
    kp_client,
    new_tenant,
    reason,
    result_json,
    role_crn,
)

__all__ = ["kms"]  # the module-scoped fixture

POLICY_TYPE = "application/vnd.ibm.kms.policy+json"
DAY = 86400


def policies(*resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "metadata": {"collectionType": POLICY_TYPE, "collectionTotal": len(resources)},
        "resources": list(resources),
    }


def rotation(**data: Any) -> dict[str, Any]:
    return {"type": POLICY_TYPE, "rotation": data}


def dual_auth(enabled: bool) -> dict[str, Any]:
    return {"type": POLICY_TYPE, "dualAuthDelete": {"enabled": enabled}}


def kind_of(item: dict[str, Any]) -> str:
    return next(kind for kind in ("rotation", "dualAuthDelete") if kind in item)


def instance_policy(kind: str, enabled: bool = True, **attributes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"enabled": enabled}
    if attributes:
        data["attributes"] = attributes
    return {"policy_type": kind, "policy_data": data}


def key_policies(tenant: Tenant, kid: str, policy: str | None = None) -> list[dict[str, Any]]:
    found = tenant.client.get_policy(id=kid, bluemix_instance=tenant.instance, policy=policy)
    assert found.get_status_code() == 200
    data = result_json(found)
    assert data["metadata"]["collectionType"] == POLICY_TYPE
    items: list[dict[str, Any]] = data["resources"]
    return items


def set_instance_policies(tenant: Tenant, *resources: Any, policy: str | None = None) -> None:
    done = tenant.client.put_instance_policy(
        bluemix_instance=tenant.instance,
        instance_policy_put_body=policies(*resources),
        policy=policy,
    )
    assert done.get_status_code() == 204


def instance_policies(tenant: Tenant, policy: str | None = None) -> list[dict[str, Any]]:
    found = tenant.client.get_instance_policy(bluemix_instance=tenant.instance, policy=policy)
    assert found.get_status_code() == 200
    items: list[dict[str, Any]] = result_json(found)["resources"]
    return items


def metadata(tenant: Tenant, kid: str) -> dict[str, Any]:
    found = tenant.client.get_key_metadata(id=kid, bluemix_instance=tenant.instance)
    key: dict[str, Any] = result_json(found)["resources"][0]
    return key


def key_names(tenant: Tenant) -> set[str]:
    listed = result_json(tenant.client.get_keys(bluemix_instance=tenant.instance))
    return {k["name"] for k in listed["resources"]}


def create_with_overrides(tenant: Tenant, name: str, **fields: Any) -> dict[str, Any]:
    made = tenant.client.create_key_with_policies_overrides(
        bluemix_instance=tenant.instance,
        key_with_policy_overrides_create_body=envelope({"type": KEY_TYPE, "name": name, **fields}),
        prefer="return=representation",
    )
    assert made.get_status_code() == 201
    assert made.get_headers()["content-type"].startswith(KEY_TYPE)  # spec §1.4
    key: dict[str, Any] = result_json(made)["resources"][0]
    return key


def second_manager(kms: Kms, tenant: Tenant) -> tuple[str, Any]:
    """A service ID of the tenant's account with an API key and Manager on the kms instance."""
    iam = IamIdentityV1(authenticator=IAMAuthenticator(tenant.apikey, url=kms.server.url))
    iam.set_service_url(kms.server.url)
    sid = iam.create_service_id(
        account_id=tenant.account_id, name=f"approver-{uuid.uuid4().hex[:6]}"
    ).get_result()
    apikey = iam.create_api_key(
        name="approver", iam_id=sid["iam_id"], account_id=tenant.account_id
    ).get_result()["apikey"]
    grant(kms.server, tenant, sid["iam_id"], role_crn("Manager"))
    return sid["iam_id"], kp_client(kms.server, apikey)


def refused(call: Any, status: int, code: str) -> None:
    with pytest.raises(ApiException) as caught:
        call()
    assert caught.value.code == status, caught.value.http_response.text
    assert reason(caught.value) == code


# -- key policies (spec §3.6) ---------------------------------------------------------------------


def test_key_policies_are_set_read_and_dual_authorization_stays_on(kms: Kms) -> None:
    tenant = new_tenant(kms.server)
    kp, inst = tenant.client, tenant.instance
    key = create_key(tenant, "policy-root")
    kid = key["id"]
    assert key_policies(tenant, kid) == []  # none yet: 200 with no resources

    put = kp.put_policy(
        id=kid,
        bluemix_instance=inst,
        key_policy_put_body=policies(rotation(enabled=True, interval_month=3)),
        policy="rotation",
    )
    assert put.get_status_code() == 200
    (item,) = result_json(put)["resources"]
    assert item["type"] == POLICY_TYPE and item["rotation"] == {
        "enabled": True,
        "interval_month": 3,
    }
    assert item["createdBy"] == item["updatedBy"] == tenant.owner
    assert item["crn"].endswith(f":{inst}:policy:{item['id']}")
    assert metadata(tenant, kid)["rotation"] == {"enabled": True, "interval_month": 3}

    # go's EnableRotationPolicy sends only `enabled`: the interval is kept, the policy the same.
    kp.put_policy(
        id=kid, bluemix_instance=inst, key_policy_put_body=policies(rotation(enabled=False))
    )
    (again,) = key_policies(tenant, kid)
    assert again["id"] == item["id"]
    assert again["rotation"] == {"enabled": False, "interval_month": 3}

    both = kp.put_policy(
        id=kid,
        bluemix_instance=inst,
        key_policy_put_body=policies(dual_auth(True), rotation(interval_month=6)),
    )
    assert [kind_of(p) for p in result_json(both)["resources"]] == ["dualAuthDelete", "rotation"]
    listed = key_policies(tenant, kid)  # rotation first, whatever order they were set in
    assert [p.get("rotation") for p in listed] == [{"enabled": True, "interval_month": 6}, None]
    assert listed[1]["dualAuthDelete"] == {"enabled": True}
    assert [p["dualAuthDelete"] for p in key_policies(tenant, kid, "dualAuthDelete")] == [
        {"enabled": True}
    ]
    assert metadata(tenant, kid)["dualAuthDelete"]["enabled"] is True

    # Once on, dual authorization stays on (spec §3.6); the refusal changes nothing.
    refused(
        lambda: kp.put_policy(
            id=kid,
            bluemix_instance=inst,
            key_policy_put_body=policies(dual_auth(False)),
            policy="dualAuthDelete",
        ),
        400,
        "INVALID_FIELD_ERR",
    )
    assert key_policies(tenant, kid, "dualAuthDelete")[0]["dualAuthDelete"] == {"enabled": True}

    # Bad bodies: the reason code, and nothing written.
    cases = [
        (policies(rotation(interval_month=13)), None, "INVALID_FIELD_ERR"),
        (policies(rotation(interval_month=0)), None, "INVALID_FIELD_ERR"),
        (policies(dual_auth(True)), "rotation", "BODY_QUERY_PARAM_MISMATCH_ERR"),
        (
            policies(rotation(interval_month=2), dual_auth(True)),
            "rotation",
            "NUM_COLLECTION_RESOURCE_ERR",
        ),
        (policies(rotation(interval_month=2)), "expiry", "INVALID_QUERY_PARAM_ERR"),
        (
            policies({"type": POLICY_TYPE, "rotation": {"interval_month": 2, "every": 1}}),
            None,
            "BAD_BODY_ERR",
        ),
    ]
    for sent, param, code in cases:
        refused(
            lambda sent=sent, param=param: kp.put_policy(
                id=kid, bluemix_instance=inst, key_policy_put_body=sent, policy=param
            ),
            400,
            code,
        )
    assert key_policies(tenant, kid) == listed

    standard = create_key(tenant, "policy-std", extractable=True)
    refused(
        lambda: kp.put_policy(
            id=standard["id"],
            bluemix_instance=inst,
            key_policy_put_body=policies(rotation(interval_month=1)),
        ),
        400,
        "KEY_ROOT_REQ_ERR",
    )
    assert key_policies(tenant, standard["id"]) == []

    # A deleted key's policies are neither set nor read.
    gone = create_key(tenant, "policy-gone")["id"]
    kp.delete_key(id=gone, bluemix_instance=inst)
    refused(
        lambda: kp.put_policy(
            id=gone, bluemix_instance=inst, key_policy_put_body=policies(rotation(interval_month=1))
        ),
        410,
        "KEY_DELETED_ERR",
    )
    refused(lambda: kp.get_policy(id=gone, bluemix_instance=inst), 410, "KEY_DELETED_ERR")


def test_dual_authorization_delete_needs_a_second_user_within_seven_days(kms: Kms) -> None:
    tenant = new_tenant(kms.server)
    kp, inst = tenant.client, tenant.instance
    approver_id, approver = second_manager(kms, tenant)

    plain = create_key(tenant, "single-auth")["id"]
    refused(
        lambda: kp.set_key_for_deletion(id=plain, bluemix_instance=inst), 409, "NOT_DUAL_AUTH_ERR"
    )

    kid = create_key(tenant, "dual-auth")["id"]
    kp.put_policy(id=kid, bluemix_instance=inst, key_policy_put_body=policies(dual_auth(True)))
    refused(lambda: kp.delete_key(id=kid, bluemix_instance=inst), 409, "AUTHORIZATIONS_NOT_MET")
    assert kp.set_key_for_deletion(id=kid, bluemix_instance=inst).get_status_code() == 204
    auth = metadata(tenant, kid)["dualAuthDelete"]
    assert auth["enabled"] is True and auth["keySetForDeletion"] is True and auth["authExpiration"]
    # The user who set it cannot also delete it.
    refused(lambda: kp.delete_key(id=kid, bluemix_instance=inst), 409, "AUTHORIZATIONS_NOT_MET")
    assert metadata(tenant, kid)["state"] == 1
    deleted = approver.delete_key(id=kid, bluemix_instance=inst, prefer="return=representation")
    assert deleted.get_status_code() == 200
    gone = result_json(deleted)["resources"][0]
    assert gone["state"] == 5 and gone["deletedBy"] == approver_id

    # An authorization lasts seven days; unset, it is gone at once.
    late = create_key(tenant, "dual-auth-late")["id"]
    kp.put_policy(id=late, bluemix_instance=inst, key_policy_put_body=policies(dual_auth(True)))
    kp.set_key_for_deletion(id=late, bluemix_instance=inst)
    kms.clock.advance(7 * DAY + 1)
    refused(
        lambda: approver.delete_key(id=late, bluemix_instance=inst), 409, "AUTHORIZATIONS_NOT_MET"
    )
    approver.set_key_for_deletion(id=late, bluemix_instance=inst)
    assert kp.unset_key_for_deletion(id=late, bluemix_instance=inst).get_status_code() == 204
    assert metadata(tenant, late)["dualAuthDelete"]["keySetForDeletion"] is False
    refused(lambda: kp.delete_key(id=late, bluemix_instance=inst), 409, "AUTHORIZATIONS_NOT_MET")
    approver.set_key_for_deletion(id=late, bluemix_instance=inst)
    assert kp.delete_key(id=late, bluemix_instance=inst).get_status_code() == 204


# -- instance policies (spec §3.6, Appendix A) and their effect on new keys (§3.1) ---------------


def test_instance_policies_shape_keys_created_afterwards(kms: Kms) -> None:
    tenant = new_tenant(kms.server)
    kp, inst = tenant.client, tenant.instance
    assert instance_policies(tenant) == []  # a fresh instance's first call
    before = create_key(tenant, "before")
    set_instance_policies(
        tenant,
        instance_policy("rotation", interval_month=2),
        instance_policy("metrics", enabled=False),
        instance_policy("dualAuthDelete"),
    )
    listed = instance_policies(tenant)
    assert [p["policy_type"] for p in listed] == ["dualAuthDelete", "metrics", "rotation"]
    by_type = {p["policy_type"]: p for p in listed}
    assert by_type["rotation"]["policy_data"] == {
        "enabled": True,
        "attributes": {"interval_month": 2},
    }
    assert by_type["dualAuthDelete"]["policy_data"] == {"enabled": True}
    for item in listed:
        assert item["createdBy"] == item["updatedBy"] == tenant.owner
        assert item["creationDate"] and item["lastUpdated"]
    assert [p["policy_type"] for p in instance_policies(tenant, "rotation")] == ["rotation"]

    # Existing keys keep what they had.
    assert key_policies(tenant, before["id"]) == []
    assert metadata(tenant, before["id"])["dualAuthDelete"]["enabled"] is False

    root = create_key(tenant, "after-root")
    assert root["rotation"] == {"enabled": True, "interval_month": 2}
    assert root["dualAuthDelete"]["enabled"] is True
    assert [
        p.get("rotation", p.get("dualAuthDelete")) for p in key_policies(tenant, root["id"])
    ] == [{"enabled": True, "interval_month": 2}, {"enabled": True}]
    standard = create_key(tenant, "after-std", extractable=True)
    assert "rotation" not in standard and standard["dualAuthDelete"]["enabled"] is True
    # ... and the new key's dual authorization is enforced.
    refused(
        lambda: kp.delete_key(id=root["id"], bluemix_instance=inst), 409, "AUTHORIZATIONS_NOT_MET"
    )

    # Overrides replace the instance's choice; sending no rotation makes a key without one.
    chosen = create_with_overrides(
        tenant, "overridden", rotation={"interval_month": 6}, dualAuthDelete={"enabled": False}
    )
    assert chosen["rotation"] == {"enabled": True, "interval_month": 6}
    assert chosen["dualAuthDelete"]["enabled"] is False
    assert kp.delete_key(id=chosen["id"], bluemix_instance=inst).get_status_code() == 204
    bare = create_with_overrides(tenant, "no-rotation")
    assert "rotation" not in bare and bare["dualAuthDelete"]["enabled"] is True
    interval_from_instance = create_with_overrides(
        tenant, "instance-interval", rotation={"enabled": True}
    )
    assert interval_from_instance["rotation"] == {"enabled": True, "interval_month": 2}
    known = key_names(tenant)
    refused(
        lambda: create_with_overrides(
            tenant, "std-rotation", extractable=True, rotation={"interval_month": 1}
        ),
        400,
        "KEY_ROOT_REQ_ERR",
    )
    refused(
        lambda: create_with_overrides(tenant, "bad-interval", rotation={"interval_month": 13}),
        400,
        "INVALID_FIELD_ERR",
    )
    assert key_names(tenant) == known

    # Disabling the instance policies stops shaping new keys; the interval is kept for later.
    set_instance_policies(
        tenant,
        instance_policy("rotation", enabled=False),
        instance_policy("dualAuthDelete", enabled=False),
    )
    later = create_key(tenant, "later")
    assert "rotation" not in later and later["dualAuthDelete"]["enabled"] is False
    assert instance_policies(tenant, "rotation")[0]["policy_data"] == {
        "enabled": False,
        "attributes": {"interval_month": 2},
    }


def test_key_create_import_access_refuses_what_it_does_not_allow(kms: Kms) -> None:
    tenant = new_tenant(kms.server)
    kp, inst = tenant.client, tenant.instance
    set_instance_policies(
        tenant,
        instance_policy("keyCreateImportAccess", create_root_key=False, import_standard_key=False),
        policy="keyCreateImportAccess",
    )
    (item,) = instance_policies(tenant)
    assert item["policy_data"]["attributes"] == {  # omitted attributes take their defaults
        "create_root_key": False,
        "create_standard_key": True,
        "import_root_key": True,
        "import_standard_key": False,
        "enforce_token": False,
    }
    material = base64.b64encode(b"k" * 32).decode()
    refused(lambda: create_key(tenant, "gen-root"), 409, "KEY_CREATE_IMPORT_ACCESS_ERR")
    refused(
        lambda: create_with_overrides(tenant, "gen-root-2"), 409, "KEY_CREATE_IMPORT_ACCESS_ERR"
    )
    refused(
        lambda: create_key(tenant, "imp-std", extractable=True, payload=material),
        409,
        "KEY_CREATE_IMPORT_ACCESS_ERR",
    )
    assert result_json(kp.get_keys(bluemix_instance=inst))["resources"] == []  # nothing written
    assert create_key(tenant, "gen-std", extractable=True)["imported"] is False
    assert create_key(tenant, "imp-root", payload=material)["imported"] is True

    # enforce_token: an import must come through an import token (encryptedNonce and iv).
    set_instance_policies(tenant, instance_policy("keyCreateImportAccess", enforce_token=True))
    refused(
        lambda: create_key(tenant, "imp-root-2", payload=material),
        409,
        "KEY_CREATE_IMPORT_ACCESS_ERR",
    )
    set_instance_policies(tenant, instance_policy("keyCreateImportAccess", enabled=False))
    assert create_key(tenant, "gen-root-3")["extractable"] is False


def test_bad_instance_policy_bodies_change_nothing(kms: Kms) -> None:
    tenant = new_tenant(kms.server)
    kp, inst = tenant.client, tenant.instance
    set_instance_policies(tenant, instance_policy("rotation", interval_month=4))
    before = instance_policies(tenant)
    cases = [
        ([instance_policy("rotation", interval_month=13)], None, "INVALID_FIELD_ERR"),
        ([instance_policy("metrics", enabled=True, interval_month=1)], None, "BAD_BODY_ERR"),
        ([instance_policy("dualAuthDelete", allowed=True)], None, "BAD_BODY_ERR"),
        ([instance_policy("dualAuthDelete")], "rotation", "BODY_QUERY_PARAM_MISMATCH_ERR"),
        (
            [instance_policy("metrics"), instance_policy("rotation", interval_month=1)],
            "metrics",
            "NUM_COLLECTION_RESOURCE_ERR",
        ),
        ([instance_policy("allowedIP", allowed_ip=["10.0.0.0"])], None, "INVALID_FIELD_ERR"),
        (
            [instance_policy("allowedNetwork", allowed_network="anywhere")],
            None,
            "INVALID_FIELD_ERR",
        ),
        ([instance_policy("quorum")], None, "INVALID_FIELD_ERR"),
        # One bad resource of several: the good one is not written either.
        (
            [instance_policy("metrics"), instance_policy("rotation", interval_month=0)],
            None,
            "INVALID_FIELD_ERR",
        ),
    ]
    for resources, param, code in cases:
        refused(
            lambda resources=resources, param=param: kp.put_instance_policy(
                bluemix_instance=inst,
                instance_policy_put_body=policies(*resources),
                policy=param,
            ),
            400,
            code,
        )
    refused(
        lambda: kp.get_instance_policy(bluemix_instance=inst, policy="quorum"),
        400,
        "INVALID_QUERY_PARAM_ERR",
    )
    assert instance_policies(tenant) == before

    # Reading and writing instance policies is a Manager's; a Writer is refused.
    writer_sid = IamIdentityV1(authenticator=IAMAuthenticator(tenant.apikey, url=kms.server.url))
    writer_sid.set_service_url(kms.server.url)
    sid = writer_sid.create_service_id(account_id=tenant.account_id, name="writer").get_result()
    key = writer_sid.create_api_key(
        name="w", iam_id=sid["iam_id"], account_id=tenant.account_id
    ).get_result()
    grant(kms.server, tenant, sid["iam_id"], role_crn("Writer"))
    writer = kp_client(kms.server, key["apikey"])
    assert create_key(Tenant(tenant.account_id, key["apikey"], sid["iam_id"], inst, writer), "w1")
    refused(
        lambda: writer.put_instance_policy(
            bluemix_instance=inst, instance_policy_put_body=policies(instance_policy("metrics"))
        ),
        401,
        "UNAUTHORIZED_ERR",
    )
    refused(lambda: writer.get_instance_policy(bluemix_instance=inst), 401, "UNAUTHORIZED_ERR")
    assert instance_policies(tenant) == before


# -- allowedIP (spec §3.6, §3 row 26) ------------------------------------------------------------


def test_allowed_ip_policy_admits_key_requests_only_from_its_subnets(kms: Kms) -> None:
    tenant = new_tenant(kms.server)
    kp, inst = tenant.client, tenant.instance
    kid = create_key(tenant, "behind-ip")["id"]
    port = kp.get_allowed_ip_port(bluemix_instance=inst)
    assert port.get_status_code() == 200 and result_json(port)["resources"] == []

    set_instance_policies(
        tenant, instance_policy("allowedIP", allowed_ip=["10.0.0.0/8"]), policy="allowedIP"
    )
    port_data = result_json(kp.get_allowed_ip_port(bluemix_instance=inst))
    assert (
        port_data["metadata"]["collectionType"]
        == "application/vnd.ibm.kms.allowed_ip_metadata+json"
    )
    assert port_data["resources"] == [{"private_endpoint_port": kms.server.port}]

    # This test talks from 127.0.0.1, outside 10.0.0.0/8: every key route refuses it.
    for call in (
        lambda: kp.get_keys(bluemix_instance=inst),
        lambda: kp.get_key_metadata(id=kid, bluemix_instance=inst),
        lambda: kp.wrap_key(id=kid, bluemix_instance=inst),
        lambda: kp.get_policy(id=kid, bluemix_instance=inst),
        lambda: create_key(tenant, "refused"),
        lambda: create_with_overrides(tenant, "refused-too"),
    ):
        refused(call, 401, "UNAUTHORIZED_ERR")
    # Another instance is not affected.
    other = new_tenant(kms.server)
    assert create_key(other, "elsewhere")["state"] == 1
    # Behind a reverse proxy on the host, uvicorn reports the forwarded client (the guard's
    # `source`, api/deps.py).
    token = kp.authenticator.token_manager.get_token()
    headers = {"Authorization": f"Bearer {token}", "Bluemix-Instance": inst}
    url = f"{kms.server.url}/api/v2/keys/{kid}/metadata"
    assert httpx.get(url, headers={**headers, "X-Forwarded-For": "10.1.2.3"}).status_code == 200
    assert httpx.get(url, headers={**headers, "X-Forwarded-For": "11.1.2.3"}).status_code == 401

    # Instance policies stay reachable, so the policy can be corrected from here.
    set_instance_policies(
        tenant, instance_policy("allowedIP", allowed_ip=["10.0.0.0/8", "127.0.0.0/8"])
    )
    assert metadata(tenant, kid)["id"] == kid
    set_instance_policies(tenant, instance_policy("allowedIP", allowed_ip=["::1/128"]))
    refused(lambda: kp.get_keys(bluemix_instance=inst), 401, "UNAUTHORIZED_ERR")
    set_instance_policies(tenant, instance_policy("allowedIP", enabled=False))
    assert result_json(kp.get_keys(bluemix_instance=inst))["resources"][0]["id"] == kid
    assert result_json(kp.get_allowed_ip_port(bluemix_instance=inst))["resources"] == []


# -- automatic rotation and expiry (spec §2.2, §3.6) ----------------------------------------------


def test_root_keys_rotate_by_policy_and_keys_expire_with_time(kms: Kms) -> None:
    tenant = new_tenant(kms.server)
    kp, inst = tenant.client, tenant.instance
    sweep = kms.server.container.kms_sweep.sweep
    set_instance_policies(tenant, instance_policy("rotation", interval_month=1))
    rotating = create_key(tenant, "rotating")
    assert rotating["rotation"] == {"enabled": True, "interval_month": 1}
    switched_off = create_key(tenant, "switched-off")
    kp.put_policy(
        id=switched_off["id"],
        bluemix_instance=inst,
        key_policy_put_body=policies(rotation(enabled=False)),
    )
    imported = create_key(tenant, "imported", payload=base64.b64encode(b"i" * 32).decode())
    expires = (kms.clock.now() + timedelta(days=40)).strftime("%Y-%m-%dT%H:%M:%SZ")
    expiring = create_key(tenant, "expiring", expirationDate=expires)
    wrapped = result_json(
        kp.wrap_key(
            id=rotating["id"],
            bluemix_instance=inst,
            key_action_wrap_body=body({"plaintext": "c2VjcmV0"}),
        )
    )

    kms.clock.advance(29 * DAY)
    report = sweep()
    assert rotating["id"] not in report.rotated and not report.failed
    assert metadata(tenant, rotating["id"])["keyVersion"]["id"] == rotating["id"]

    kms.clock.advance(1 * DAY)  # 30 days: one month of Key Protect's
    report = sweep()
    mine = {k["id"] for k in (rotating, switched_off, imported, expiring)}
    assert set(report.rotated) & mine == {rotating["id"], expiring["id"]}
    assert not report.failed
    now = metadata(tenant, rotating["id"])
    assert now["keyVersion"]["id"] != rotating["id"] and "lastRotateDate" in now
    versions = result_json(kp.get_key_versions(id=rotating["id"], bluemix_instance=inst))
    assert len(versions["resources"]) == 2
    for untouched in (switched_off, imported):
        assert metadata(tenant, untouched["id"])["keyVersion"]["id"] == untouched["id"]
    # What the old version wrapped still opens, and comes back under the new one.
    opened = result_json(
        kp.unwrap_key(
            id=rotating["id"],
            bluemix_instance=inst,
            key_action_unwrap_body=body({"ciphertext": wrapped["ciphertext"]}),
        )
    )
    assert opened["plaintext"] == "c2VjcmV0"
    assert opened["rewrappedKeyVersion"]["id"] == now["keyVersion"]["id"]
    assert mine.isdisjoint(sweep().rotated)  # nothing more is due the same day

    # Past its expiration date a key is stored Deactivated (state 3) and is not rotated.
    kms.clock.advance(11 * DAY)
    report = sweep()
    assert expiring["id"] in report.expired
    assert metadata(tenant, expiring["id"])["state"] == 3
    deactivated = result_json(kp.get_keys(bluemix_instance=inst, state=[3]))["resources"]
    assert [k["id"] for k in deactivated] == [expiring["id"]]
    kms.clock.advance(30 * DAY)
    report = sweep()
    assert rotating["id"] in report.rotated and expiring["id"] not in report.rotated
    assert (
        len(result_json(kp.get_key_versions(id=rotating["id"], bluemix_instance=inst))["resources"])
        == 3
    )

    # A key deleted 90 days ago is purged: gone, material and all.
    kp.delete_key(id=switched_off["id"], bluemix_instance=inst)
    kms.clock.advance(90 * DAY + 1)
    assert switched_off["id"] in sweep().purged
    refused(
        lambda: kp.get_key_metadata(id=switched_off["id"], bluemix_instance=inst),
        404,
        "KEY_NOT_FOUND_ERR",
    )


def test_a_key_that_cannot_rotate_does_not_hold_up_the_others(kms: Kms) -> None:
    broken, healthy = new_tenant(kms.server), new_tenant(kms.server)
    for tenant in (broken, healthy):
        set_instance_policies(tenant, instance_policy("rotation", interval_month=1))
    stuck = create_key(broken, "stuck")["id"]
    fine = create_key(healthy, "fine")["id"]
    # A master key that no longer opens (a damaged row): that instance's keys cannot rotate.
    table = kms_instances
    engine = kms.server.runtime.database.engine
    where = table.c.instance_id == broken.instance
    with engine.begin() as conn:
        sealed = conn.execute(sa.select(table.c.master_key).where(where)).scalar_one()
        conn.execute(table.update().where(where).values(master_key=b"damaged" + sealed[7:]))
    try:
        kms.clock.advance(30 * DAY)
        report = kms.server.container.kms_sweep.sweep()
        assert stuck in report.failed and fine in report.rotated
        assert metadata(broken, stuck)["keyVersion"]["id"] == stuck  # rolled back, still whole
    finally:
        with engine.begin() as conn:
            conn.execute(table.update().where(where).values(master_key=sealed))
    assert stuck in kms.server.container.kms_sweep.sweep().rotated  # once repaired, it catches up


def test_serve_rotates_due_keys_in_the_background(tmp_path: Path) -> None:
    """What `strongroom serve` starts (bootstrap.Runtime.start_background): nobody calls the
    sweep, yet the due key rotates. A LiveServer alone starts nothing."""
    assert Settings().kms_sweep_seconds == 60  # the documented default
    clock = FrozenClock(datetime.now(UTC))
    with ExitStack() as stack:
        overrides = {"kms_sweep_seconds": 1}
        server = start_server(
            "sqlite", str(tmp_path), stack, kms_clock=clock, settings_overrides=overrides
        )
        assert server.runtime.background == []
        tenant = new_tenant(server)
        set_instance_policies(tenant, instance_policy("rotation", interval_month=1))
        kid = create_key(tenant, "rotated-by-serve")["id"]
        server.runtime.start_background()
        assert "kms-sweep" in [task.name for task in server.runtime.background]
        clock.advance(30 * DAY)
        deadline = time.monotonic() + 10
        version = kid
        while version == kid and time.monotonic() < deadline:
            time.sleep(0.1)
            version = metadata(tenant, kid)["keyVersion"]["id"]
        assert version != kid, "the background sweep did not rotate the due key"
    assert not any(task.running for task in server.runtime.background)  # stopped on close
