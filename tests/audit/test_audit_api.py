"""The audit trail through its API, on SQLite and PostgreSQL (reliability.md A3): key operations
are data events, no secret ever reaches an event or an export, queries filter and page, the
export is JSON lines whose chain a reader can check, and tenants see their own events only."""

from __future__ import annotations

import base64
import json
import os
import uuid
from typing import Any

import httpx

from strongroom.audit.chain import GENESIS, link
from strongroom.testing.server import LiveServer
from tests.api.conftest import token_for
from tests.audit.helpers import HPCS_PLAN, kms_instance, new_key, stored_text, wrap

NDJSON = "application/x-ndjson"


def all_events(http: httpx.Client, headers: dict[str, str], **params: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    query: dict[str, str] = {**params, "limit": "100"}
    while True:
        page = http.get("/v1/audit/events", params=query, headers=headers)
        assert page.status_code == 200, page.text
        found.extend(page.json()["events"])
        nxt = page.json().get("next")
        if not nxt:
            return found
        query["start_token"] = nxt["start_token"]


def test_key_operations_are_data_events_and_no_secret_is_stored(
    server: LiveServer, http: httpx.Client, bearer: dict[str, str]
) -> None:
    sid = http.post(
        "/v1/serviceids/", json={"account_id": server.account_id, "name": "audit"}, headers=bearer
    ).json()
    apikey = http.post(
        "/v1/apikeys", json={"name": "audit", "iam_id": sid["iam_id"]}, headers=bearer
    ).json()["apikey"]
    form = {"grant_type": "urn:ibm:params:oauth:grant-type:apikey", "apikey": apikey}
    first = http.post("/identity/token", data=form, auth=("bx", "bx")).json()
    second = http.post(
        "/identity/token",
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        auth=("bx", "bx"),
    ).json()
    replayed = http.post(
        "/identity/token",
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        auth=("bx", "bx"),
    )
    assert replayed.status_code == 400  # reuse revokes the family: a committed refusal
    instance = kms_instance(http, bearer)
    root = new_key(http, bearer, instance)
    dek = os.urandom(32)
    wrapped = wrap(http, bearer, instance, root["id"], dek)
    assert wrapped.status_code == 200, wrapped.text
    ciphertext = wrapped.json()["ciphertext"]
    unwrapped = http.post(
        f"/api/v2/keys/{root['id']}/actions/unwrap",
        json={"ciphertext": ciphertext},
        headers={**bearer, "Bluemix-Instance": instance},
    )
    assert unwrapped.status_code == 200 and base64.b64decode(unwrapped.json()["plaintext"]) == dek
    payload = base64.b64encode(os.urandom(32)).decode()
    standard = new_key(http, bearer, instance, extractable=True, payload=payload)
    read = http.get(
        f"/api/v2/keys/{standard['id']}", headers={**bearer, "Bluemix-Instance": instance}
    )
    assert read.json()["resources"][0]["payload"] == payload

    events = [item["event"] for item in all_events(http, bearer)]
    for action in ("kms.secrets.wrap", "kms.secrets.unwrap", "kms.secrets.read"):
        (event,) = [e for e in events if e["action"] == action and e["outcome"] == "success"][-1:]
        assert event["dataEvent"] is True
        assert event["target"]["id"].endswith(
            f":key:{root['id'] if 'wrap' in action else standard['id']}"
        )
        assert f":{instance}:" in event["target"]["id"]
    assert not any(e["dataEvent"] for e in events if not e["action"].startswith("kms.secrets."))
    logins = [e for e in events if e["action"] == "iam-identity.apikey.login"]
    assert logins and logins[-1]["initiator"]["id"] == sid["iam_id"]
    assert logins[-1]["initiator"]["credential"]["type"] == "apikey"
    assert logins[-1]["initiator"]["typeURI"] == "service/security/account/serviceid"
    refreshes = [e for e in events if e["action"] == "iam-identity.token.refresh"]
    assert [(e["outcome"], e["reason"]["reasonCode"]) for e in refreshes][-2:] == [
        ("success", 200),
        ("failure", 400),
    ]
    assert refreshes[-1]["initiator"]["id"] == sid["iam_id"]

    secrets = [
        apikey,
        server.apikey,
        first["access_token"],
        first["refresh_token"],
        second["access_token"],
        second["refresh_token"],
        base64.b64encode(dek).decode(),
        ciphertext,
        payload,
    ]
    export = http.get("/v1/audit/events/export", headers=bearer).text
    for text in [*stored_text(server), export]:
        for secret in secrets:
            assert secret not in text


def test_queries_filter_and_page_and_the_export_carries_the_chain(
    server: LiveServer, http: httpx.Client, bearer: dict[str, str]
) -> None:
    tag = uuid.uuid4().hex[:8]
    for n in range(3):
        made = http.post(
            "/v1/serviceids/",
            json={"account_id": server.account_id, "name": f"{tag}-{n}"},
            headers={**bearer, "Transaction-Id": f"{tag}-{n}"},
        )
        assert made.status_code == 201
    bad = http.post("/v1/serviceids/", json={"name": 7}, headers=bearer)
    assert bad.status_code == 400

    creates = all_events(http, bearer, action="iam-identity.serviceid.create")
    mine = [i for i in creates if i["event"]["correlationId"].startswith(tag)]
    assert [i["event"]["correlationId"] for i in mine] == [f"{tag}-{n}" for n in range(3)]
    assert {i["event"]["action"] for i in creates} == {"iam-identity.serviceid.create"}
    seqs = [i["seq"] for i in creates]
    assert seqs == sorted(seqs)
    page = http.get(
        "/v1/audit/events",
        params={"action": "iam-identity.serviceid.create", "limit": "2"},
        headers=bearer,
    ).json()
    assert len(page["events"]) == 2 and page["next"]["start_token"]
    failures = all_events(http, bearer, outcome="failure")
    assert failures and {i["event"]["outcome"] for i in failures} == {"failure"}
    assert any(i["event"]["reason"]["reasonCode"] == 400 for i in failures)
    assert all_events(http, bearer, start="2999-01-01T00:00:00Z") == []
    assert all_events(http, bearer, end="2000-01-01T00:00:00+00:00") == []
    assert http.get("/v1/audit/events", params={"start": "soon"}, headers=bearer).status_code == 400
    assert http.get("/v1/audit/events", params={"limit": "0"}, headers=bearer).status_code == 400

    export = http.get("/v1/audit/events/export", headers=bearer)
    assert export.status_code == 200
    assert export.headers["content-type"].startswith(NDJSON)
    lines = [json.loads(line) for line in export.text.splitlines()]
    prev = GENESIS
    for n, line in enumerate(lines, start=1):  # the reader checks the chain on its own
        assert line["seq"] == n and line["prev_hash"] == prev
        assert link(prev, server.account_id, n, line["event"]) == line["hash"]
        prev = line["hash"]
    verdict = http.get("/v1/audit/verify", headers=bearer).json()
    assert verdict["ok"] is True and verdict["events"] >= len(lines)


def test_tenants_see_only_their_own_events(
    server: LiveServer, http: httpx.Client, bearer: dict[str, str]
) -> None:
    tag = uuid.uuid4().hex
    other = server.runtime.container.identity.create_account(
        f"other {tag[:6]}", f"other.{tag[:6]}@example.com", None
    )
    theirs = {"Authorization": f"Bearer {token_for(http, other.owner_key.value)}"}
    made = http.post(
        "/v1/serviceids/",
        json={"account_id": server.account_id, "name": "mine"},
        headers={**bearer, "Transaction-Id": tag},
    )
    assert made.status_code == 201
    assert any(i["event"]["correlationId"] == tag for i in all_events(http, bearer))

    own = http.get("/v1/audit/events", headers=theirs).json()
    assert own["account_id"] == other.account.id
    assert tag not in json.dumps(own)
    assert {i["event"]["initiator"]["id"] for i in own["events"]} == {other.owner.iam_id}
    for path in ("/v1/audit/events", "/v1/audit/events/export", "/v1/audit/verify"):
        refused = http.get(path, params={"account_id": server.account_id}, headers=theirs)
        assert refused.status_code == 403, (path, refused.text)
        assert tag not in refused.text
    # Each refusal is itself an event, in the refused caller's own chain.
    denials = all_events(http, theirs, outcome="failure")
    assert len([i for i in denials if i["event"]["reason"]["reasonCode"] == 403]) == 3


def test_key_operations_on_hpcs_are_hs_crypto_events(
    server: LiveServer, http: httpx.Client, bearer: dict[str, str]
) -> None:
    instance = kms_instance(http, bearer, HPCS_PLAN)
    root = new_key(http, bearer, instance)
    assert wrap(http, bearer, instance, root["id"], os.urandom(32)).status_code == 200
    events = [i["event"] for i in all_events(http, bearer)]
    made = [e for e in events if f":{instance}:" in e["target"]["id"] and e["outcome"] == "success"]
    assert made and made[0]["action"] == "hs-crypto.secrets.create"
    (wrapped,) = [e for e in events if e["action"] == "hs-crypto.secrets.wrap"][-1:]
    assert wrapped["target"]["id"].startswith("crn:v1:bluemix:public:hs-crypto:")
    assert wrapped["target"]["id"].endswith(f":{instance}:key:{root['id']}")
    assert wrapped["dataEvent"] is True
