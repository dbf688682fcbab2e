"""reliability.md A3 (c), T6: the credentials a caller presents are stored in events only as
`hmac-sha256:<hex>` under the deployment's salt, never as they are, and `POST /v1/audit/hash`
gives an operator the same hash, so a planted value is found in the trail by it."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from strongroom.audit.hashing import PREFIX, AuditHasher
from strongroom.audit.salt import META_KEY
from strongroom.testing.server import LiveServer
from tests.audit.helpers import stored_text

APIKEY_GRANT = "urn:ibm:params:oauth:grant-type:apikey"


def _events(http: httpx.Client, headers: dict[str, str], action: str) -> list[dict[str, Any]]:
    """Every event of `action` in the account, page after page: the server is shared with the
    rest of the suite, whose logins come before this test's."""
    params: dict[str, Any] = {"action": action, "limit": 100}
    found: list[dict[str, Any]] = []
    while True:
        page = http.get("/v1/audit/events", params=params, headers=headers)
        assert page.status_code == 200, page.text
        body = page.json()
        found += [item["event"] for item in body["events"]]
        if "next" not in body:
            return found
        params["start_token"] = body["next"]["start_token"]


def _hash(http: httpx.Client, headers: dict[str, str], value: str) -> str:
    answer = http.post("/v1/audit/hash", json={"input": value}, headers=headers)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["hash"])


def test_a_planted_credential_is_stored_as_its_hash_and_found_by_it(
    server: LiveServer, http: httpx.Client, bearer: dict[str, str]
) -> None:
    sid = http.post(
        "/v1/serviceids/",
        json={"account_id": server.account_id, "name": f"canary-{uuid.uuid4().hex[:6]}"},
        headers=bearer,
    ).json()
    planted = http.post(
        "/v1/apikeys", json={"name": "canary", "iam_id": sid["iam_id"]}, headers=bearer
    ).json()["apikey"]
    login = http.post("/identity/token", data={"grant_type": APIKEY_GRANT, "apikey": planted})
    assert login.status_code == 200, login.text
    token = login.json()["access_token"]
    wrong = "canary-" + uuid.uuid4().hex * 2  # a refused login records its value hashed too
    refused = http.post("/identity/token", data={"grant_type": APIKEY_GRANT, "apikey": wrong})
    assert refused.status_code == 400

    planted_hash = _hash(http, bearer, planted)
    assert planted_hash.startswith(PREFIX) and len(planted_hash) == len(PREFIX) + 64
    assert _hash(http, bearer, planted) == planted_hash  # deterministic: searchable
    logins = _events(http, bearer, "iam-identity.apikey.login")
    found = [e for e in logins if e.get("requestData", {}).get("apikey") == planted_hash]
    assert len(found) == 1 and found[0]["outcome"] == "success"
    assert found[0]["requestData"]["grant_type"] == APIKEY_GRANT
    # The token this login gave, used on a call: the call's event holds the token's hash.
    made = http.post(
        "/v1/serviceids/",
        json={"account_id": server.account_id, "name": "made-with-canary-token"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert made.status_code in (201, 403), made.text
    token_hash = _hash(http, bearer, token)
    creates = _events(http, bearer, "iam-identity.serviceid.create")
    assert any(e["initiator"]["credential"].get("token") == token_hash for e in creates)

    # 0 plaintext: neither value, nor the bearer tokens, anywhere in the stored events.
    text = "\n".join(stored_text(server))
    for secret in (planted, wrong, token, bearer["Authorization"].split()[1]):
        assert secret not in text
    assert _hash(http, bearer, wrong) in text


def test_the_salt_is_per_deployment_sealed_and_not_in_the_database(server: LiveServer) -> None:
    with server.runtime.uow() as unit:
        sealed = unit.meta.get(META_KEY)
    assert sealed  # stored sealed under the root key; the hasher's key is not that text
    hasher = server.runtime.container.audit.writer.hasher
    assert hasher.hash("x") != AuditHasher(sealed.encode()[:32]).hash("x")
    # Another deployment (another salt) hashes the same value differently.
    assert hasher.hash("x") != AuditHasher(b"\0" * 32).hash("x")


def test_sensitive_fields_at_any_depth_are_hashed() -> None:
    hasher = AuditHasher(b"s" * 32)
    event = {
        "action": "x.y.z",
        "requestData": {"apikey": "A", "Password": "B", "name": "kept"},
        "nested": [{"payload": {"k": 1}}, {"plaintext": "C"}],
        "initiator": {"id": "iam-ServiceId-1", "credential": {"type": "token", "token": "D"}},
    }
    out = hasher.redact(event)
    assert out["requestData"] == {"apikey": hasher.hash("A"), "Password": hasher.hash("B"),
                                  "name": "kept"}  # fmt: skip
    assert out["nested"][0]["payload"] == hasher.hash('{"k":1}')
    assert out["nested"][1]["plaintext"] == hasher.hash("C")
    credential = {"type": "token", "token": hasher.hash("D")}
    assert out["initiator"] == {"id": "iam-ServiceId-1", "credential": credential}
    assert event["requestData"]["apikey"] == "A"  # the caller's copy is untouched
    assert all(s not in json.dumps(out) for s in ('"A"', '"B"', '"C"', '"D"'))


def test_the_hash_helper_needs_its_action(
    server: LiveServer, http: httpx.Client, bearer: dict[str, str]
) -> None:
    assert http.post("/v1/audit/hash", json={"input": "x"}).status_code == 401
    assert http.post("/v1/audit/hash", json={}, headers=bearer).status_code == 400
    # A service ID with no policy: refused.
    sid = http.post(
        "/v1/serviceids/", json={"account_id": server.account_id, "name": "nohash"},
        headers=bearer,
    ).json()  # fmt: skip
    key = http.post(
        "/v1/apikeys", json={"name": "nohash", "iam_id": sid["iam_id"]}, headers=bearer
    ).json()["apikey"]
    token = http.post("/identity/token", data={"grant_type": APIKEY_GRANT, "apikey": key}).json()[
        "access_token"
    ]
    refused = http.post(
        "/v1/audit/hash", json={"input": "x"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert refused.status_code == 403, refused.text
    # An API key presented in `IAM-ApiKey` and refused: its event holds the key's hash only.
    details = http.get(
        "/v1/apikeys/details",
        headers={"Authorization": f"Bearer {token}", "IAM-ApiKey": server.apikey},
    )
    assert details.status_code == 403, details.text
    refusals = [
        e for e in _events(http, bearer, "iam-identity.apikey.get") if e["outcome"] == "failure"
    ]
    assert refusals[-1]["requestData"] == {"apikey": _hash(http, bearer, server.apikey)}
    assert server.apikey not in "\n".join(stored_text(server))


@pytest.mark.parametrize("value", ["", "é", "x" * 1000])
def test_hash_of_any_text(value: str) -> None:
    assert AuditHasher(b"k" * 32).hash(value).startswith(PREFIX)
