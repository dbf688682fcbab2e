"""Key rings and key aliases through the official Key Protect client (`keyprotect` 3.x) against a
live server (spec kms-api.md §3 rows 33-37, §3.9): rings listed, created, deleted (and force
deleted), keys placed in and moved between rings, ring-level grants, and aliases standing for
key ids."""

from __future__ import annotations

import uuid

import pytest
from ibm_cloud_sdk_core import ApiException
from keyprotect.ibm_key_protect_api_v2 import IbmKeyProtectApiV2

from tests.sdk.conftest import identity_client
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


def refused(call: object, *args: object, **kwargs: object) -> ApiException:
    assert callable(call)
    with pytest.raises(ApiException) as caught:
        call(*args, **kwargs)
    return caught.value


def ring_ids(tenant: Tenant, client: IbmKeyProtectApiV2 | None = None) -> list[str]:
    kp = client or tenant.client
    listed = result_json(kp.list_key_rings(bluemix_instance=tenant.instance))
    return [r["id"] for r in listed["resources"]]


def key_ring_of(tenant: Tenant, key_id: str) -> str:
    meta = result_json(tenant.client.get_key_metadata(id=key_id, bluemix_instance=tenant.instance))
    ring: str = meta["resources"][0]["keyRingID"]
    return ring


def test_rings_are_listed_created_and_deleted(kms: Kms) -> None:
    tenant = new_tenant(kms.server)
    kp, inst = tenant.client, tenant.instance
    first = result_json(kp.list_key_rings(bluemix_instance=inst, total_count=True))
    assert first["resources"] == [{"id": "default"}]
    assert first["metadata"]["collectionType"] == "application/vnd.ibm.kms.key_ring+json"
    assert first["metadata"]["totalCount"] == 1

    made = kp.create_key_ring(key_ring_id="team-a", bluemix_instance=inst)
    assert made.get_status_code() == 201 and made.get_result() is None  # no body (spec §3)
    again = refused(kp.create_key_ring, key_ring_id="team-a", bluemix_instance=inst)
    assert again.code == 409 and reason(again) == "KEY_RING_ALREADY_EXISTS_ERR"
    for bad in ("default", "a", "team_a"):
        wrong = refused(kp.create_key_ring, key_ring_id=bad, bluemix_instance=inst)
        assert wrong.code == 400 and reason(wrong) == "INVALID_FIELD_ERR", bad
    kp.create_key_ring(key_ring_id="team-b", bluemix_instance=inst)

    listed = result_json(kp.list_key_rings(bluemix_instance=inst))
    assert [r["id"] for r in listed["resources"]] == ["default", "team-a", "team-b"]
    assert listed["resources"][0] == {"id": "default"}
    assert listed["resources"][1]["createdBy"] == tenant.owner
    assert listed["resources"][1]["creationDate"].endswith("Z")
    assert "totalCount" not in listed["metadata"]
    paged = result_json(
        kp.list_key_rings(bluemix_instance=inst, limit=1, offset=1, total_count=True)
    )
    assert [r["id"] for r in paged["resources"]] == ["team-a"]
    assert paged["metadata"]["totalCount"] == 3
    zero = refused(kp.list_key_rings, bluemix_instance=inst, limit=0)
    assert zero.code == 400 and reason(zero) == "INVALID_QUERY_PARAM_ERR"

    # A key made in a ring lives there, and is listed there alone.
    response = kp.create_key(
        bluemix_instance=inst,
        key_create_body=envelope({"type": KEY_TYPE, "name": "in-ring"}),
        x_kms_key_ring="team-a",
    )
    key = result_json(response)["resources"][0]
    assert key["keyRingID"] == "team-a"
    other = create_key(tenant, "in-default")
    in_ring = result_json(kp.get_keys(bluemix_instance=inst, x_kms_key_ring="team-a"))
    assert [k["id"] for k in in_ring["resources"]] == [key["id"]]
    missing = refused(
        kp.create_key,
        bluemix_instance=inst,
        key_create_body=envelope({"type": KEY_TYPE, "name": "nowhere"}),
        x_kms_key_ring="no-such-ring",
    )
    assert missing.code == 404 and reason(missing) == "KEY_RING_NOT_FOUND_ERR"

    # A ring holding a live key is not deleted, not even by force.
    for force in (False, True):
        busy = refused(kp.delete_key_ring, key_ring_id="team-a", bluemix_instance=inst, force=force)
        assert busy.code == 409 and reason(busy) == "KEY_RING_NOT_EMPTY_ERR"
    # Moving the key out (PATCH with the current ring in X-Kms-Key-Ring) empties it.
    moved = kp.patch_key(
        id=key["id"],
        bluemix_instance=inst,
        key_patch_body=body({"keyRingID": "team-b"}),
        x_kms_key_ring="team-a",
    )
    assert result_json(moved)["resources"][0]["keyRingID"] == "team-b"
    assert kp.delete_key_ring(key_ring_id="team-a", bluemix_instance=inst).get_status_code() == 204
    assert ring_ids(tenant) == ["default", "team-b"]

    # Destroyed keys keep a ring until `force=true` moves them to `default`.
    kp.delete_key(id=key["id"], bluemix_instance=inst)
    kept = refused(kp.delete_key_ring, key_ring_id="team-b", bluemix_instance=inst)
    assert kept.code == 409 and reason(kept) == "KEY_RING_NOT_EMPTY_ERR"
    assert "force=true" in kept.http_response.json()["resources"][0]["reasons"][0]["message"]
    forced = kp.delete_key_ring(key_ring_id="team-b", bluemix_instance=inst, force=True)
    assert forced.get_status_code() == 204
    assert ring_ids(tenant) == ["default"]
    assert key_ring_of(tenant, key["id"]) == "default"
    assert key_ring_of(tenant, other["id"]) == "default"

    gone = refused(kp.delete_key_ring, key_ring_id="team-b", bluemix_instance=inst)
    assert gone.code == 404 and reason(gone) == "KEY_RING_NOT_FOUND_ERR"
    fixed = refused(kp.delete_key_ring, key_ring_id="default", bluemix_instance=inst)
    assert fixed.code == 400 and reason(fixed) == "INVALID_FIELD_ERR"


def test_an_instance_holds_fifty_rings_besides_default(kms: Kms) -> None:
    tenant = new_tenant(kms.server)
    kp, inst = tenant.client, tenant.instance
    for n in range(50):
        kp.create_key_ring(key_ring_id=f"ring-{n:02d}", bluemix_instance=inst)
    full = refused(kp.create_key_ring, key_ring_id="ring-50", bluemix_instance=inst)
    assert full.code == 400 and reason(full) == "KEY_RING_QUOTA_ERR"
    listed = result_json(kp.list_key_rings(bluemix_instance=inst, total_count=True))
    assert listed["metadata"]["totalCount"] == 51 and len(listed["resources"]) == 51
    kp.delete_key_ring(key_ring_id="ring-00", bluemix_instance=inst)
    assert kp.create_key_ring(key_ring_id="ring-50", bluemix_instance=inst).get_status_code() == 201


def test_a_grant_on_one_ring_reaches_that_rings_keys_only(kms: Kms) -> None:
    tenant = new_tenant(kms.server)
    kp, inst = tenant.client, tenant.instance
    for ring in ("team-a", "team-b"):
        kp.create_key_ring(key_ring_id=ring, bluemix_instance=inst)
    keys = {}
    for ring in ("team-a", "team-b", None):
        made = kp.create_key(
            bluemix_instance=inst,
            key_create_body=envelope({"type": KEY_TYPE, "name": f"key-{ring}"}),
            x_kms_key_ring=ring,
        )
        keys[ring] = result_json(made)["resources"][0]["id"]
    # A second identity of the account, a Reader on ring team-a alone.
    sid = (
        identity_client(kms.server, tenant.apikey)
        .create_service_id(
            account_id=tenant.account_id,
            name=f"reader-{uuid.uuid4().hex[:6]}",
            apikey={"name": "reader-key", "store_value": True},
        )
        .get_result()
    )
    reader = kp_client(kms.server, sid["apikey"]["apikey"])
    denied = refused(reader.get_keys, bluemix_instance=inst)
    assert denied.code == 401 and reason(denied) == "UNAUTHORIZED_ERR"
    grant(kms.server, tenant, sid["iam_id"], role_crn("Reader"), keyRing="team-a")

    seen = result_json(reader.get_keys(bluemix_instance=inst))["resources"]
    assert [k["id"] for k in seen] == [keys["team-a"]]
    assert ring_ids(tenant, reader) == ["team-a"]
    wrapped = result_json(reader.wrap_key(id=keys["team-a"], bluemix_instance=inst))
    assert wrapped["keyVersion"]["id"] == keys["team-a"]
    for ring in ("team-b", None):
        no = refused(reader.wrap_key, id=keys[ring], bluemix_instance=inst)
        assert no.code == 401 and reason(no) == "UNAUTHORIZED_ERR"
    no_list = refused(reader.get_keys, bluemix_instance=inst, x_kms_key_ring="team-b")
    assert no_list.code == 401
    # Reader creates no rings and deletes none.
    for call, kwargs in (
        (reader.create_key_ring, {"key_ring_id": "team-c"}),
        (reader.delete_key_ring, {"key_ring_id": "team-a"}),
    ):
        no = refused(call, bluemix_instance=inst, **kwargs)
        assert no.code == 401
    assert ring_ids(tenant) == ["default", "team-a", "team-b"]


def test_aliases_stand_for_key_ids(kms: Kms) -> None:
    tenant = new_tenant(kms.server)
    kp, inst = tenant.client, tenant.instance
    key = create_key(tenant, "aliased", aliases=["first-alias"])
    assert key["aliases"] == ["first-alias"]
    made = kp.create_key_alias(id=key["id"], alias="app-key", bluemix_instance=inst)
    assert made.get_status_code() == 201
    answer = result_json(made)
    assert answer["metadata"] == {
        "collectionType": "application/vnd.ibm.kms.alias+json",
        "collectionTotal": 1,
    }
    alias = answer["resources"][0]
    assert alias["keyId"] == key["id"] and alias["alias"] == "app-key"
    assert alias["createdBy"] == tenant.owner and alias["creationDate"].endswith("Z")

    # Wherever a key id goes, an alias does.
    got = result_json(kp.get_key(id="app-key", bluemix_instance=inst))["resources"][0]
    assert got["id"] == key["id"] and set(got["aliases"]) == {"first-alias", "app-key"}
    wrapped = result_json(kp.wrap_key(id="app-key", bluemix_instance=inst))
    opened = result_json(
        kp.unwrap_key(
            id="first-alias",
            bluemix_instance=inst,
            key_action_unwrap_body=body({"ciphertext": wrapped["ciphertext"]}),
        )
    )
    assert opened["plaintext"] == wrapped["plaintext"]
    # An alias added through another alias names the same key.
    kp.create_key_alias(id="app-key", alias="third", bluemix_instance=inst)

    # Five per key.
    for name in ("fourth", "fifth"):
        kp.create_key_alias(id=key["id"], alias=name, bluemix_instance=inst)
    sixth = refused(kp.create_key_alias, id=key["id"], alias="sixth", bluemix_instance=inst)
    assert sixth.code == 400 and reason(sixth) == "KEY_ALIAS_QUOTA_ERR"
    too_many = refused(create_key, tenant, "many", aliases=[f"many-{n}" for n in range(6)])
    assert too_many.code == 400 and reason(too_many) == "INVALID_FIELD_ERR"

    # Unique in the instance; never a reserved word or a UUID.
    other = create_key(tenant, "other")
    clash = refused(kp.create_key_alias, id=other["id"], alias="app-key", bluemix_instance=inst)
    assert clash.code == 409 and reason(clash) == "KEY_ALIAS_NOT_UNIQUE_ERR"
    before = len(result_json(kp.get_keys(bluemix_instance=inst))["resources"])
    clash = refused(create_key, tenant, "clashing", aliases=["fresh-one", "app-key"])
    assert clash.code == 409 and reason(clash) == "KEY_ALIAS_NOT_UNIQUE_ERR"
    assert len(result_json(kp.get_keys(bluemix_instance=inst))["resources"]) == before
    fresh = kp.create_key_alias(id=other["id"], alias="fresh-one", bluemix_instance=inst)
    assert fresh.get_status_code() == 201
    for bad in ("keys", "wrap", str(uuid.uuid4()), "x", "has space"):
        wrong = refused(kp.create_key_alias, id=other["id"], alias=bad, bluemix_instance=inst)
        assert wrong.code == 400 and reason(wrong) == "INVALID_FIELD_ERR", bad

    # Delete: 204; the alias no longer resolves and may name another key.
    wrong_key = refused(kp.delete_key_alias, id=other["id"], alias="app-key", bluemix_instance=inst)
    assert wrong_key.code == 404 and reason(wrong_key) == "KEY_ALIAS_NOT_FOUND_ERR"
    deleted = kp.delete_key_alias(id=key["id"], alias="app-key", bluemix_instance=inst)
    assert deleted.get_status_code() == 204
    unknown = refused(kp.get_key, id="app-key", bluemix_instance=inst)
    assert unknown.code == 404 and reason(unknown) == "KEY_NOT_FOUND_ERR"
    again = refused(kp.delete_key_alias, id=key["id"], alias="app-key", bluemix_instance=inst)
    assert again.code == 404 and reason(again) == "KEY_ALIAS_NOT_FOUND_ERR"
    kp.create_key_alias(id=other["id"], alias="app-key", bluemix_instance=inst)
    assert (
        result_json(kp.get_key_metadata(id="app-key", bluemix_instance=inst))["resources"][0]["id"]
        == other["id"]
    )

    # A deleted key keeps its aliases but takes no new one.
    kp.delete_key(id=key["id"], bluemix_instance=inst)
    kept = result_json(kp.get_key_metadata(id="third", bluemix_instance=inst))["resources"][0]
    assert kept["state"] == 5 and "fourth" in kept["aliases"]
    late = refused(kp.create_key_alias, id=key["id"], alias="late", bluemix_instance=inst)
    assert late.code == 410 and reason(late) == "KEY_DELETED_ERR"
