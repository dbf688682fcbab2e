"""The key management API's wire layer (spec kms-api.md §1): Key Protect's error envelope and
statuses on every `/api/v2` error, 501 for what is not served, the Correlation-Id echo, and the
body, header and media-type rules the `/api/v2` routers share.

A real server on loopback (SQLite: nothing here touches storage) with probe routes mounted at
`/api/v2/test-wire` and, to show the IAM shapes are kept, at `/test-wire`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Depends, Response
from starlette.requests import Request

from strongroom.api import deps
from strongroom.api.kms_errors import MORE_INFO, REASON_STATUS, default_what
from strongroom.api.kms_wire import (
    CREATE_KEY_TYPE,
    WRAP_TYPE,
    InstanceId,
    KeyRingHint,
    MediaType,
    RawBody,
    ReturnPreference,
    canonical_keys,
    collection,
    kms_json,
    no_content,
    prefer,
    read_envelope,
    read_json,
)
from strongroom.errors import Conflict, Forbidden, Invalid, Locked, NotFound, Unauthenticated
from strongroom.kms.errors import KmsError
from strongroom.testing.server import LiveServer
from strongroom.tokens.claims import Principal
from tests.api.conftest import token_for
from tests.conftest import start_server

PROBE = "/api/v2/test-wire"
MAX_BODY = 4096
KEY_FIELDS = ("type", "name", "description", "extractable", "tags", "aliases", "keyRingID")
UNAUTHORIZED = "Unauthorized: The user does not have access to the specified resource"

RAISED: dict[str, Exception] = {
    "key-not-found": KmsError(
        "KEY_NOT_FOUND_ERR", "key does not exist", what="Key could not be retrieved"
    ),
    "key-deleted": KmsError(
        "KEY_DELETED_ERR", "key has already been deleted", what="Key could not be deleted"
    ),
    "too-early": KmsError(
        "REQ_TOO_EARLY_ERR", "purge is allowed 4h after delete", what="Key could not be purged"
    ),
    "ciphertext": KmsError(
        "UNPROCESSABLE_CIPHERTEXT_ERR", "the ciphertext is invalid", what="Unwrap could not be done"
    ),
    "root-only": KmsError("KEY_ROOT_REQ_ERR", "a root key is required"),
    "service-only": KmsError("SERVICE_ONLY_ERR", "only a service may do this"),
    "field": KmsError("INVALID_FIELD_ERR", "`interval_month` is 13", target="interval_month"),
    "query": KmsError("INVALID_QUERY_PARAM_ERR", "`limit` is 0", target="limit"),
    "iam-invalid-field": Invalid("`name` is too long", field="name"),
    "iam-invalid": Invalid("the body is odd"),
    "iam-not-found": NotFound("key", "k-1"),
    "iam-conflict": Conflict("key ring `r1` exists"),
    "iam-locked": Locked("key", "k-1"),
    "iam-forbidden": Forbidden("denied by policy"),
    "iam-unauthenticated": Unauthenticated("the token expired"),
}


def probe_router() -> APIRouter:
    router = APIRouter()

    @router.get("/raise/{case}")
    async def raise_one(case: str) -> None:
        if case == "unknown-code":
            raise KmsError("NO_SUCH_ERR", "a code missing from the table")
        raise RAISED[case]

    @router.get("/crash")
    async def crash() -> None:
        raise RuntimeError("boom")

    @router.post("/keys")
    async def create_key(
        caller: Annotated[Principal, Depends(deps.principal)],
        instance: InstanceId,
        ring: KeyRingHint,
        body: RawBody,
        preference: ReturnPreference,
    ) -> Response:
        (resource,) = read_envelope(body, collection_type=MediaType.KEY, known=KEY_FIELDS)
        seen = {"instance": instance, "ring": ring, "prefer": preference, "by": caller.iam_id}
        return kms_json(collection([{**resource, **seen}], MediaType.KEY), 201, CREATE_KEY_TYPE)

    @router.post("/wrap")
    async def wrap(instance: InstanceId, body: RawBody) -> Response:
        sent = read_json(body, required=False, known=("plaintext", "aad"))
        return kms_json({"ciphertext": "c", "sent": sent}, media_type=WRAP_TYPE)

    @router.post("/disable")
    async def disable(instance: InstanceId, body: RawBody) -> Response:
        read_json(body, required=False)
        return no_content()

    @router.get("/list")
    async def list_keys(limit: int = 200) -> Response:
        return kms_json(collection([], MediaType.KEY, total_count=0))

    return router


@pytest.fixture(scope="module")
def wire(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server of its own: the probe routes must not leak into the shared one."""
    with ExitStack() as stack:
        server = start_server(
            "sqlite",
            str(tmp_path_factory.mktemp("kms-wire")),
            stack,
            settings_overrides={"max_body_bytes": MAX_BODY},
        )
        server.runtime.app.include_router(probe_router(), prefix=PROBE)
        server.runtime.app.include_router(probe_router(), prefix="/test-wire")  # an IAM path
        yield server


@pytest.fixture
def http(wire: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=wire.url, timeout=10) as client:
        yield client


@pytest.fixture(scope="module")
def auth(wire: LiveServer) -> dict[str, str]:
    with httpx.Client(base_url=wire.url, timeout=10) as client:
        return {"Authorization": f"Bearer {token_for(client, wire.apikey)}"}


def reason_of(response: httpx.Response, status: int) -> dict[str, Any]:
    """The one reason of a Key Protect error envelope, after checking the envelope."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["metadata"] == {
        "collectionType": "application/vnd.ibm.kms.error+json",
        "collectionTotal": 1,
    }
    (resource,) = body["resources"]
    (reason,) = resource["reasons"]
    assert reason["status"] == status
    assert reason["moreInfo"] == MORE_INFO
    if reason["code"] != "UNAUTHORIZED_ERR":
        assert resource["errorMsg"].endswith(
            f": Please see 'reasons' for more details ({reason['code']})"
        )
    return {"errorMsg": resource["errorMsg"], **reason}


def key_body(*resources: dict[str, Any], total: int | None = None) -> bytes:
    metadata = {"collectionType": str(MediaType.KEY), "collectionTotal": len(resources)}
    if total is not None:
        metadata["collectionTotal"] = total
    return json.dumps({"metadata": metadata, "resources": list(resources)}).encode()


ROOT_KEY = {"type": "application/vnd.ibm.kms.key+json", "name": "app-root", "extractable": False}


# ---- errors as Key Protect answers them -----------------------------------------------------


@pytest.mark.parametrize(
    ("case", "status", "code", "error_msg"),
    [
        (
            "key-not-found",
            404,
            "KEY_NOT_FOUND_ERR",
            # go's kp_test.go fixture, word for word
            "Not Found: Key could not be retrieved: Please see 'reasons' for more details"
            " (KEY_NOT_FOUND_ERR)",
        ),
        ("key-deleted", 410, "KEY_DELETED_ERR", "Gone: Key could not be deleted"),
        (
            "too-early",
            409,
            "REQ_TOO_EARLY_ERR",
            # spec §1.5's example
            "Conflict: Key could not be purged: Please see 'reasons' for more details"
            " (REQ_TOO_EARLY_ERR)",
        ),
        ("ciphertext", 422, "UNPROCESSABLE_CIPHERTEXT_ERR", "Unprocessable Entity: Unwrap"),
        ("root-only", 400, "KEY_ROOT_REQ_ERR", "Bad Request: Request could not be processed"),
        ("service-only", 403, "SERVICE_ONLY_ERR", "Forbidden: "),
        ("iam-not-found", 404, "KEY_NOT_FOUND_ERR", "Not Found: "),
        ("iam-invalid", 400, "BAD_BODY_ERR", "Bad Request: "),
        ("iam-conflict", 409, "CONFLICT_ERR", "Conflict: "),
        ("iam-locked", 409, "ENTITY_LOCKED_ERR", "Conflict: "),
    ],
)
def test_reason_codes_answer_with_their_status_and_error_message(
    http: httpx.Client, case: str, status: int, code: str, error_msg: str
) -> None:
    reason = reason_of(http.get(f"{PROBE}/raise/{case}"), status)
    assert reason["code"] == code
    assert reason["errorMsg"].startswith(error_msg)
    assert reason["message"] == RAISED[case].args[0]
    assert "target" not in reason


def test_a_domain_not_found_keeps_the_id_it_names(http: httpx.Client) -> None:
    assert reason_of(http.get(f"{PROBE}/raise/iam-not-found"), 404)["message"] == (
        "key `k-1` not found"
    )


@pytest.mark.parametrize(
    ("case", "code", "target"),
    [
        ("field", "INVALID_FIELD_ERR", {"type": "field", "name": "interval_month"}),
        ("iam-invalid-field", "INVALID_FIELD_ERR", {"type": "field", "name": "name"}),
        ("query", "INVALID_QUERY_PARAM_ERR", {"type": "query_param", "name": "limit"}),
    ],
)
def test_field_errors_name_their_target(
    http: httpx.Client, case: str, code: str, target: dict[str, str]
) -> None:
    reason = reason_of(http.get(f"{PROBE}/raise/{case}"), 400)
    assert reason["code"] == code
    assert reason["target"] == target


@pytest.mark.parametrize("case", ["iam-forbidden", "iam-unauthenticated"])
def test_iam_denials_and_bad_tokens_are_401_as_key_protect_answers_them(
    http: httpx.Client, case: str
) -> None:
    response = http.get(f"{PROBE}/raise/{case}")
    reason = reason_of(response, 401)
    assert reason["errorMsg"] == UNAUTHORIZED
    assert reason["code"] == "UNAUTHORIZED_ERR"
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic eDp5"}]
)
def test_a_kms_route_without_a_valid_token_is_401_unauthorized_err(
    http: httpx.Client, headers: dict[str, str]
) -> None:
    response = http.post(
        f"{PROBE}/keys", content=key_body(ROOT_KEY), headers={**headers, "Bluemix-Instance": "i"}
    )
    reason = reason_of(response, 401)
    assert (reason["errorMsg"], reason["code"]) == (UNAUTHORIZED, "UNAUTHORIZED_ERR")


def test_a_kms_error_code_missing_from_the_table_is_a_500_not_a_guess(
    http: httpx.Client,
) -> None:
    assert "NO_SUCH_ERR" not in REASON_STATUS
    response = http.get(f"{PROBE}/raise/unknown-code")
    assert reason_of(response, 500)["code"] == "INTERNAL_SERVER_ERR"
    assert len(response.headers.get_list("transaction-id")) == 1
    assert len(response.headers.get_list("correlation-id")) == 1


def test_an_unexpected_exception_is_500_internal_server_err_with_the_trace(
    http: httpx.Client,
) -> None:
    response = http.get(f"{PROBE}/crash", headers={"Correlation-Id": "corr-500"})
    reason = reason_of(response, 500)
    assert reason["code"] == "INTERNAL_SERVER_ERR"
    assert "boom" not in response.text
    assert response.headers.get_list("transaction-id") == ["corr-500"]
    assert f"`{response.headers['transaction-id']}`" in reason["message"]
    assert response.headers.get_list("correlation-id") == ["corr-500"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v2/nothing-here"),
        ("GET", "/api/v2"),
        ("PUT", "/api/v2/keys/0f5a9e4c-1d2b-4c3a-9e8f-7a6b5c4d3e2f"),  # no such method
        ("PUT", f"{PROBE}/keys"),  # the path exists, the method does not
        ("PATCH", f"{PROBE}/list"),
    ],
)
def test_unknown_kms_routes_and_methods_are_501_which_go_does_not_retry(
    http: httpx.Client, method: str, path: str
) -> None:
    reason = reason_of(http.request(method, path), 501)
    assert reason["code"] == "NOT_IMPLEMENTED_ERR"
    assert f"`{method} {path}`" in reason["message"]
    assert reason["errorMsg"].startswith("Not Implemented: Request could not be handled")


@pytest.mark.parametrize("path", ["/v1/nothing-here", "/api/v3/keys", "/api/v2x/keys"])
def test_other_paths_keep_the_iam_envelope(http: httpx.Client, path: str) -> None:
    response = http.get(path, headers={"Correlation-Id": "c-1"})
    assert response.status_code == 404
    body = response.json()
    assert body["errors"][0]["code"] == "not_found"
    assert body["trace"] == response.headers["transaction-id"]
    assert "correlation-id" not in response.headers


def test_an_unexpected_exception_elsewhere_keeps_the_iam_envelope_and_gains_the_trace(
    http: httpx.Client,
) -> None:
    response = http.get("/test-wire/crash", headers={"Correlation-Id": "c-1"})
    assert response.status_code == 500
    body = response.json()
    assert body["errors"][0]["code"] == "internal_error"
    assert response.headers.get_list("transaction-id") == [body["trace"]]
    assert "correlation-id" not in response.headers


def test_iam_routes_keep_their_401_shape(http: httpx.Client) -> None:
    response = http.get("/v2/resource_groups")
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "invalid_token"


def test_a_query_parameter_fastapi_cannot_bind_is_invalid_query_param_err(
    http: httpx.Client,
) -> None:
    reason = reason_of(http.get(f"{PROBE}/list", params={"limit": "many"}), 400)
    assert reason["code"] == "INVALID_QUERY_PARAM_ERR"
    assert reason["target"] == {"type": "query_param", "name": "limit"}


def test_a_body_over_the_cap_is_413_in_the_kms_envelope(
    http: httpx.Client, auth: dict[str, str]
) -> None:
    headers = {**auth, "Bluemix-Instance": "i", "Correlation-Id": "big"}
    declared = http.post(f"{PROBE}/keys", content=b" " * (MAX_BODY + 1), headers=headers)
    assert reason_of(declared, 413)["code"] == "BODY_TOO_LARGE_ERR"
    assert declared.headers["correlation-id"] == "big"

    def chunks() -> Iterator[bytes]:  # no Content-Length: the cap is met while reading
        yield from [b" " * 1024] * 8

    chunked = http.post(f"{PROBE}/keys", content=chunks(), headers=headers)
    assert reason_of(chunked, 413)["code"] == "BODY_TOO_LARGE_ERR"


def test_a_nul_in_a_kms_url_is_bad_body_err(http: httpx.Client) -> None:
    assert reason_of(http.get("/api/v2/keys/a%00b"), 400)["code"] == "BAD_BODY_ERR"


def test_missing_bluemix_instance_is_400_naming_the_header(
    http: httpx.Client, auth: dict[str, str]
) -> None:
    for headers in (auth, {**auth, "Bluemix-Instance": ""}):
        reason = reason_of(
            http.post(f"{PROBE}/keys", content=key_body(ROOT_KEY), headers=headers), 400
        )
        assert reason["code"] == "INVALID_FIELD_ERR"
        assert "`Bluemix-Instance`" in reason["message"]


# ---- Correlation-Id ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "echoed"),
    [
        ({"correlation-id": "go-3f1c"}, "go-3f1c"),  # go, lower-case
        ({"Correlation-Id": "py3-given"}, "py3-given"),
        ({"X-Correlation-ID": "py3-always"}, "py3-always"),
        ({"X-Request-Id": "req-7"}, "req-7"),
        ({"X-Correlation-ID": "second", "Correlation-Id": "first"}, "first"),
    ],
)
def test_kms_answers_echo_the_correlation_id(
    http: httpx.Client, sent: dict[str, str], echoed: str
) -> None:
    for path in (f"{PROBE}/list", f"{PROBE}/raise/key-not-found", "/api/v2/unknown"):
        assert http.get(path, headers=sent).headers["correlation-id"] == echoed


def test_without_a_correlation_id_the_trace_is_echoed(http: httpx.Client) -> None:
    response = http.get(f"{PROBE}/list")
    assert response.headers["correlation-id"] == response.headers["transaction-id"]
    assert response.headers["correlation-id"].startswith("strongroom-")


# ---- bodies, headers and media types through the server ------------------------------------


def test_go_style_create_no_content_type_capitalised_members(
    http: httpx.Client, auth: dict[str, str], wire: LiveServer
) -> None:
    body = key_body({**ROOT_KEY, "Tags": ["t1"], "KeyRingID": "r1", "Unknown": 1})
    response = http.post(
        f"{PROBE}/keys",
        content=body,
        headers={**auth, "bluemix-instance": "inst-1", "x-kms-key-ring": "ring-a"},
    )
    assert response.status_code == 201, response.text
    assert response.headers["content-type"] == "application/vnd.ibm.kms.key+json"
    sent = response.json()
    assert sent["metadata"] == {"collectionType": str(MediaType.KEY), "collectionTotal": 1}
    (key,) = sent["resources"]
    assert key["tags"] == ["t1"] and key["keyRingID"] == "r1" and key["Unknown"] == 1
    assert "Tags" not in key and "KeyRingID" not in key
    assert (key["instance"], key["ring"], key["by"]) == ("inst-1", "ring-a", wire.iam_id)
    assert key["prefer"] is None


@pytest.mark.parametrize(
    ("content_type", "prefer_header", "expected"),
    [
        ("application/vnd.ibm.kms.key+json", "return=representation", "representation"),
        ("application/json", "return=minimal", "minimal"),
        ("text/plain", None, None),
    ],
)
def test_any_content_type_is_read_as_json_and_prefer_reaches_the_route(
    http: httpx.Client,
    auth: dict[str, str],
    content_type: str,
    prefer_header: str | None,
    expected: str | None,
) -> None:
    headers = {**auth, "Bluemix-Instance": "i", "Content-Type": content_type}
    if prefer_header:
        headers["Prefer"] = prefer_header
    response = http.post(f"{PROBE}/keys", content=key_body(ROOT_KEY), headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["resources"][0]["prefer"] == expected


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"", "NO_BODY_ERR"),
        (b"null", "NO_BODY_ERR"),
        (b"{not json", "BAD_BODY_ERR"),
        (key_body(ROOT_KEY, total=2), "COLLECTION_TOTAL_MISMATCH_ERR"),
        (key_body(ROOT_KEY, ROOT_KEY), "NUM_COLLECTION_RESOURCE_ERR"),
    ],
)
def test_bad_create_bodies_answer_their_reason_code(
    http: httpx.Client, auth: dict[str, str], body: bytes, code: str
) -> None:
    response = http.post(f"{PROBE}/keys", content=body, headers={**auth, "Bluemix-Instance": "i"})
    assert reason_of(response, 400)["code"] == code


@pytest.mark.parametrize("body", [None, b"null", b"{}"])
def test_wrap_takes_no_body_or_go_null_and_answers_the_key_action_type(
    http: httpx.Client, body: bytes | None
) -> None:
    response = http.post(f"{PROBE}/wrap", content=body, headers={"Bluemix-Instance": "i"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/vnd.ibm.kms.key_action+json"
    assert response.json() == {"ciphertext": "c", "sent": {}}


def test_wrap_body_members_are_matched_without_case(http: httpx.Client) -> None:
    body = json.dumps({"Plaintext": "cGxhaW4=", "AAD": ["a"]}).encode()
    response = http.post(f"{PROBE}/wrap", content=body, headers={"Bluemix-Instance": "i"})
    assert response.json()["sent"] == {"plaintext": "cGxhaW4=", "aad": ["a"]}


def test_bodiless_actions_answer_204_without_a_body(http: httpx.Client) -> None:
    response = http.post(f"{PROBE}/disable", content=b"null", headers={"Bluemix-Instance": "i"})
    assert (response.status_code, response.content) == (204, b"")


def test_other_answers_are_application_json(http: httpx.Client) -> None:
    response = http.get(f"{PROBE}/list")
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "metadata": {"collectionType": str(MediaType.KEY), "collectionTotal": 0, "totalCount": 0},
        "resources": [],
    }


# ---- read_envelope / read_json / canonical_keys --------------------------------------------


@contextmanager
def refused(code: str) -> Iterator[None]:
    """Asserts the block raises a KmsError with that reason code."""
    with pytest.raises(KmsError) as caught:
        yield
    assert caught.value.code == code, (caught.value.code, caught.value.message)


@pytest.mark.parametrize("raw", [None, b"", b"null", b"  null\n", b"\n"])
def test_no_body_is_no_body_err_when_required_else_nothing(raw: bytes | None) -> None:
    with refused("NO_BODY_ERR"):
        read_envelope(raw, collection_type=MediaType.KEY)
    with refused("NO_BODY_ERR"):
        read_json(raw)
    assert read_envelope(raw, collection_type=MediaType.KEY, required=False) == []
    assert read_json(raw, required=False) == {}


def test_appendix_a_create_body_reads_as_one_resource() -> None:
    raw = json.dumps(
        {
            "metadata": {
                "collectionType": "application/vnd.ibm.kms.key+json",
                "collectionTotal": 1,
            },
            "resources": [
                {
                    **ROOT_KEY,
                    "description": "optional",
                    "aliases": ["app-root-alias"],
                    "expirationDate": "2030-01-01T00:00:00Z",
                }
            ],
        }
    ).encode()
    (key,) = read_envelope(raw, collection_type=MediaType.KEY, known=KEY_FIELDS)
    assert key["name"] == "app-root" and key["aliases"] == ["app-root-alias"]


def test_appendix_a_policy_body_with_two_resources_needs_max_items() -> None:
    raw = json.dumps(
        {
            "metadata": {"collectionType": str(MediaType.POLICY), "collectionTotal": 2},
            "resources": [
                {"type": str(MediaType.POLICY), "rotation": {"enabled": True, "interval_month": 3}},
                {"type": str(MediaType.POLICY), "dualAuthDelete": {"enabled": True}},
            ],
        }
    ).encode()
    with refused("NUM_COLLECTION_RESOURCE_ERR"):
        read_envelope(raw, collection_type=MediaType.POLICY)
    policies = read_envelope(raw, collection_type=MediaType.POLICY, max_items=None)
    assert [sorted(p) for p in policies] == [["rotation", "type"], ["dualAuthDelete", "type"]]
    assert len(read_envelope(raw, collection_type=MediaType.POLICY, max_items=2)) == 2


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (key_body(ROOT_KEY, total=0), "COLLECTION_TOTAL_MISMATCH_ERR"),
        (key_body(ROOT_KEY, total=3), "COLLECTION_TOTAL_MISMATCH_ERR"),
        (key_body(total=0), "BAD_BODY_ERR"),  # one resource is required
        (b"[]", "BAD_BODY_ERR"),
        (b'"a key"', "BAD_BODY_ERR"),
        (b"{not json", "BAD_BODY_ERR"),
        (b'{"metadata": {}, "resources": [{}]}', "BAD_BODY_ERR"),  # kpdocs: metadata empty
        (b'{"metadata": {"collectionTotal": 1}}', "BAD_BODY_ERR"),
        (b'{"metadata": {"collectionTotal": 1}, "resources": {"name": "k"}}', "BAD_BODY_ERR"),
        (b'{"metadata": {"collectionTotal": 1}, "resources": ["k"]}', "BAD_BODY_ERR"),
        (b'{"metadata": {"collectionTotal": "1"}, "resources": [{}]}', "BAD_BODY_ERR"),
        (b'{"metadata": {"collectionTotal": true}, "resources": [{}]}', "BAD_BODY_ERR"),
        (
            b'{"metadata": {"collectionType": "application/vnd.ibm.kms.policy+json",'
            b' "collectionTotal": 1}, "resources": [{}]}',
            "BAD_BODY_ERR",
        ),
        (b'{"metadata": {"collectionTotal": NaN}, "resources": [{}]}', "BAD_BODY_ERR"),
        (
            b'{"metadata": {"collectionTotal": 1}, "resources": [{"name": "a\\u0000"}]}',
            "BAD_BODY_ERR",
        ),
        (b"\xff\xfe{", "BAD_BODY_ERR"),
        (b"[" * 100_000 + b"]" * 100_000, "BAD_BODY_ERR"),
    ],
)
def test_malformed_envelopes_answer_their_reason_code(raw: bytes, code: str) -> None:
    with refused(code):
        read_envelope(raw, collection_type=MediaType.KEY)


def test_envelope_names_match_without_case_and_a_missing_collection_type_is_tolerated() -> None:
    raw = b'{"Metadata": {"CollectionTotal": 1}, "RESOURCES": [{"NAME": "k", "Extra": 1}]}'
    assert read_envelope(raw, collection_type=MediaType.KEY, known=KEY_FIELDS) == [
        {"name": "k", "Extra": 1}
    ]
    typed = b'{"metadata": {"collectionType": "APPLICATION/VND.IBM.KMS.KEY+JSON",'
    typed += b' "collectionTotal": 1}, "resources": [{}]}'
    assert read_envelope(typed, collection_type=MediaType.KEY) == [{}]


def test_canonical_keys_respells_known_names_and_keeps_the_rest() -> None:
    sent = {"Tags": ["a"], "keyringid": "r", "name": "n", "Other": {"Tags": 1}}
    assert canonical_keys(sent, ["tags", "keyRingID", "name"]) == {
        "tags": ["a"],
        "keyRingID": "r",
        "name": "n",
        "Other": {"Tags": 1},  # one level only: nested objects are the caller's to respell
    }
    with refused("BAD_BODY_ERR"):
        canonical_keys({"tags": [], "Tags": []}, ["tags"])


@pytest.mark.parametrize("raw", [b"[]", b"1", b'"plaintext"', b"{", b'{"plaintext": "\\u0000"}'])
def test_read_json_wants_one_object(raw: bytes) -> None:
    with refused("BAD_BODY_ERR"):
        read_json(raw, required=False)


# ---- Prefer, collections, default messages -------------------------------------------------


def request_with(*headers: tuple[str, str]) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers]
    return Request({"type": "http", "method": "POST", "path": "/api/v2/keys", "headers": raw})


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ((), None),
        ((("Prefer", "return=representation"),), "representation"),
        ((("Prefer", "return=minimal"),), "minimal"),
        ((("Prefer", "RETURN=Minimal"),), "minimal"),
        ((("Prefer", 'return="representation"'),), "representation"),
        ((("Prefer", "respond-async, return=minimal; foo=bar"),), "minimal"),
        ((("Prefer", "handling=lenient"), ("Prefer", "return=representation")), "representation"),
        ((("Prefer", "return=everything"),), None),
        ((("Prefer", "handling=strict"),), None),
    ],
)
def test_prefer_reads_the_return_preference(
    headers: tuple[tuple[str, str], ...], expected: str | None
) -> None:
    assert prefer(request_with(*headers)) == expected


def test_collection_counts_its_items_and_carries_extra_metadata() -> None:
    body = collection([{"id": "a"}, {"id": "b"}], MediaType.KEY_RING, total_count=7)
    assert body == {
        "metadata": {
            "collectionType": "application/vnd.ibm.kms.key_ring+json",
            "collectionTotal": 2,
            "totalCount": 7,
        },
        "resources": [{"id": "a"}, {"id": "b"}],
    }
    searched = collection([], MediaType.KEY, incompleteSearch=True)
    assert searched["metadata"]["incompleteSearch"] is True
    assert "totalCount" not in searched["metadata"]


@pytest.mark.parametrize(
    ("method", "path", "action", "what"),
    [
        ("GET", "/api/v2/keys/k1", None, "Key could not be retrieved"),
        ("POST", "/api/v2/keys", None, "Key could not be created"),
        ("DELETE", "/api/v2/keys/k1", None, "Key could not be deleted"),
        ("DELETE", "/api/v2/keys/k1/purge", None, "Key could not be purged"),
        ("POST", "/api/v2/keys/k1/restore", None, "Key could not be restored"),
        ("POST", "/api/v2/keys/k1/actions/wrap", None, "Wrap with key could not be performed"),
        ("POST", "/api/v2/keys/k1/actions/rotate", None, "Key could not be rotated"),
        ("POST", "/api/v2/keys/k1", "unwrap", "Unwrap with key could not be performed"),
        ("POST", "/api/v2/keys/k1/actions/sync", None, "Action could not be performed on key"),
        ("PUT", "/api/v2/instance/policies", None, "Instance policy could not be created"),
        ("GET", "/api/v2/keys/k1/policies", None, "Policy could not be retrieved"),
        ("GET", "/api/v2/keys/k1/versions", None, "Key versions could not be retrieved"),
        ("POST", "/api/v2/key_rings/r1", None, "Key ring could not be created"),
        ("GET", "/api/v2/import_token", None, "Import token could not be retrieved"),
        ("GET", "/api/v2/somewhere", None, "Request could not be processed"),
    ],
)
def test_error_messages_say_what_could_not_be_done(
    method: str, path: str, action: str | None, what: str
) -> None:
    assert default_what(method, path, action) == what
