"""Trusted profiles over HTTP: bad input is refused naming the field and writes nothing; another
account's profile answers exactly like a missing one; the token endpoint's profile grants refuse
malformed requests."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from strongroom.testing.server import LiveServer
from tests.api.conftest import token_for

RULE = {
    "type": "Profile-CR",
    "cr_type": "VSI",
    "conditions": [{"claim": "sub", "operator": "EQUALS", "value": '"vm"'}],
}


def message_of(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["message"])


def new_profile(http: httpx.Client, bearer: dict[str, str], account: str) -> dict[str, Any]:
    made = http.post(
        "/v1/profiles",
        json={"account_id": account, "name": f"p-{uuid.uuid4().hex[:8]}"},
        headers=bearer,
    )
    assert made.status_code == 201, made.text
    return dict(made.json())


def state(http: httpx.Client, bearer: dict[str, str], pid: str) -> tuple[Any, ...]:
    base = f"/v1/profiles/{pid}"
    return tuple(
        http.get(base + part, headers=bearer).json()
        for part in ("", "/rules", "/links", "/identities")
    )


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/rules", {**RULE, "cr_type": "LAPTOP"}, "cr_type"),
        ("/rules", {**RULE, "type": "Profile-LDAP"}, "type"),
        ("/rules", {**RULE, "cr_type": None}, "cr_type"),
        ("/rules", {"type": "Profile-SAML", "conditions": RULE["conditions"]}, "realm_name"),
        ("/rules", {**RULE, "conditions": []}, "conditions"),
        (
            "/rules",
            {**RULE, "conditions": [{"claim": "sub", "operator": "LIKE", "value": '"x"'}]},
            "conditions[0].operator",
        ),
        (
            "/rules",
            {**RULE, "conditions": [{"claim": "sub", "operator": "IN", "value": "{}"}]},
            "conditions[0].value",
        ),
        ("/rules", {**RULE, "expiration": 5}, "expiration"),
        ("/links", {"cr_type": "VM", "link": {"crn": "crn:v1:a:b:c:d:e:f:g:h"}}, "cr_type"),
        ("/links", {"cr_type": "VSI", "link": {"crn": "not-a-crn"}}, "link.crn"),
        ("/links", {"cr_type": "IKS_SA", "link": {"crn": "crn:v1:a:b:c:d:e:f:g:h"}}, "namespace"),
        ("/links", {"cr_type": "VSI"}, "link"),
    ],
)
def test_bad_rules_and_links_are_refused_naming_the_field(
    server: LiveServer,
    http: httpx.Client,
    bearer: dict[str, str],
    path: str,
    body: dict[str, Any],
    field: str,
) -> None:
    pid = new_profile(http, bearer, server.account_id)["id"]
    before = state(http, bearer, pid)
    refused = http.post(f"/v1/profiles/{pid}{path}", json=body, headers=bearer)
    assert refused.status_code == 400, refused.text
    assert field in message_of(refused)
    assert state(http, bearer, pid) == before


def test_bad_identities_are_refused_naming_the_entry(
    server: LiveServer, http: httpx.Client, bearer: dict[str, str]
) -> None:
    pid = new_profile(http, bearer, server.account_id)["id"]
    url = f"/v1/profiles/{pid}/identities"
    headers = {**bearer, "If-Match": "*"}
    for identities, field in (
        ([{"identifier": "x", "type": "group"}], "identities[0].type"),
        ([{"identifier": "IBMid-1", "type": "user", "accounts": ["nope"]}], "accounts[0]"),
        ([{"identifier": "IBMid-1", "type": "user"}] * 2, "identities[1].identifier"),
        ([{"identifier": "crn:bad", "type": "crn"}], "identities[0].identifier"),
    ):
        refused = http.put(url, json={"identities": identities}, headers=headers)
        assert refused.status_code == 400 and field in message_of(refused), refused.text
    mismatch = http.post(
        url + "/user", json={"identifier": "ServiceId-1", "type": "serviceid"}, headers=bearer
    )
    assert mismatch.status_code == 400 and "type" in message_of(mismatch)
    assert http.get(url, headers=bearer).json()["identities"] == []


def test_limits_duplicates_and_preconditions(
    server: LiveServer, http: httpx.Client, bearer: dict[str, str]
) -> None:
    profile = new_profile(http, bearer, server.account_id)
    pid = profile["id"]
    for _ in range(20):
        assert http.post(f"/v1/profiles/{pid}/rules", json=RULE, headers=bearer).status_code == 201
    over = http.post(f"/v1/profiles/{pid}/rules", json=RULE, headers=bearer)
    assert over.status_code == 422 and "20" in message_of(over)
    assert len(http.get(f"/v1/profiles/{pid}/rules", headers=bearer).json()["rules"]) == 20

    duplicate = http.post(
        "/v1/profiles",
        json={"account_id": server.account_id, "name": profile["name"]},
        headers=bearer,
    )
    assert duplicate.status_code == 409 and profile["name"] in message_of(duplicate)

    url = f"/v1/profiles/{pid}"
    missing = http.put(url, json={"name": "renamed"}, headers=bearer)
    assert missing.status_code == 428
    stale = http.put(url, json={"name": "renamed"}, headers={**bearer, "If-Match": "1-" + "0" * 32})
    assert stale.status_code == 412
    no_tag = http.put(url + "/identities", json={"identities": []}, headers=bearer)
    assert no_tag.status_code == 428
    assert http.get(url, headers=bearer).json()["name"] == profile["name"]

    for account in ("invalid", "0" * 32):
        refused = http.post(
            "/v1/profiles", json={"account_id": account, "name": "x"}, headers=bearer
        )
        assert refused.status_code == 400 and account in message_of(refused)
    assert http.get("/v1/profiles", params={"name": "x"}, headers=bearer).json()["profiles"] == []


def test_unknown_ids_answer_404_naming_them(
    server: LiveServer, http: httpx.Client, bearer: dict[str, str]
) -> None:
    pid = new_profile(http, bearer, server.account_id)["id"]
    for path, ident in (
        (f"/v1/profiles/Profile-{uuid.uuid4()}", "Profile-"),
        (f"/v1/profiles/{pid}/rules/ClaimRule-nope", "ClaimRule-nope"),
        (f"/v1/profiles/{pid}/links/ProfileLink-nope", "ProfileLink-nope"),
        (f"/v1/profiles/{pid}/identities/user/IBMid-NOPE", "IBMid-NOPE"),
    ):
        response = http.get(path, headers=bearer)
        assert response.status_code == 404 and ident in message_of(response), response.text
    gone = http.delete(f"/v1/profiles/{pid}/links", params={"type": "VSI"}, headers=bearer)
    assert gone.status_code == 404


def test_another_accounts_profile_answers_as_missing(
    server: LiveServer, http: httpx.Client, bearer: dict[str, str]
) -> None:
    other = server.container.identity.create_account("other", "other@example.com", None)
    theirs = {"Authorization": f"Bearer {token_for(http, other.owner_key.value)}"}
    foreign = new_profile(http, theirs, other.account.id)["id"]
    unknown = f"Profile-{uuid.uuid4()}"
    for method, suffix, body in (
        ("GET", "", None),
        ("PUT", "", {"name": "mine"}),
        ("DELETE", "", None),
        ("GET", "/rules", None),
        ("POST", "/rules", RULE),
        ("GET", "/links", None),
        ("POST", "/links", {"cr_type": "VSI", "link": {"crn": "crn:v1:a:b:c:d:e:f:g:h"}}),
        ("GET", "/identities", None),
        ("PUT", "/identities", {"identities": []}),
        ("POST", "/identities/user", {"identifier": "IBMid-1", "type": "user"}),
    ):
        answers = [
            http.request(
                method,
                f"/v1/profiles/{pid}{suffix}",
                json=body,
                headers={**bearer, "If-Match": "*"},
            )
            for pid in (foreign, unknown)
        ]
        assert [a.status_code for a in answers] == [404, 404], (method, suffix)
        messages = [
            message_of(a).replace(pid, "<id>")
            for a, pid in zip(answers, (foreign, unknown), strict=True)
        ]
        assert messages[0] == messages[1]
    listed = http.get("/v1/profiles", params={"account_id": other.account.id}, headers=bearer)
    assert listed.status_code == 403
    mine = http.get("/v1/profiles", params={"account_id": server.account_id}, headers=bearer)
    assert foreign not in {p["id"] for p in mine.json()["profiles"]}
    assert http.get(f"/v1/profiles/{foreign}", headers=theirs).status_code == 200


@pytest.mark.parametrize(
    ("form", "needle"),
    [
        (
            {"grant_type": "urn:ibm:params:oauth:grant-type:assume", "profile_id": "P"},
            "access_token",
        ),
        (
            {"grant_type": "urn:ibm:params:oauth:grant-type:assume", "access_token": "x"},
            "profile",
        ),
        (
            {
                "grant_type": "urn:ibm:params:oauth:grant-type:assume",
                "access_token": "x",
                "profile_name": "p",
            },
            "account",
        ),
        ({"grant_type": "urn:ibm:params:oauth:grant-type:cr-token", "profile_id": "P"}, "cr_token"),
        (
            {
                "grant_type": "urn:ibm:params:oauth:grant-type:assume",
                "access_token": "x.y.z",
                "profile_id": "P",
            },
            "access token",
        ),
        (
            {
                "grant_type": "urn:ibm:params:oauth:grant-type:cr-token",
                "cr_token": "x",
                "profile_id": "P",
            },
            "compute-resource",
        ),
    ],
)
def test_profile_grants_refuse_malformed_requests(
    http: httpx.Client, form: dict[str, str], needle: str
) -> None:
    refused = http.post("/identity/token", data=form)
    assert refused.status_code == 400
    body = refused.json()
    assert body["errorCode"].startswith("BXNIM") and needle in body["errorMessage"], body
