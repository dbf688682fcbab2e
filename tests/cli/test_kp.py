"""`strongroom kp …`, after `ibmcloud kp`: keys, envelope encryption, rotation and deletion
through the live server's key management API, the instance named by -i or KP_INSTANCE_ID.
Refusals print Key Protect's reason code (spec kms-api.md §1.5) and exit 1."""

from __future__ import annotations

import base64
import uuid

import httpx
import pytest
from typer.testing import Result

from strongroom.testing.server import LiveServer
from tests.cli.harness import Cli


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def instance(logged_in: Cli) -> str:
    """A fresh `kms` instance made with the CLI; its GUID."""
    group = logged_in.json("resource", "group-create", unique("rg"))["id"]
    made = logged_in.json(
        "resource", "service-instance-create", unique("kp"), "kms", "tiered-pricing", "us-south",
        "-g", group,
    )  # fmt: skip
    return str(made["guid"])


def failed(result: Result, code: str) -> str:
    """The stderr of a refused command, which must carry `code` on a `CODE: message` line."""
    assert result.exit_code == 1, result.stdout
    stderr = result.stderr
    assert stderr.splitlines()[0] == "FAILED"
    assert any(line.startswith(f"{code}: ") for line in stderr.splitlines()), stderr
    return stderr


def test_root_key_wraps_rotates_unwraps_and_is_deleted(logged_in: Cli, instance: str) -> None:
    i = ("-i", instance)
    name = unique("app-root")
    key = logged_in.json("kp", "key", "create", name, "-D", "for the cli", *i)
    assert key["name"] == name and key["description"] == "for the cli"
    assert key["extractable"] is False and key["state"] == 1 and "payload" not in key
    first_version = key["keyVersion"]["id"]

    shown = logged_in.ok("kp", "key", "show", key["id"], *i).stdout
    assert name in shown and "root_key" in shown and "Active" in shown and key["crn"] in shown
    assert key["id"] in [k["id"] for k in logged_in.json("kp", "keys", *i)]
    table = logged_in.ok("kp", "keys", *i).stdout
    assert key["id"] in table and name in table

    generated = logged_in.json("kp", "key", "wrap", key["id"], *i)
    assert len(base64.b64decode(generated["plaintext"])) == 32  # the server made the data key
    dek = bytes(range(24))
    wrapped = logged_in.json(
        "kp", "key", "wrap", key["id"], "-p", b64(dek), "-a", "tenant-a,disk-7", *i
    )
    assert "plaintext" not in wrapped and wrapped["keyVersion"]["id"] == first_version
    opened = logged_in.json(
        "kp", "key", "unwrap", key["id"], wrapped["ciphertext"], "-a", "tenant-a,disk-7", *i
    )
    assert base64.b64decode(opened["plaintext"]) == dek and "rewrappedKeyVersion" not in opened
    wrong = logged_in("kp", "key", "unwrap", key["id"], wrapped["ciphertext"], "-a", "tenant-b", *i)
    failed(wrong, "UNPROCESSABLE_CIPHERTEXT_ERR")

    rotated = logged_in.json("kp", "key", "rotate", key["id"], *i)
    assert rotated["keyVersion"]["id"] != first_version and "lastRotateDate" in rotated
    # The old ciphertext still opens, and comes back rewrapped under the new version (§3.4).
    again = logged_in.json(
        "kp", "key", "unwrap", key["id"], wrapped["ciphertext"], "-a", "tenant-a,disk-7", *i
    )
    assert base64.b64decode(again["plaintext"]) == dek
    assert again["keyVersion"]["id"] == first_version
    assert again["rewrappedKeyVersion"]["id"] == rotated["keyVersion"]["id"]
    text = logged_in.ok(
        "kp", "key", "unwrap", key["id"], again["ciphertext"], "-a", "tenant-a,disk-7", *i
    ).stdout
    assert b64(dek) in text and "Rewrapped" not in text  # made by the newest version already
    failed(logged_in("kp", "key", "rotate", key["id"], *i), "KEY_ROTATION_NOT_PERMITTED")

    deleted = logged_in.json("kp", "key", "delete", key["id"], *i)
    assert deleted["id"] == key["id"] and deleted["state"] == 5 and deleted["deleted"] is True
    assert key["id"] not in [k["id"] for k in logged_in.json("kp", "keys", *i)]
    assert "Destroyed" in logged_in.ok("kp", "key", "show", key["id"], *i).stdout
    failed(logged_in("kp", "key", "delete", key["id"], *i), "KEY_DELETED_ERR")


def test_standard_key_import_through_the_environment(
    logged_in: Cli, instance: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KP_INSTANCE_ID", instance)
    material = bytes(range(40))
    alias = unique("db-password")
    key = logged_in.json(
        "kp", "key", "create", unique("std"), "--standard-key", "-k", b64(material),
        "-a", alias, "-r", "default",
    )  # fmt: skip
    assert key["extractable"] is True and key["imported"] is True
    assert base64.b64decode(key["payload"]) == material and key["aliases"] == [alias]

    by_alias = logged_in.json("kp", "key", "show", alias)
    assert by_alias["id"] == key["id"] and "payload" not in by_alias  # metadata only
    listed = logged_in.json("kp", "keys", "--key-ring", "default")
    assert key["id"] in [k["id"] for k in listed]
    assert "standard_key" in logged_in.ok("kp", "keys").stdout

    failed(logged_in("kp", "key", "wrap", alias), "KEY_ROOT_REQ_ERR")
    failed(logged_in("kp", "key", "rotate", key["id"]), "KEY_ROOT_REQ_ERR")
    # The flag wins over the variable.
    failed(logged_in("kp", "keys", "-i", str(uuid.uuid4())), "UNAUTHORIZED_ERR")


def test_refusals_print_the_reason_code(
    logged_in: Cli, instance: str, server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KP_INSTANCE_ID", raising=False)
    nowhere = logged_in("kp", "keys")
    assert nowhere.exit_code == 1 and "KP_INSTANCE_ID" in nowhere.stderr

    i = ("-i", instance)
    missing = str(uuid.uuid4())
    stderr = failed(logged_in("kp", "key", "show", missing, *i), "KEY_NOT_FOUND_ERR")
    assert missing in stderr and "Not Found: " in stderr
    bad = logged_in("kp", "key", "create", unique("k"), "-k", "not base64!", *i)
    failed(bad, "INVALID_FIELD_ERR")
    failed(
        logged_in("kp", "key", "create", unique("k"), "-r", "nope", *i), "KEY_RING_NOT_FOUND_ERR"
    )

    # An identity of the account with no role on the instance is refused, as Key Protect does.
    key = logged_in.json("kp", "key", "create", unique("k"), *i)
    owner = {"Authorization": f"Bearer {logged_in.session()['access_token']}"}
    with httpx.Client(base_url=server.url, timeout=10) as http:
        made = http.post(
            "/v1/serviceids/",
            json={
                "account_id": server.account_id,
                "name": unique("nobody"),
                "apikey": {"name": "k"},
            },
            headers=owner,
        )
    assert made.status_code == 201, made.text
    monkeypatch.setenv("STRONGROOM_APIKEY", made.json()["apikey"]["apikey"])
    monkeypatch.setenv("STRONGROOM_ENDPOINT", server.url)
    stderr = failed(logged_in("kp", "key", "wrap", key["id"], *i), "UNAUTHORIZED_ERR")
    assert "Unauthorized: The user does not have access to the specified resource" in stderr
    failed(logged_in("kp", "keys", *i), "UNAUTHORIZED_ERR")


def test_key_rings(logged_in: Cli, instance: str, server: LiveServer) -> None:
    ring = unique("ring")
    owner = {"Authorization": f"Bearer {logged_in.session()['access_token']}"}
    with httpx.Client(base_url=server.url, timeout=10) as http:
        made = http.post(
            f"/api/v2/key_rings/{ring}", headers={**owner, "Bluemix-Instance": instance}
        )
    assert made.status_code == 201, made.text

    rings = logged_in.json("kp", "key-rings", "-i", instance)
    assert {"default", ring} <= {r["id"] for r in rings}
    assert ring in logged_in.ok("kp", "key-rings", "-i", instance).stdout
    key = logged_in.json("kp", "key", "create", unique("k"), "-r", ring, "-i", instance)
    assert key["keyRingID"] == ring
    in_ring = logged_in.json("kp", "keys", "-r", ring, "-i", instance)
    assert [k["id"] for k in in_ring] == [key["id"]]


def test_instance_policies(logged_in: Cli, instance: str, server: LiveServer) -> None:
    owner = {"Authorization": f"Bearer {logged_in.session()['access_token']}"}
    policy = {
        "metadata": {"collectionType": "application/vnd.ibm.kms.policy+json", "collectionTotal": 1},
        "resources": [{"policy_type": "dualAuthDelete", "policy_data": {"enabled": True}}],
    }
    with httpx.Client(base_url=server.url, timeout=10) as http:
        put = http.put(
            "/api/v2/instance/policies",
            params={"policy": "dualAuthDelete"},
            json=policy,
            headers={**owner, "Bluemix-Instance": instance},
        )
    assert put.status_code == 204, put.text
    policies = logged_in.json("kp", "instance", "policies", "-i", instance)
    (found,) = [p for p in policies if p["policy_type"] == "dualAuthDelete"]
    assert found["policy_data"]["enabled"] is True
    table = logged_in.ok("kp", "instance", "policies", "-i", instance).stdout
    assert "dualAuthDelete" in table and "true" in table
