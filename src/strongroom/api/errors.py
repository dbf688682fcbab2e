"""The one place where errors become HTTP: status codes and IBM's error envelopes (spec §2.7).

- Token endpoint: `{"context": {...}, "errorCode": "BXNIM…", "errorMessage": "…"}`.
- IAM Identity (`/v1/apikeys`, `/v1/serviceids`, `/v1/profiles`): `{context, status_code
  (string), errors: [{code, message_code, message, details}], trace}`.
- Key management (`/api/v2/...`): Key Protect's `{metadata, resources: [{errorMsg, reasons}]}`
  with its reason codes (spec kms-api.md §1.5), built in api/kms_errors.py.
- Everything else: `{"trace", "errors": [{"code", "message", "more_info"}], "status_code"}`.
  Policy Management (`/v1/policies`, `/v2/policies`, `/v2/roles`) uses this shape with its own
  codes: `invalid_body`, `insufficent_permissions` (sic), `policy_not_found`, ... (spec §2.7).

`ApiException.message` in the SDK reads `errors[0].message` (spec §1 fact 10), so every message
is a full sentence that names what was wrong.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from strongroom.api import kms_errors
from strongroom.api.kms_wire import is_kms_path
from strongroom.audit.context import AuditUnavailable
from strongroom.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    QuotaExceeded,
    StrongroomError,
    TokenGrantError,
    TooManyRequests,
    Unauthenticated,
)

log = logging.getLogger("strongroom.api")

# Most specific first: Locked is a Conflict, TokenGrantError is checked before everything.
STATUS: list[tuple[type[StrongroomError], int]] = [
    (TokenGrantError, 400),
    (Invalid, 400),
    (Unauthenticated, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (PreconditionFailed, 412),
    (PreconditionRequired, 428),
    (QuotaExceeded, 422),  # reliability.md C7: a create past an account limit
    (TooManyRequests, 429),  # reliability.md T4: with Retry-After
    (AuditUnavailable, 503),  # reliability.md A3 b: the audit trail fails closed
]

HTTP_CODES = {
    400: "bad_request",
    401: "invalid_token",
    403: "insufficient_permissions",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "request_too_large",
    415: "unsupported_content_type",
    429: "too_many_requests",
    500: "internal_error",
    503: "audit_unavailable",
}

_IDENTITY_PREFIXES = ("/v1/apikeys", "/v1/serviceids", "/v1/profiles")
_TOKEN_PREFIXES = ("/identity/", "/oidc/")
# The token endpoint's codes for our generic ones: IBM's family, `BXNIM…E` (spec §1 fact 1);
# the 429 code is ours, IBM documents none.
_TOKEN_CODES = {"too_many_requests": "BXNIM0429E"}
_POLICY_PREFIXES = ("/v1/policies", "/v2/policies", "/v2/roles")
# Policy Management's names for our generic codes (spec §2.7; IBM really spells it
# `insufficent_permissions`). Specific codes (`policy_not_found`, `role_conflict_error`,
# `missing_required_query_parameter`) come from the domain errors themselves.
_POLICY_CODES = {
    "invalid_request": "invalid_body",
    "bad_request": "invalid_body",
    "insufficient_permissions": "insufficent_permissions",
}


def envelope_family(path: str) -> str:
    """Which of the four envelopes a path answers its errors in: `kms` (Key Protect's),
    `token`, `identity` (IAM Identity's) or `generic`. The one rule: api/openapi.py documents
    each path's errors by it."""
    if is_kms_path(path):
        return "kms"
    if path.startswith(_TOKEN_PREFIXES):
        return "token"
    if path.startswith(_IDENTITY_PREFIXES):
        return "identity"
    return "generic"


def status_of(error: StrongroomError) -> int:
    for kind, status in STATUS:
        if isinstance(error, kind):
            return status
    return 400


def trace_of(request: Request) -> str:
    return str(getattr(request.state, "trace", ""))


def envelope(request: Request, status: int, code: str, message: str) -> dict[str, Any]:
    return shaped(
        request.method, request.url.path, str(request.url), trace_of(request), status, code, message
    )


def shaped(
    method: str, path: str, url: str, trace: str, status: int, code: str, message: str
) -> dict[str, Any]:
    """The envelope a (non key management) path answers its errors in (module docstring)."""
    family = envelope_family(path)
    if family == "token":
        code = _TOKEN_CODES.get(code, code)
        return {
            "context": {
                "requestId": trace,
                "requestType": "incoming.Identity_Token",
                "url": url,
            },
            "errorCode": code,
            "errorMessage": message,
        }
    if family == "identity":
        return {
            "context": {"transaction_id": trace, "operation": f"{method} {path}"},
            "status_code": str(status),
            "errors": [{"code": code, "message_code": code, "message": message}],
            "trace": trace,
        }
    if path.startswith(_POLICY_PREFIXES):
        code = _POLICY_CODES.get(code, code)
    return {
        "trace": trace,
        "errors": [{"code": code, "message": message, "more_info": "docs/user-guide.md#errors"}],
        "status_code": status,
    }


def respond(
    request: Request, status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        envelope(request, status, code, message), status_code=status, headers=headers
    )


def edge_envelope(
    method: str, path: str, trace: str, status: int, code: str, message: str
) -> dict[str, Any]:
    """The body of a refusal api/middleware.py makes before the app runs."""
    if is_kms_path(path):
        return kms_errors.edge(method, path, status, message)
    # The same envelope the app gives the path: an IAM Identity client reads `status_code` as a
    # string and a token client `errorMessage` (found by reliability.md A1).
    return shaped(method, path, path, trace, status, code, message)


def trace_headers(request: Request) -> dict[str, str]:
    """What api/middleware.py adds to every answer, for the one it never sees: a 500 is sent by
    Starlette's outermost middleware, outside ours."""
    trace = trace_of(request)
    headers = {"transaction-id": trace, "x-global-transaction-id": trace}
    correlation = getattr(request.state, "correlation_id", None)
    if correlation:
        headers["correlation-id"] = correlation
    return headers


def _validation_message(exc: RequestValidationError) -> str:
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "the request body"
    kind = first.get("type", "")
    if kind == "json_invalid":
        return "the request body is not valid JSON"
    if kind == "missing":
        return f"`{where}` is required"
    detail = str(first.get("msg", "is not valid")).removeprefix("Value error, ")
    return f"`{where}`: {detail[:1].lower()}{detail[1:]}"


def _internal_error(
    request: Request, exc: Exception, headers: dict[str, str] | None = None
) -> JSONResponse:
    log.error("unhandled error; trace %s", trace_of(request), exc_info=exc)
    if is_kms_path(request.url.path):
        return kms_errors.unexpected(request, trace_of(request), headers)
    message = f"internal error; quote trace `{trace_of(request)}`"
    return respond(request, 500, "internal_error", message, headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(StrongroomError)
    async def _domain(request: Request, exc: StrongroomError) -> JSONResponse:
        status = status_of(exc)
        if is_kms_path(request.url.path):
            answer = kms_errors.domain(request, exc, status)
            if answer is None:  # a KmsError whose code kms_errors.REASON_STATUS lacks
                return _internal_error(request, exc)
            return answer
        headers = (
            {"ibm-cloud-service-name": "iam-identity"} if isinstance(exc, TokenGrantError) else None
        )
        if status == 401:
            headers = {"WWW-Authenticate": 'Bearer realm="strongroom"'}
        if isinstance(exc, TooManyRequests):
            headers = {"Retry-After": str(exc.retry_after)}
        return respond(request, status, exc.code, exc.message, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        if is_kms_path(request.url.path):
            first = exc.errors()[0] if exc.errors() else {}
            loc = [str(p) for p in first.get("loc", ())]
            where, name = (loc[0], loc[-1]) if len(loc) > 1 else ("body", "")
            return kms_errors.validation(request, where, name, _validation_message(exc))
        return respond(request, 400, "invalid_body", _validation_message(exc))

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        status = exc.status_code
        if is_kms_path(request.url.path):
            return kms_errors.http(request, status, dict(exc.headers or {}))
        message = str(exc.detail) if exc.detail else "request refused"
        if status == 404:
            message = f"no route `{request.method} {request.url.path}`"
        elif status == 405:
            message = f"method `{request.method}` is not allowed on `{request.url.path}`"
        return respond(
            request, status, HTTP_CODES.get(status, "error"), message, dict(exc.headers or {})
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return _internal_error(request, exc, trace_headers(request))
