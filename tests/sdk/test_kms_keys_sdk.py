"""Keys through the official Key Protect client (`keyprotect` 3.x, `IbmKeyProtectApiV2`) against
a live server: create and import, read, list, envelope encryption, rotation and the lifecycle
with its timing rules (spec kms-api.md §2-§3.4). The key lifecycle's clock is moved instead of
sleeping; tokens keep real time."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from ibm_cloud_sdk_core import ApiException

from tests.sdk.kms_helpers import (
    HPCS_PLAN,
    KEY_TYPE,
    Kms,
    Tenant,
    body,
    create_key,
    envelope,
    grant,
    kms,
    kp_client,
    new_service_id,
    new_tenant,
    reason,
    result_json,
    role_crn,
)

__all__ = ["kms"]  # the module-scoped fixture


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_root_key_wraps_unwraps_and_rotates(kms: Kms) -> None:
    tenant = new_tenant(kms.server)
    kp, inst = tenant.client, tenant.instance
    key = create_key(tenant, "app-root", description="for tests", extractable=False)
    assert key["type"] == KEY_TYPE and key["state"] == 1 and key["extractable"] is False
    assert (
        key["crn"]
        == f"crn:v1:bluemix:public:kms:us-south:a/{tenant.account_id}:{inst}:key:{key['id']}"
    )
    assert "payload" not in key and "lastRotateDate" not in key and "lastUpdateDate" not in key
    assert key["keyVersion"]["id"] == key["id"] and key["keyRingID"] == "default"

    dek = bytes(range(35))  # any length: IBM's own tests wrap 18 to 35 bytes
    wrapped = kp.wrap_key(
        id=key["id"],
        bluemix_instance=inst,
        key_action_wrap_body=body({"plaintext": b64(dek), "aad": ["tenant-a", "disk-7"]}),
    )
    assert wrapped.get_status_code() == 200
    assert wrapped.get_headers()["content-type"].startswith(
        "application/vnd.ibm.kms.key_action+json"
    )
    first = result_json(wrapped)
    assert first["keyVersion"]["id"] == key["id"] and "plaintext" not in first
    # The ciphertext describes itself (spec §3.5) and holds no clear text.
    described = json.loads(base64.b64decode(first["ciphertext"]))
    assert described["handle"] == key["id"] and described["version"] == "4.0.0"
    assert b64(dek) not in first["ciphertext"]

    opened = result_json(
        kp.unwrap_key(
            id=key["id"],
            bluemix_instance=inst,
            key_action_unwrap_body=body(
                {"ciphertext": first["ciphertext"], "aad": ["tenant-a", "disk-7"]}
            ),
        )
    )
    assert base64.b64decode(opened["plaintext"]) == dek and "rewrappedKeyVersion" not in opened

    for wrong in (["tenant-b", "disk-7"], ["tenant-a"], None):
        with pytest.raises(ApiException) as refused:
            kp.unwrap_key(
                id=key["id"],
                bluemix_instance=inst,
                key_action_unwrap_body=body({"ciphertext": first["ciphertext"], "aad": wrong}),
            )
        assert refused.value.code == 422 and reason(refused.value) == "UNPROCESSABLE_CIPHERTEXT_ERR"
    tampered = dict(described, iv=b64(b"\x00" * 12))
    with pytest.raises(ApiException) as refused:
        kp.unwrap_key(
            id=key["id"],
            bluemix_instance=inst,
            key_action_unwrap_body=body(
                {"ciphertext": b64(json.dumps(tampered).encode()), "aad": ["tenant-a", "disk-7"]}
            ),
        )
    assert refused.value.code == 422

    rotated = kp.rotate_key(id=key["id"], bluemix_instance=inst, prefer="return=representation")
    assert rotated.get_status_code() == 204
    meta = result_json(kp.get_key_metadata(id=key["id"], bluemix_instance=inst))["resources"][0]
    assert meta["keyVersion"]["id"] != key["id"] and "lastRotateDate" in meta
    versions = result_json(
        kp.get_key_versions(id=key["id"], bluemix_instance=inst, total_count=True)
    )
    assert [v["id"] for v in versions["resources"]] == [meta["keyVersion"]["id"], key["id"]]
    assert versions["metadata"]["totalCount"] == 2

    # A ciphertext of the old version still unwraps, and comes back under the new one.
    again = result_json(
        kp.unwrap_key(
            id=key["id"],
            bluemix_instance=inst,
            key_action_unwrap_body=body(
                {"ciphertext": first["ciphertext"], "aad": ["tenant-a", "disk-7"]}
            ),
        )
    )
    assert base64.b64decode(again["plaintext"]) == dek
    assert again["keyVersion"]["id"] == key["id"]
    assert again["rewrappedKeyVersion"]["id"] == meta["keyVersion"]["id"]
    rewrapped = result_json(
        kp.rewrap_key(
            id=key["id"],
            bluemix_instance=inst,
            key_action_rewrap_body=body(
                {"ciphertext": first["ciphertext"], "aad": ["tenant-a", "disk-7"]}
            ),
        )
    )
    assert "plaintext" not in rewrapped
    assert rewrapped["rewrappedKeyVersion"]["id"] == meta["keyVersion"]["id"]
    latest = result_json(
        kp.unwrap_key(
            id=key["id"],
            bluemix_instance=inst,
            key_action_unwrap_body=body(
                {"ciphertext": rewrapped["ciphertext"], "aad": ["tenant-a", "disk-7"]}
            ),
        )
    )
    assert base64.b64decode(latest["plaintext"]) == dek and "ciphertext" not in latest

    # One rotation an hour.
    with pytest.raises(ApiException) as refused:
        kp.rotate_key(id=key["id"], bluemix_instance=inst)
    assert refused.value.code == 409 and reason(refused.value) == "KEY_ROTATION_NOT_PERMITTED"

    # An empty wrap body: the server makes a 256-bit data key and returns it once.
    generated = result_json(kp.wrap_key(id=key["id"], bluemix_instance=inst))
    dek2 = base64.b64decode(generated["plaintext"])
    assert len(dek2) == 32
    assert generated["keyVersion"]["id"] == meta["keyVersion"]["id"]
    back = result_json(
        kp.unwrap_key(
            id=key["id"],
            bluemix_instance=inst,
            key_action_unwrap_body=body({"ciphertext": generated["ciphertext"]}),
        )
    )
    assert base64.b64decode(back["plaintext"]) == dek2


def test_a_ciphertext_opens_only_under_its_own_key(kms: Kms) -> None:
    tenant = new_tenant(kms.server)
    kp, inst = tenant.client, tenant.instance
    one, two = create_key(tenant, "one"), create_key(tenant, "two")
    made = result_json(
        kp.wrap_key(
            id=one["id"],
            bluemix_instance=inst,
            key_action_wrap_body=body({"plaintext": b64(b"x" * 32)}),
        )
    )
    with pytest.raises(ApiException) as refused:
        kp.unwrap_key(
            id=two["id"],
            bluemix_instance=inst,
            key_action_unwrap_body=body({"ciphertext": made["ciphertext"]}),
        )
    assert refused.value.code == 422 and reason(refused.value) == "UNPROCESSABLE_CIPHERTEXT_ERR"
    # Another tenant cannot use it at all: the instance is not theirs.
    other = new_tenant(kms.server)
    with pytest.raises(ApiException) as refused:
        other.client.unwrap_key(
            id=one["id"],
            bluemix_instance=inst,
            key_action_unwrap_body=body({"ciphertext": made["ciphertext"]}),
        )
    assert refused.value.code == 401


def test_standard_key_payload_is_shown_only_where_it_should_be(kms: Kms) -> None:
    tenant = new_tenant(kms.server)
    kp, inst = tenant.client, tenant.instance
    secret = b"standard secret material"
    key = create_key(tenant, "std", extractable=True, payload=b64(secret))
    assert key["extractable"] is True and key["imported"] is True
    assert base64.b64decode(key["payload"]) == secret
    got = result_json(kp.get_key(id=key["id"], bluemix_instance=inst))["resources"][0]
    assert base64.b64decode(got["payload"]) == secret
    meta = result_json(kp.get_key_metadata(id=key["id"], bluemix_instance=inst))["resources"][0]
    assert "payload" not in meta
    with pytest.raises(ApiException) as refused:
        kp.wrap_key(id=key["id"], bluemix_instance=inst)
    assert refused.value.code == 400 and reason(refused.value) == "KEY_ROOT_REQ_ERR"
    generated = create_key(tenant, "std-generated", extractable=True)
    assert len(base64.b64decode(generated["payload"])) == 32 and generated["imported"] is False
    root = create_key(tenant, "imported-root", payload=b64(b"k" * 32))
    assert "payload" not in root and root["imported"] is True
    with pytest.raises(ApiException) as refused:
        create_key(tenant, "bad-root", payload=b64(b"k" * 20))
    assert refused.value.code == 400 and reason(refused.value) == "INVALID_FIELD_ERR"


def test_lifecycle_follows_states_and_timing(kms: Kms) -> None:
    tenant = new_tenant(kms.server)
    kp, inst = tenant.client, tenant.instance
    key = create_key(tenant, "lifecycle")
    kid = key["id"]
    assert kp.disable_key(id=kid, bluemix_instance=inst).get_status_code() == 204
    state = lambda: result_json(  # noqa: E731
        kp.get_key_metadata(id=kid, bluemix_instance=inst)
    )["resources"][0]["state"]
    assert state() == 2
    with pytest.raises(ApiException) as refused:
        kp.wrap_key(id=kid, bluemix_instance=inst)
    assert refused.value.code == 409 and reason(refused.value) == "KEY_ACTION_INVALID_STATE_ERR"
    with pytest.raises(ApiException) as refused:
        kp.enable_key(id=kid, bluemix_instance=inst)
    assert refused.value.code == 409 and reason(refused.value) == "REQ_TOO_EARLY_ERR"
    kms.clock.advance(31)
    assert kp.enable_key(id=kid, bluemix_instance=inst).get_status_code() == 204
    assert state() == 1

    deleted = kp.delete_key(id=kid, bluemix_instance=inst, prefer="return=representation")
    assert deleted.get_status_code() == 200
    gone = result_json(deleted)["resources"][0]
    assert gone["state"] == 5 and gone["deleted"] is True and gone["deletedBy"]
    assert gone["restoreAllowed"] is False and gone["purgeAllowed"] is False
    with pytest.raises(ApiException) as refused:
        kp.wrap_key(id=kid, bluemix_instance=inst)
    assert refused.value.code == 410 and reason(refused.value) == "KEY_DELETED_ERR"
    with pytest.raises(ApiException) as refused:
        kp.restore_key(id=kid, bluemix_instance=inst)
    assert refused.value.code == 409 and reason(refused.value) == "REQ_TOO_EARLY_ERR"
    kms.clock.advance(31)
    restored = kp.restore_key(id=kid, bluemix_instance=inst, prefer="return=representation")
    assert restored.get_status_code() == 201 and result_json(restored)["resources"][0]["state"] == 1
    assert kp.delete_key(id=kid, bluemix_instance=inst).get_status_code() == 204

    # Purge: only the KMS Key Purge role, and not before four hours (spec §3.3).
    with pytest.raises(ApiException) as refused:
        kp.purge_key(id=kid, bluemix_instance=inst)
    assert refused.value.code == 401 and reason(refused.value) == "UNAUTHORIZED_ERR"
    grant(kms.server, tenant, tenant.owner, role_crn("KeyPurge"))
    with pytest.raises(ApiException) as refused:
        kp.purge_key(id=kid, bluemix_instance=inst)
    assert refused.value.code == 409 and reason(refused.value) == "REQ_TOO_EARLY_ERR"
    kms.clock.advance(4 * 3600)
    purged = kp.purge_key(id=kid, bluemix_instance=inst, prefer="return=representation")
    assert purged.get_status_code() == 200
    with pytest.raises(ApiException) as refused:
        kp.get_key_metadata(id=kid, bluemix_instance=inst)
    assert refused.value.code == 404 and reason(refused.value) == "KEY_NOT_FOUND_ERR"


def test_deleted_key_is_restorable_for_30_days_then_purged_at_90(kms: Kms) -> None:
    tenant = new_tenant(kms.server)
    kp, inst = tenant.client, tenant.instance
    kid = create_key(tenant, "old")["id"]
    kp.delete_key(id=kid, bluemix_instance=inst)
    kms.clock.advance(31 * 86400)
    with pytest.raises(ApiException) as refused:
        kp.restore_key(id=kid, bluemix_instance=inst)
    assert refused.value.code == 400 and reason(refused.value) == "KEY_RESTORE_EXPIRED"
    kms.clock.advance(60 * 86400)
    with pytest.raises(ApiException) as refused:
        kp.get_key_metadata(id=kid, bluemix_instance=inst)
    assert refused.value.code == 404


def test_list_and_total_filter_by_state_and_kind(kms: Kms) -> None:
    tenant = new_tenant(kms.server)
    kp, inst = tenant.client, tenant.instance
    roots = [create_key(tenant, f"root-{n}")["id"] for n in range(2)]
    std = create_key(tenant, "std", extractable=True)["id"]
    listed = result_json(kp.get_keys(bluemix_instance=inst))
    assert {k["id"] for k in listed["resources"]} == {*roots, std}
    assert listed["metadata"]["collectionTotal"] == 3
    assert all("payload" not in k for k in listed["resources"])
    only_std = result_json(kp.get_keys(bluemix_instance=inst, extractable=True))["resources"]
    assert [k["id"] for k in only_std] == [std]
    total = kp.get_key_collection_metadata(bluemix_instance=inst)
    assert total.get_status_code() == 200 and total.get_headers()["key-total"] == "3"
    kp.delete_key(id=roots[0], bluemix_instance=inst)
    live = result_json(kp.get_keys(bluemix_instance=inst))["resources"]
    assert {k["id"] for k in live} == {roots[1], std}
    destroyed = result_json(kp.get_keys(bluemix_instance=inst, state=[5]))["resources"]
    assert [k["id"] for k in destroyed] == [roots[0]]


def test_wire_errors_use_the_kms_envelope(kms: Kms) -> None:
    tenant = new_tenant(kms.server)
    token = httpx.post(
        f"{kms.server.url}/identity/token",
        data={"grant_type": "urn:ibm:params:oauth:grant-type:apikey", "apikey": tenant.apikey},
    ).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    url = f"{kms.server.url}/api/v2"
    missing = httpx.get(f"{url}/keys", headers=auth)
    assert missing.status_code == 400
    assert missing.json()["metadata"]["collectionType"] == "application/vnd.ibm.kms.error+json"
    unknown = httpx.get(
        f"{url}/keys/{'0' * 8}-0000-4000-8000-{'0' * 12}",
        headers={**auth, "Bluemix-Instance": tenant.instance},
    )
    assert unknown.status_code == 404
    error = unknown.json()["resources"][0]
    assert error["reasons"][0]["code"] == "KEY_NOT_FOUND_ERR"
    assert error["errorMsg"].endswith("(KEY_NOT_FOUND_ERR)")
    mismatch = httpx.post(
        f"{url}/keys",
        headers={**auth, "Bluemix-Instance": tenant.instance},
        content=json.dumps(
            {
                "metadata": {"collectionType": KEY_TYPE, "collectionTotal": 2},
                "resources": [{"type": KEY_TYPE, "name": "x1"}],
            }
        ),
    )
    assert mismatch.status_code == 400
    assert mismatch.json()["resources"][0]["reasons"][0]["code"] == "COLLECTION_TOTAL_MISMATCH_ERR"
    other = new_tenant(kms.server)
    foreign = httpx.get(f"{url}/keys", headers={**auth, "Bluemix-Instance": other.instance})
    nowhere = httpx.get(f"{url}/keys", headers={**auth, "Bluemix-Instance": "no-such-instance"})
    assert foreign.status_code == nowhere.status_code == 401
    assert foreign.json()["resources"][0]["reasons"][0]["code"] == "UNAUTHORIZED_ERR"
    assert httpx.get(f"{url}/not-a-route", headers=auth).status_code == 501
    # The deprecated `?action=` form reaches the same handlers.
    kid = create_key(tenant, "old-form")["id"]
    wrapped = httpx.post(
        f"{url}/keys/{kid}?action=wrap",
        headers={**auth, "Bluemix-Instance": tenant.instance},
        content=json.dumps({"plaintext": b64(b"abc")}),
    )
    assert wrapped.status_code == 200 and "ciphertext" in wrapped.json()
    # Creating needs the whole envelope; nothing is written on a bad body.
    bad = httpx.post(
        f"{url}/keys",
        headers={**auth, "Bluemix-Instance": tenant.instance},
        content=envelope({"type": KEY_TYPE, "name": "x"}).getvalue(),  # name too short
    )
    assert bad.status_code == 400
    listed = httpx.get(f"{url}/keys", headers={**auth, "Bluemix-Instance": tenant.instance})
    assert [k["name"] for k in listed.json()["resources"]] == ["old-form"]


def test_hpcs_instance_keys_use_the_hs_crypto_service(kms: Kms) -> None:
    """Hyper Protect Crypto Services serves the same key API (spec kms-api.md §1.1); its keys
    are `hs-crypto` resources, checked with `hs-crypto.` actions (§4.1): a grant on Key Protect
    does not reach them."""
    tenant = new_tenant(kms.server, service_plan=HPCS_PLAN)
    key = create_key(tenant, "hpcs-root")
    assert key["crn"].startswith("crn:v1:bluemix:public:hs-crypto:us-south:")
    helper = new_service_id(kms.server, tenant, "kp-reader")
    grant(kms.server, tenant, helper.iam_id, role_crn("Manager"))  # on serviceName kms
    other = kp_client(kms.server, helper.apikey)
    with pytest.raises(ApiException) as refused:
        other.get_key_metadata(id=key["id"], bluemix_instance=tenant.instance)
    assert refused.value.code == 401
    grant(kms.server, tenant, helper.iam_id, role_crn("Reader"), service="hs-crypto")
    meta = result_json(other.get_key_metadata(id=key["id"], bluemix_instance=tenant.instance))
    assert meta["resources"][0]["id"] == key["id"]
    with pytest.raises(ApiException) as refused:  # Reader: no payload reads, no creation
        create_key(Tenant(tenant.account_id, helper.apikey, "", tenant.instance, other), "no")
    assert refused.value.code == 401


def test_list_searches_sorts_filters_and_pages(kms: Kms) -> None:
    tenant = new_tenant(kms.server)
    kp, inst = tenant.client, tenant.instance
    made = {}
    for name in ("alpha-db", "beta-db", "gamma-cache"):
        made[name] = create_key(tenant, name)
        kms.clock.advance(60)
    found = result_json(kp.get_keys(bluemix_instance=inst, search="db"))
    assert sorted(k["name"] for k in found["resources"]) == ["alpha-db", "beta-db"]
    assert found["metadata"]["searchQuery"]["query"] == "db"
    exact = result_json(kp.get_keys(bluemix_instance=inst, search="exact:gamma-cache"))
    assert [k["name"] for k in exact["resources"]] == ["gamma-cache"]
    newest_first = result_json(kp.get_keys(bluemix_instance=inst, sort="-creationDate"))
    assert [k["name"] for k in newest_first["resources"]] == ["gamma-cache", "beta-db", "alpha-db"]
    page = result_json(kp.get_keys(bluemix_instance=inst, sort="creationDate", limit=1, offset=1))
    assert [k["name"] for k in page["resources"]] == ["beta-db"]
    after = made["alpha-db"]["creationDate"]
    later = result_json(kp.get_keys(bluemix_instance=inst, filter=f'creationDate=gt:"{after}"'))
    assert sorted(k["name"] for k in later["resources"]) == ["beta-db", "gamma-cache"]
    with pytest.raises(ApiException) as refused:
        kp.get_keys(bluemix_instance=inst, sort="colour")
    assert refused.value.code == 400 and reason(refused.value) == "INVALID_QUERY_PARAM_ERR"


def test_go_style_request_members_match_case_insensitively(kms: Kms) -> None:
    """The go client sends no Content-Type and spells `Tags` (spec kms-api.md §1.2, §2.1)."""
    tenant = new_tenant(kms.server)
    token = httpx.post(
        f"{kms.server.url}/identity/token",
        data={"grant_type": "urn:ibm:params:oauth:grant-type:apikey", "apikey": tenant.apikey},
    ).json()["access_token"]
    made = httpx.post(
        f"{kms.server.url}/api/v2/keys",
        headers={"authorization": f"Bearer {token}", "bluemix-instance": tenant.instance},
        content=json.dumps(
            {
                "metadata": {"collectionType": KEY_TYPE, "collectionTotal": 1},
                "resources": [
                    {"type": KEY_TYPE, "Name": "go-key", "Tags": ["team-a"], "extractable": False}
                ],
            }
        ),
    )
    assert made.status_code == 201, made.text
    key = made.json()["resources"][0]
    assert key["name"] == "go-key" and key["tags"] == ["team-a"]


def test_purge_erases_the_key_material(kms: Kms) -> None:
    tenant = new_tenant(kms.server)
    kp, inst = tenant.client, tenant.instance
    kid = create_key(tenant, "to-erase")["id"]
    kms.clock.advance(3601)
    kp.rotate_key(id=kid, bluemix_instance=inst)
    with kms.server.runtime.uow() as uow:
        assert uow.key_versions.count(kid) == 2
    kp.delete_key(id=kid, bluemix_instance=inst)
    grant(kms.server, tenant, tenant.owner, role_crn("KeyPurge"))
    kms.clock.advance(4 * 3600 + 1)
    assert kp.purge_key(id=kid, bluemix_instance=inst).get_status_code() == 204
    with kms.server.runtime.uow() as uow:
        assert uow.key_versions.count(kid) == 0 and uow.kms_keys.get(inst, kid) is None
        assert uow.key_versions.newest(kid) is None


def test_oversized_and_foreign_input_is_refused_and_writes_nothing(kms: Kms) -> None:
    """Bad input of issue 6: oversized payloads, and a ciphertext of another instance's key,
    answer a 4xx with the reason code, and nothing is created."""
    tenant = new_tenant(kms.server)
    kp, inst = tenant.client, tenant.instance
    root = create_key(tenant, "root")
    with pytest.raises(ApiException) as refused:
        kp.wrap_key(
            id=root["id"], bluemix_instance=inst,
            key_action_wrap_body=body({"plaintext": b64(b"x" * 7_501)}),
        )  # fmt: skip
    assert refused.value.code == 400 and reason(refused.value) == "INVALID_FIELD_ERR"
    with pytest.raises(ApiException) as refused:
        create_key(tenant, "too-big", extractable=True, payload=b64(b"y" * 7_501))
    assert refused.value.code == 400 and reason(refused.value) == "INVALID_FIELD_ERR"
    with pytest.raises(ApiException) as refused:
        create_key(tenant, "not-base64", extractable=True, payload="%%%")
    assert refused.value.code == 400 and reason(refused.value) == "INVALID_FIELD_ERR"
    names = [k["name"] for k in result_json(kp.get_keys(bluemix_instance=inst))["resources"]]
    assert names == ["root"]

    # A ciphertext of one instance's key, sent to another instance's key: it does not open.
    second = new_tenant(kms.server)
    made = result_json(
        kp.wrap_key(
            id=root["id"], bluemix_instance=inst,
            key_action_wrap_body=body({"plaintext": b64(b"z" * 32)}),
        )
    )  # fmt: skip
    other = create_key(second, "other-root")
    with pytest.raises(ApiException) as refused:
        second.client.unwrap_key(
            id=other["id"], bluemix_instance=second.instance,
            key_action_unwrap_body=body({"ciphertext": made["ciphertext"]}),
        )  # fmt: skip
    assert refused.value.code == 422 and reason(refused.value) == "UNPROCESSABLE_CIPHERTEXT_ERR"
