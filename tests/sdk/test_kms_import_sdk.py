"""Import tokens and secure import through the official Key Protect client (`keyprotect` 3.x,
`IbmKeyProtectApiV2`) against a live server (spec kms-api.md §3 rows 27-28, §3.7). The client
side of the import is done exactly as IBM's tutorial and the go client do it: the material is
encrypted to the token's public key with RSA-OAEP, the token's nonce under the material with
AES-GCM. The key lifecycle's clock is moved instead of sleeping."""

from __future__ import annotations

import base64
import os
from datetime import datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import MGF1, OAEP
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from ibm_cloud_sdk_core import ApiException

from tests.sdk.conftest import identity_client
from tests.sdk.kms_helpers import (
    Kms,
    Tenant,
    body,
    create_key,
    grant,
    kms,
    kp_client,
    new_tenant,
    reason,
    result_json,
    role_crn,
)

__all__ = ["kms"]  # the module-scoped fixture

SHA_256 = "RSAES_OAEP_SHA_256"
SHA_1 = "RSAES_OAEP_SHA_1"
HASHES: dict[str, type[hashes.HashAlgorithm]] = {SHA_256: hashes.SHA256, SHA_1: hashes.SHA1}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def date(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def post_token(tenant: Tenant, **options: Any) -> dict[str, Any]:
    response = tenant.client.post_import_token(bluemix_instance=tenant.instance, **options)
    assert response.get_status_code() == 200
    found: dict[str, Any] = result_json(response)
    return found


def get_token(tenant: Tenant) -> dict[str, Any]:
    response = tenant.client.get_import_token(bluemix_instance=tenant.instance)
    assert response.get_status_code() == 200
    found: dict[str, Any] = result_json(response)
    return found


def sealed_for(
    token: dict[str, Any],
    material: bytes,
    algorithm: str = SHA_256,
    *,
    nonce: bytes | None = None,
    nonce_key: bytes | None = None,
    iv: bytes | None = None,
) -> dict[str, str]:
    """What a client sends to import `material` with `token` (a `GET /import_token` answer):
    `payload` = RSA-OAEP(material) under the token's public key, `encryptedNonce` =
    AES-GCM(key = material, 12-byte IV)(nonce) with its tag, and `iv`. `nonce` and `nonce_key`
    replace the token's nonce and the material as the nonce's key, to make wrong requests."""
    public = serialization.load_pem_public_key(base64.b64decode(token["payload"], validate=True))
    assert isinstance(public, rsa.RSAPublicKey)
    hash_ = HASHES[algorithm]()
    payload = public.encrypt(material, OAEP(mgf=MGF1(hash_), algorithm=hash_, label=None))
    iv = iv or os.urandom(12)
    nonce = nonce if nonce is not None else base64.b64decode(token["nonce"])
    encrypted_nonce = AESGCM(nonce_key or material).encrypt(iv, nonce, None)
    return {
        "payload": b64(payload),
        "encryptedNonce": b64(encrypted_nonce),
        "iv": b64(iv),
        "encryptionAlgorithm": algorithm,
    }


def refused_create(tenant: Tenant, fields: dict[str, Any]) -> ApiException:
    with pytest.raises(ApiException) as refused:
        create_key(tenant, "refused", **fields)
    return refused.value


# -- the import token ---------------------------------------------------------------------------


def test_an_import_token_is_made_retrieved_and_replaced(kms: Kms) -> None:
    tenant = new_tenant(kms.server)
    kp, inst = tenant.client, tenant.instance
    with pytest.raises(ApiException) as refused:
        kp.get_import_token(bluemix_instance=inst)
    assert refused.value.code == 404 and reason(refused.value) == "IMPORT_TOKEN_NOT_FOUND_ERR"

    made = post_token(tenant, expiration=900, max_allowed_retrievals=3)
    assert set(made) == {
        "creationDate",
        "expirationDate",
        "maxAllowedRetrievals",
        "remainingRetrievals",
    }
    assert made["maxAllowedRetrievals"] == 3 and made["remainingRetrievals"] == 3
    assert type(made["maxAllowedRetrievals"]) is int and type(made["remainingRetrievals"]) is int
    assert date(made["creationDate"]) == kms.clock.now().replace(microsecond=0)
    assert date(made["expirationDate"]) - date(made["creationDate"]) == timedelta(seconds=900)

    got = get_token(tenant)
    assert got["remainingRetrievals"] == 2 and got["maxAllowedRetrievals"] == 3
    assert got["creationDate"] == made["creationDate"]
    assert got["expirationDate"] == made["expirationDate"]
    # `payload` is base64 of a PEM `PUBLIC KEY` for RSA-4096; `nonce` is 12 bytes.
    pem = base64.b64decode(got["payload"], validate=True)
    assert pem.startswith(b"-----BEGIN PUBLIC KEY-----")
    public = serialization.load_pem_public_key(pem)
    assert isinstance(public, rsa.RSAPublicKey)
    assert public.key_size == 4096 and public.public_numbers().e == 65537
    assert len(base64.b64decode(got["nonce"], validate=True)) == 12
    again = get_token(tenant)
    assert again["remainingRetrievals"] == 1
    assert again["payload"] == got["payload"] and again["nonce"] == got["nonce"]

    # A new token replaces the old one: another key, another nonce, a fresh budget; defaults
    # are 600 seconds and one retrieval.
    kms.clock.advance(10)
    replaced = post_token(tenant)
    assert replaced["maxAllowedRetrievals"] == 1 and replaced["remainingRetrievals"] == 1
    assert date(replaced["expirationDate"]) - date(replaced["creationDate"]) == timedelta(
        seconds=600
    )
    fresh = get_token(tenant)
    assert fresh["payload"] != got["payload"] and fresh["nonce"] != got["nonce"]
    assert fresh["remainingRetrievals"] == 0


def test_retrievals_run_out_but_the_retrieved_token_still_imports(kms: Kms) -> None:
    """The budget limits `GET` (spec §3.7); the tutorial's one-retrieval token is retrieved
    once and then used to import."""
    tenant = new_tenant(kms.server)
    post_token(tenant, max_allowed_retrievals=2)
    first = get_token(tenant)
    assert get_token(tenant)["remainingRetrievals"] == 0
    with pytest.raises(ApiException) as refused:
        tenant.client.get_import_token(bluemix_instance=tenant.instance)
    assert refused.value.code == 409 and reason(refused.value) == "IMPORT_TOKEN_EXPIRED_ERR"
    key = create_key(tenant, "after-the-last-retrieval", **sealed_for(first, os.urandom(32)))
    assert key["imported"] is True


def test_an_expired_token_is_neither_retrieved_nor_used(kms: Kms) -> None:
    tenant = new_tenant(kms.server)
    post_token(tenant, expiration=300, max_allowed_retrievals=5)
    token = get_token(tenant)
    kms.clock.advance(299)
    assert create_key(tenant, "in-time", **sealed_for(token, os.urandom(32)))["imported"] is True
    kms.clock.advance(1)
    with pytest.raises(ApiException) as refused:
        tenant.client.get_import_token(bluemix_instance=tenant.instance)
    assert refused.value.code == 409 and reason(refused.value) == "IMPORT_TOKEN_EXPIRED_ERR"
    late = refused_create(tenant, sealed_for(token, os.urandom(32)))
    assert late.code == 409 and reason(late) == "IMPORT_TOKEN_EXPIRED_ERR"
    # Expiry did not spend a retrieval, and a new token works again.
    post_token(tenant)
    assert create_key(tenant, "renewed", **sealed_for(get_token(tenant), os.urandom(16)))


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"expiration": 299}, "expiration"),
        ({"expiration": 86401}, "expiration"),
        ({"expiration": 600.5}, "expiration"),
        ({"max_allowed_retrievals": 0}, "maxAllowedRetrievals"),
        ({"max_allowed_retrievals": 501}, "maxAllowedRetrievals"),
    ],
)
def test_token_options_out_of_range_are_refused(
    kms: Kms, options: dict[str, Any], field: str
) -> None:
    tenant = new_tenant(kms.server)
    with pytest.raises(ApiException) as refused:
        tenant.client.post_import_token(bluemix_instance=tenant.instance, **options)
    assert refused.value.code == 400 and reason(refused.value) == "INVALID_FIELD_ERR"
    target = refused.value.http_response.json()["resources"][0]["reasons"][0]["target"]
    assert target == {"type": "field", "name": field}
    with pytest.raises(ApiException) as refused:
        tenant.client.get_import_token(bluemix_instance=tenant.instance)
    assert refused.value.code == 404  # nothing was made


def test_the_longest_expiration_and_the_largest_budget_are_accepted(kms: Kms) -> None:
    tenant = new_tenant(kms.server)
    made = post_token(tenant, expiration=86400, max_allowed_retrievals=500)
    assert date(made["expirationDate"]) - date(made["creationDate"]) == timedelta(days=1)
    assert made["remainingRetrievals"] == 500


def test_writers_make_and_retrieve_tokens_readers_do_neither(kms: Kms) -> None:
    """Seed 000 table 4 / spec §4.1: `importtoken.create` and `importtoken.read` are Writer
    and Manager actions; a Reader can do neither."""
    tenant = new_tenant(kms.server)
    iam = identity_client(kms.server, tenant.apikey)
    clients = {}
    for role in ("Reader", "Writer"):
        sid = iam.create_service_id(account_id=tenant.account_id, name=role).get_result()
        apikey = iam.create_api_key(name=role, iam_id=sid["iam_id"]).get_result()["apikey"]
        grant(kms.server, tenant, sid["iam_id"], role_crn(role))
        clients[role] = kp_client(kms.server, apikey)
    made = post_token(tenant, max_allowed_retrievals=3)
    reader = clients["Reader"]
    for call in (reader.post_import_token, reader.get_import_token):
        with pytest.raises(ApiException) as refused:
            call(bluemix_instance=tenant.instance)
        assert refused.value.code == 401 and reason(refused.value) == "UNAUTHORIZED_ERR"
    # The refused POST replaced nothing, the refused GET spent nothing.
    assert get_token(tenant)["remainingRetrievals"] == 2
    writer = clients["Writer"]
    kms.clock.advance(5)
    by_writer = result_json(writer.post_import_token(bluemix_instance=tenant.instance))
    assert by_writer["creationDate"] != made["creationDate"]
    got = result_json(writer.get_import_token(bluemix_instance=tenant.instance))
    assert got["remainingRetrievals"] == 0 and "payload" in got


# -- secure import -------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", [SHA_256, SHA_1])
def test_secure_import_of_a_root_and_a_standard_key(kms: Kms, algorithm: str) -> None:
    tenant = new_tenant(kms.server)
    kp, inst = tenant.client, tenant.instance
    post_token(tenant)
    token = get_token(tenant)  # its one retrieval

    material = os.urandom(32)
    root = create_key(tenant, "imported-root", **sealed_for(token, material, algorithm))
    assert root["imported"] is True and root["extractable"] is False and "payload" not in root
    dek = os.urandom(32)
    wrapped = result_json(
        kp.wrap_key(
            id=root["id"], bluemix_instance=inst, key_action_wrap_body=body({"plaintext": b64(dek)})
        )
    )
    opened = result_json(
        kp.unwrap_key(
            id=root["id"],
            bluemix_instance=inst,
            key_action_unwrap_body=body({"ciphertext": wrapped["ciphertext"]}),
        )
    )
    assert base64.b64decode(opened["plaintext"]) == dek

    # The material stored is the material sent: a standard key shows it back.
    secret = os.urandom(32)
    standard = create_key(
        tenant, "imported-standard", extractable=True, **sealed_for(token, secret, algorithm)
    )
    assert standard["imported"] is True and base64.b64decode(standard["payload"]) == secret
    got = result_json(kp.get_key(id=standard["id"], bluemix_instance=inst))["resources"][0]
    assert base64.b64decode(got["payload"]) == secret


def test_secure_import_refuses_what_the_token_does_not_prove(kms: Kms) -> None:
    tenant = new_tenant(kms.server)
    material = os.urandom(32)
    no_token = refused_create(
        tenant, {"payload": b64(material), "encryptedNonce": "AA==", "iv": "AA=="}
    )
    assert no_token.code == 404 and reason(no_token) == "IMPORT_TOKEN_NOT_FOUND_ERR"

    post_token(tenant, max_allowed_retrievals=5)
    old = get_token(tenant)
    post_token(tenant, max_allowed_retrievals=5)  # replaces `old`
    token = get_token(tenant)
    good = sealed_for(token, material)

    cases: list[tuple[dict[str, Any], str]] = [
        # The nonce of the token it replaced: it opens, but it is not this token's.
        (sealed_for(token, material, nonce=base64.b64decode(old["nonce"])), "INCORRECT_NONCE_ERR"),
        # Encrypted under other material, or sent with another IV: it does not open.
        (sealed_for(token, material, nonce_key=os.urandom(32)), "INCORRECT_NONCE_IV_ERR"),
        ({**good, "iv": b64(os.urandom(12))}, "INCORRECT_NONCE_IV_ERR"),
        # encryptedNonce and iv go together.
        ({k: v for k, v in good.items() if k != "iv"}, "INVALID_FIELD_ERR"),
        ({k: v for k, v in good.items() if k != "encryptedNonce"}, "INVALID_FIELD_ERR"),
        ({k: v for k, v in good.items() if k != "payload"}, "INVALID_FIELD_ERR"),
        # A payload for the replaced token, a tampered one, one of the other algorithm.
        (sealed_for(old, material), "INVALID_FIELD_ERR"),
        ({**good, "payload": _flip_last_byte(good["payload"])}, "INVALID_FIELD_ERR"),
        ({**good, "encryptionAlgorithm": SHA_1}, "INVALID_FIELD_ERR"),
        ({**good, "encryptionAlgorithm": "RSAES_PKCS1_V1_5"}, "INVALID_FIELD_ERR"),
        ({**good, "payload": "not base64!"}, "INVALID_FIELD_ERR"),
        # A root key is 16, 24 or 32 bytes, encrypted or not.
        (sealed_for(token, os.urandom(20), nonce_key=material), "INVALID_FIELD_ERR"),
    ]
    for fields, code in cases:
        refused = refused_create(tenant, fields)
        assert (refused.code, reason(refused)) == (400, code), fields
    # Nothing was made by the refusals; the right request still works.
    listed = result_json(tenant.client.get_keys(bluemix_instance=tenant.instance))
    assert listed["metadata"]["collectionTotal"] == 0
    assert create_key(tenant, "right", **good)["imported"] is True


def _flip_last_byte(value: str) -> str:
    raw = bytearray(base64.b64decode(value))
    raw[-1] ^= 1
    return b64(bytes(raw))


def test_a_securely_imported_key_rotates_with_a_new_token_protected_payload(kms: Kms) -> None:
    tenant = new_tenant(kms.server)
    kp, inst = tenant.client, tenant.instance
    post_token(tenant)
    key = create_key(tenant, "rotating", **sealed_for(get_token(tenant), os.urandom(32)))
    wrapped = result_json(
        kp.wrap_key(
            id=key["id"], bluemix_instance=inst, key_action_wrap_body=body({"plaintext": b64(b"d")})
        )
    )

    def rotate(fields: dict[str, Any] | None) -> Any:
        return kp.rotate_key(
            id=key["id"],
            bluemix_instance=inst,
            key_action_rotate_body=None if fields is None else body(fields),
        )

    post_token(tenant, max_allowed_retrievals=2)
    token = get_token(tenant)
    new_material = os.urandom(32)
    for fields, status, code in [
        (None, 400, "KEY_PAYLOAD_REQ_ERR"),
        # Imported with a token, rotated with one: a bare payload is refused.
        ({"payload": b64(new_material)}, 400, "INVALID_FIELD_ERR"),
        (sealed_for(token, new_material, nonce=os.urandom(12)), 400, "INCORRECT_NONCE_ERR"),
    ]:
        with pytest.raises(ApiException) as refused:
            rotate(fields)
        assert (refused.value.code, reason(refused.value)) == (status, code)

    assert rotate(sealed_for(token, new_material, SHA_1)).get_status_code() == 204
    meta = result_json(kp.get_key_metadata(id=key["id"], bluemix_instance=inst))["resources"][0]
    assert meta["keyVersion"]["id"] != key["id"] and "lastRotateDate" in meta
    # The old version still unwraps, and the ciphertext comes back under the new one.
    again = result_json(
        kp.unwrap_key(
            id=key["id"],
            bluemix_instance=inst,
            key_action_unwrap_body=body({"ciphertext": wrapped["ciphertext"]}),
        )
    )
    assert base64.b64decode(again["plaintext"]) == b"d"
    assert again["rewrappedKeyVersion"]["id"] == meta["keyVersion"]["id"]

    # Once the token expires, the next rotation (an hour on) needs a new one.
    kms.clock.advance(3600)
    with pytest.raises(ApiException) as refused:
        rotate(sealed_for(token, os.urandom(32)))
    assert refused.value.code == 409 and reason(refused.value) == "IMPORT_TOKEN_EXPIRED_ERR"


def test_a_generated_key_is_not_rotated_with_token_fields(kms: Kms) -> None:
    tenant = new_tenant(kms.server)
    key = create_key(tenant, "generated")
    post_token(tenant)
    token = get_token(tenant)
    for fields in (sealed_for(token, os.urandom(32)), {"encryptedNonce": "AA==", "iv": "AA=="}):
        with pytest.raises(ApiException) as refused:
            tenant.client.rotate_key(
                id=key["id"], bluemix_instance=tenant.instance, key_action_rotate_body=body(fields)
            )
        assert refused.value.code == 400 and reason(refused.value) == "INVALID_FIELD_ERR"
