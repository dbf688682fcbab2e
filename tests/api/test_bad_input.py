"""Bad input gets a 4xx in IBM's error envelope that names the problem, never a 500, and a
refused request writes nothing."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable

import httpx
import pytest

from strongroom.testing.server import LiveServer
from tests.api.conftest import new_resource_group


def count_service_ids(http: httpx.Client, bearer: dict[str, str]) -> int:
    return len(
        http.get("/v1/serviceids/", params={"pagesize": 100}, headers=bearer).json()["serviceids"]
    )


def count_api_keys(http: httpx.Client, bearer: dict[str, str]) -> int:
    body = http.get(
        "/v1/apikeys", params={"pagesize": 100, "scope": "account"}, headers=bearer
    ).json()
    return len(body["apikeys"])


def assert_envelope(response: httpx.Response, status: int, *fragments: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["trace"] == response.headers["transaction-id"]
    assert str(body["status_code"]) == str(status)
    message = body["errors"][0]["message"]
    assert body["errors"][0]["code"]
    for fragment in fragments:
        assert fragment in message, (fragment, message)


@pytest.mark.parametrize(
    ("content", "status", "fragments"),
    [
        (b"{not json", 400, ("JSON",)),
        (b"[]", 400, ()),
        (json.dumps({"name": "no account"}).encode(), 400, ("account_id", "required")),
        (json.dumps({"account_id": "A", "name": 123}).encode(), 400, ("name",)),
        (
            json.dumps({"account_id": "A", "name": "x", "unique_instance_crns": "crn"}).encode(),
            400,
            ("unique_instance_crns",),
        ),
        (json.dumps({"account_id": "A", "name": ""}).encode(), 400, ("name",)),
        (json.dumps({"account_id": "A", "name": "x" * 300}).encode(), 400, ("name", "255")),
        (
            json.dumps(
                {"account_id": "A", "name": "x", "unique_instance_crns": ["not-a-crn"]}
            ).encode(),
            400,
            ("not-a-crn",),
        ),
        (
            json.dumps(
                {"account_id": "A", "name": "x", "apikey": {"name": "k", "apikey": "short"}}
            ).encode(),
            400,
            ("32",),
        ),
        (
            json.dumps(
                {"account_id": "A", "name": "x", "apikey": {"name": "k", "expires_at": "soon"}}
            ).encode(),
            400,
            ("expires_at",),
        ),
        (
            json.dumps(
                {
                    "account_id": "A",
                    "name": "x",
                    "apikey": {"name": "k", "expires_at": "2001-01-01T00:00+0000"},
                }
            ).encode(),
            400,
            ("future",),
        ),
    ],
)
def test_bad_service_id_bodies(
    server: LiveServer,
    http: httpx.Client,
    bearer: dict[str, str],
    content: bytes,
    status: int,
    fragments: tuple[str, ...],
) -> None:
    before = count_service_ids(http, bearer), count_api_keys(http, bearer)
    content = content.replace(b'"A"', json.dumps(server.account_id).encode())
    response = http.post(
        "/v1/serviceids/", content=content, headers={**bearer, "Content-Type": "application/json"}
    )
    assert_envelope(response, status, *fragments)
    assert (count_service_ids(http, bearer), count_api_keys(http, bearer)) == before


def test_body_over_one_mebibyte_is_413(
    server: LiveServer, http: httpx.Client, bearer: dict[str, str]
) -> None:
    before = count_service_ids(http, bearer)
    huge = json.dumps(
        {"account_id": server.account_id, "name": "big", "description": "x" * (1024 * 1024)}
    )
    response = http.post(
        "/v1/serviceids/", content=huge, headers={**bearer, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert "1048576" in response.json()["errors"][0]["message"]
    assert count_service_ids(http, bearer) == before


def test_api_key_for_unknown_identity_is_404_naming_it(
    http: httpx.Client, bearer: dict[str, str]
) -> None:
    before = count_api_keys(http, bearer)
    response = http.post(
        "/v1/apikeys", json={"name": "k", "iam_id": "iam-ServiceId-nope"}, headers=bearer
    )
    assert_envelope(response, 404, "iam-ServiceId-nope")
    assert count_api_keys(http, bearer) == before


def test_duplicate_caller_chosen_value_is_409(
    server: LiveServer, http: httpx.Client, bearer: dict[str, str]
) -> None:
    value = "dup-" + uuid.uuid4().hex * 2
    first = http.post(
        "/v1/apikeys", json={"name": "a", "iam_id": server.iam_id, "apikey": value}, headers=bearer
    )
    assert first.status_code == 201
    assert first.json()["apikey"] == value
    before = count_api_keys(http, bearer)
    second = http.post(
        "/v1/apikeys", json={"name": "b", "iam_id": server.iam_id, "apikey": value}, headers=bearer
    )
    assert_envelope(second, 409, "already in use")
    assert count_api_keys(http, bearer) == before


@pytest.mark.parametrize(
    ("path", "params", "fragments"),
    [
        ("/v1/serviceids/", {"pagesize": 0}, ("pagesize",)),
        ("/v1/serviceids/", {"pagesize": 101}, ("pagesize", "100")),
        ("/v1/serviceids/", {"pagesize": "ten"}, ("pagesize",)),
        ("/v1/serviceids/", {"pagetoken": "garbage!"}, ("pagetoken", "garbage!")),
        ("/v1/serviceids/", {"filter": 'color eq "red"'}, ("color",)),
        ("/v1/serviceids/", {"filter": 'name like "x"'}, ("like",)),
        ("/v1/serviceids/", {"filter": '(name eq "x"'}, ("(",)),
        ("/v1/serviceids/", {"sort": "password"}, ("password",)),
        ("/v1/serviceids/", {"order": "sideways"}, ("order",)),
        ("/v1/apikeys", {"scope": "galaxy"}, ("scope",)),
        ("/v1/apikeys", {"type": "robot"}, ("type",)),
        ("/v1/apikeys", {"include_history": "maybe"}, ("include_history",)),
    ],
)
def test_bad_list_parameters(
    http: httpx.Client, bearer: dict[str, str], path: str, params: dict, fragments: tuple[str, ...]
) -> None:
    assert_envelope(http.get(path, params=params, headers=bearer), 400, *fragments)


def _service_id(server: LiveServer, http: httpx.Client, bearer: dict[str, str]) -> dict:
    response = http.post(
        "/v1/serviceids/", json={"account_id": server.account_id, "name": "target"}, headers=bearer
    )
    assert response.status_code == 201
    return dict(response.json())


def test_if_match_rules(server: LiveServer, http: httpx.Client, bearer: dict[str, str]) -> None:
    sid = _service_id(server, http, bearer)
    url = f"/v1/serviceids/{sid['id']}"
    assert_envelope(http.put(url, json={"name": "x"}, headers=bearer), 428, "If-Match")
    assert_envelope(
        http.put(url, json={"name": "x"}, headers={**bearer, "If-Match": "1-deadbeef"}),
        412,
        "1-deadbeef",
    )
    assert http.get(url, headers=bearer).json()["name"] == "target"
    ok = http.put(
        url, json={"name": "renamed"}, headers={**bearer, "If-Match": f'"{sid["entity_tag"]}"'}
    )
    assert (
        ok.status_code == 200 and ok.headers["etag"] == ok.json()["entity_tag"] != sid["entity_tag"]
    )


def test_bad_ids_and_headers(
    server: LiveServer, http: httpx.Client, bearer: dict[str, str]
) -> None:
    for url in ("/v1/serviceids/ServiceId-nope", "/v1/apikeys/ApiKey-nope", "/v1/apikeys/%ff%fe"):
        response = http.get(url, headers=bearer)
        assert response.status_code == 404
        assert url.rsplit("/", 1)[1].split("%")[0] in response.json()["errors"][0]["message"]
    for url in ("/v1/apikeys/%00", "/v1/serviceids/?name=a%00b"):
        assert_envelope(http.get(url, headers=bearer), 400, "NUL")
    nul_body = {"account_id": server.account_id, "name": "a\x00b"}
    assert_envelope(http.post("/v1/serviceids/", json=nul_body, headers=bearer), 400, "NUL")
    assert_envelope(
        http.post(
            "/v1/serviceids/",
            json={"account_id": server.account_id, "name": "x"},
            headers={**bearer, "Entity-Lock": "yes"},
        ),
        400,
        "Entity-Lock",
    )
    assert_envelope(http.get("/v1/apikeys/details", headers=bearer), 400, "IAM-ApiKey")
    assert_envelope(
        http.get("/v1/apikeys/details", headers={**bearer, "IAM-ApiKey": "no-such-key"}), 404
    )


def test_refusals_before_the_app_use_the_envelope_of_their_path(
    http: httpx.Client, bearer: dict[str, str]
) -> None:
    """A NUL in the URL or a body over the cap is refused by the middleware before any route
    runs; the answer still has the shape IBM's SDK for that path reads (found by reliability.md
    A1: IAM Identity's `status_code` is a string, the token endpoint's error is `errorMessage`)."""
    identity = http.get("/v1/profiles/p%00/links", headers=bearer)
    assert identity.status_code == 400
    body = identity.json()
    assert body["status_code"] == "400"
    assert body["context"]["transaction_id"] == body["trace"] == identity.headers["transaction-id"]
    assert "NUL" in body["errors"][0]["message"]
    token = http.post(
        "/identity/token",
        content=b"x" * (2 * 1024 * 1024),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert token.status_code == 413
    assert token.json()["errorCode"] == "request_too_large"
    assert "bytes" in token.json()["errorMessage"]


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_a_registration_crn_with_a_newline_is_a_4xx_not_a_501(
    http: httpx.Client, bearer: dict[str, str], method: str
) -> None:
    """A newline in the CRN of `/api/v2/keys/{id}/registrations/{crn}` used to miss the route,
    whose `path` convertor stopped at it, and answer 501 "not implemented" (found by
    reliability.md A1). It reaches the route and is refused there like any unknown CRN."""
    group = new_resource_group(http, bearer)
    made = http.post(
        "/v2/resource_instances",
        json={
            "name": "kp-newline",
            "target": "us-south",
            "resource_group": group,
            "resource_plan_id": "eedd3585-90c6-4c8f-be3d-062069e99fc3",
        },
        headers=bearer,
    )
    assert made.status_code == 201, made.text
    response = http.request(
        method,
        f"/api/v2/keys/{uuid.uuid4()}/registrations/crn%0A%C3%B87",
        json={},
        headers={**bearer, "Bluemix-Instance": made.json()["guid"]},
    )
    assert 400 <= response.status_code < 500, response.text
    reason = response.json()["resources"][0]["reasons"][0]
    assert reason["code"] != "NOT_IMPLEMENTED_ERR"
    assert reason["status"] == response.status_code


def test_unknown_routes_and_methods_use_the_envelope(
    http: httpx.Client, bearer: dict[str, str]
) -> None:
    assert_envelope(http.get("/v1/nothing-here", headers=bearer), 404, "/v1/nothing-here")
    assert_envelope(http.patch("/v1/apikeys", headers=bearer), 405, "PATCH")


@pytest.mark.parametrize(
    "send",
    [
        lambda http, h, acct: http.post(
            "/v1/apikeys", content=b"\xff\xfe", headers={**h, "Content-Type": "application/json"}
        ),
        lambda http, h, acct: http.post(
            "/v1/apikeys", json={"name": ["x"], "iam_id": 5}, headers=h
        ),
        lambda http, h, acct: http.put(
            "/v1/apikeys/ApiKey-x",
            content=b"null",
            headers={**h, "If-Match": "*", "Content-Type": "application/json"},
        ),
        lambda http, h, acct: http.post(
            "/v1/serviceids/", json={"account_id": "../../etc", "name": "x"}, headers=h
        ),
        lambda http, h, acct: http.get(
            "/v1/serviceids/", params={"account_id": "' OR 1=1 --"}, headers=h
        ),
    ],
)
def test_hostile_input_is_a_4xx_not_a_500(
    server: LiveServer, http: httpx.Client, bearer: dict[str, str], send: Callable
) -> None:
    response = send(http, bearer, server.account_id)
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["errors"][0]["message"]
