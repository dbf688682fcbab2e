"""Errors as the key management API answers them (spec kms-api.md §1.5): part of api/errors.py,
the one place errors become HTTP, kept apart because Key Protect's envelope shares nothing with
IAM's. Every error on an `/api/v2` path, domain or not, leaves through here:

    {"metadata": {"collectionType": "application/vnd.ibm.kms.error+json", "collectionTotal": 1},
     "resources": [{"errorMsg": "Conflict: Key could not be purged: Please see 'reasons' for
                                 more details (REQ_TOO_EARLY_ERR)",
                    "reasons": [{"code", "message", "status", "moreInfo", "target"?}]}]}

go retries 429 and every 5xx but 501 (§1.5), so an unknown route or method is a 501, never a
404/405. The one 503 is the audit trail's, failing closed (reliability.md A3 b):
`AUDIT_UNAVAILABLE_ERR`, which go retries.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from strongroom.api.kms_wire import PREFIX, MediaType
from strongroom.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    StrongroomError,
    Unauthenticated,
)
from strongroom.kms.errors import KmsError

MORE_INFO = "https://cloud.ibm.com/apidocs/key-protect"
UNAUTHORIZED = "Unauthorized: The user does not have access to the specified resource"

# Reason code -> HTTP status: the table of spec §1.5 (kpdocs error-messages.md, go tests).
REASON_STATUS: dict[str, int] = {
    "BAD_BODY_ERR": 400,
    "NO_BODY_ERR": 400,
    "COLLECTION_TOTAL_MISMATCH_ERR": 400,
    "BODY_QUERY_PARAM_MISMATCH_ERR": 400,
    "NUM_COLLECTION_RESOURCE_ERR": 400,
    "INVALID_FIELD_ERR": 400,
    "INVALID_QUERY_PARAM_ERR": 400,
    "KEY_SEARCH_TOO_BROAD": 400,
    "BEARER_SUB_EXTRACTION_ERR": 400,
    "KEY_ROOT_REQ_ERR": 400,
    "KEY_PAYLOAD_REQ_ERR": 400,
    "KEY_EXPIRED_ERR": 400,
    "KEY_RESTORE_EXPIRED": 400,
    "KEY_IMPT_REQ_ERR": 400,
    "INCORRECT_NONCE_ERR": 400,
    "INCORRECT_NONCE_IV_ERR": 400,
    "UNAUTHORIZED_ERR": 401,
    "SERVICE_ONLY_ERR": 403,
    "RESOURCE_OWNER_ERR": 403,
    "FEATURE_RESTRICTED_ERR": 403,
    "CONFIG_RULE_CONFLICT_ERR": 403,
    "KEY_NOT_FOUND_ERR": 404,
    "KEY_DELETED_ERR": 410,
    "KEY_ACTION_INVALID_STATE_ERR": 409,
    "KEY_INVALID_STATE_ERR": 422,
    "KEY_ROTATION_NOT_PERMITTED": 409,
    "REQ_TOO_EARLY_ERR": 409,
    "PROTECTED_RESOURCE_ERR": 409,
    "PREV_KEY_DEL_ERR": 409,
    "AUTHORIZATIONS_NOT_MET": 409,
    "NOT_DUAL_AUTH_ERR": 409,
    "KEY_CREATE_IMPORT_ACCESS_ERR": 409,
    "IMPORT_TOKEN_EXPIRED_ERR": 409,
    "UNPROCESSABLE_CIPHERTEXT_ERR": 422,
    "KEY_ROOT_REQ_REG_ERR": 422,
    "KEY_VERSION_INVALID": 422,
    "INVALID_SIG_EXP_ERR": 422,
    "INCOMPLETE_METADATA_ERR": 500,
    # Key rings, aliases, import tokens and registrations: cases §1.5 lists no code for; the
    # names follow its pattern (`<OBJECT>_<PROBLEM>_ERR`).
    "KEY_RING_NOT_FOUND_ERR": 404,
    "KEY_RING_NOT_EMPTY_ERR": 409,
    "KEY_RING_ALREADY_EXISTS_ERR": 409,
    "KEY_RING_QUOTA_ERR": 400,
    "KEY_ALIAS_NOT_UNIQUE_ERR": 409,
    "KEY_ALIAS_QUOTA_ERR": 400,
    "KEY_ALIAS_NOT_FOUND_ERR": 404,
    "IMPORT_TOKEN_NOT_FOUND_ERR": 404,
    "REGISTRATION_NOT_FOUND_ERR": 404,
    "REGISTRATION_ALREADY_EXISTS_ERR": 409,
    # Ours, for situations §1.5 gives no code: a body over the size cap, a route or method
    # this server does not serve, and a fault of the server itself.
    "BODY_TOO_LARGE_ERR": 413,
    "NOT_IMPLEMENTED_ERR": 501,
    "INTERNAL_SERVER_ERR": 500,
}

# Fixed so `errorMsg` does not change with the Python version (3.13 renamed 413 and 422).
PHRASES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    410: "Gone",
    412: "Precondition Failed",
    413: "Request Entity Too Large",
    422: "Unprocessable Entity",
    428: "Precondition Required",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
}

# The `<what> could not be <done>` of errorMsg when the error does not say (KmsError.what does):
# derived from the path, in the words Key Protect uses (kpdocs error-messages.md, go kp_test.go).
_NOUNS = {
    "keys": "Key",
    "keys_with_policy_overrides": "Key",
    "key_rings": "Key ring",
    "import_token": "Import token",
    "instance": "Instance policy",
    "kmip_adapters": "KMIP adapter",
    "event_ack": "Event acknowledgement",
}
# Sub-resources; none can be mistaken for a key alias, which may not be a reserved word (§3.9).
_SUB_NOUNS = {
    "metadata": "Key metadata",
    "versions": "Key versions",
    "policies": "Policy",
    "registrations": "Registration",
    "aliases": "Alias",
    "allowed_ip_port": "Allowed IP port",
    "certificates": "KMIP client certificate",
    "kmip_objects": "KMIP object",
}
_DONE = {
    "GET": "retrieved",
    "HEAD": "retrieved",
    "POST": "created",
    "PUT": "created",
    "PATCH": "updated",
    "DELETE": "deleted",
}
_ACTIONS = {
    "wrap": "Wrap with key could not be performed",
    "unwrap": "Unwrap with key could not be performed",
    "rewrap": "Rewrap with key could not be performed",
    "rotate": "Key could not be rotated",
    "disable": "Key could not be disabled",
    "enable": "Key could not be enabled",
    "restore": "Key could not be restored",
    "purge": "Key could not be purged",
}


def default_what(method: str, path: str, action: str | None = None) -> str:
    parts = [p for p in path[len(PREFIX) :].split("/") if p]
    if not parts or parts[0] not in _NOUNS:
        return "Request could not be processed"
    if "actions" in parts[:-1]:
        action = parts[parts.index("actions") + 1]
    elif len(parts) == 3 and parts[2] in ("restore", "purge"):
        action = parts[2]
    if parts[0] == "keys" and action:
        return _ACTIONS.get(action, "Action could not be performed on key")
    noun = next((_SUB_NOUNS[p] for p in reversed(parts[1:]) if p in _SUB_NOUNS), _NOUNS[parts[0]])
    if parts[0] == "instance" and noun == "Policy":
        noun = "Instance policy"
    return f"{noun} could not be {_DONE.get(method, 'processed')}"


def envelope(
    status: int, code: str, message: str, what: str, target: str | None = None
) -> dict[str, Any]:
    if code == "UNAUTHORIZED_ERR":
        error_msg = UNAUTHORIZED  # Key Protect's one fixed errorMsg (kpdocs error-messages.md)
    else:
        phrase = PHRASES.get(status, "Error")
        error_msg = f"{phrase}: {what}: Please see 'reasons' for more details ({code})"
    reason: dict[str, Any] = {"code": code, "message": message, "status": status}
    reason["moreInfo"] = MORE_INFO
    if target:
        # go's tests show both target types: `query_param` for query errors, else `field`.
        kind = "query_param" if code == "INVALID_QUERY_PARAM_ERR" else "field"
        reason["target"] = {"type": kind, "name": target}
    return {
        "metadata": {"collectionType": str(MediaType.ERROR), "collectionTotal": 1},
        "resources": [{"errorMsg": error_msg, "reasons": [reason]}],
    }


def _what(request: Request) -> str:
    action = request.query_params.get("action") if request.method == "POST" else None
    return default_what(request.method, request.url.path, action)


def respond(
    request: Request,
    status: int,
    code: str,
    message: str,
    *,
    what: str = "",
    target: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = envelope(status, code, message, what or _what(request), target)
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": 'Bearer realm="strongroom"'}
    return JSONResponse(body, status_code=status, headers=headers)


def domain(request: Request, exc: StrongroomError, status: int) -> JSONResponse | None:
    """A domain error; `status` is the generic one api/errors.py gives its class.

    Any error naming a §1.5 reason code answers with that code's status; otherwise Key
    Protect's nearest answer for the class. None for a KmsError whose code the table lacks
    (a server bug: api/errors.py answers it as an unexpected error).
    """
    code, target = exc.code, getattr(exc, "target", None) or getattr(exc, "field", None)
    if code in REASON_STATUS:
        status = REASON_STATUS[code]
    elif isinstance(exc, KmsError):
        return None
    elif isinstance(exc, (Unauthenticated, Forbidden)):
        # Key Protect answers an IAM denial like a missing token: 401 (§1.2, §1.5).
        status, code = 401, "UNAUTHORIZED_ERR"
    elif isinstance(exc, NotFound):
        status, code = 404, "KEY_NOT_FOUND_ERR"
    elif isinstance(exc, Invalid):
        status, code = 400, "INVALID_FIELD_ERR" if target else "BAD_BODY_ERR"
    else:
        # Conflicts, quotas, preconditions: their own code in Key Protect's spelling.
        status = 409 if isinstance(exc, Conflict) else status
        code = f"{code.upper()}_ERR"
    what = exc.what if isinstance(exc, KmsError) else ""
    return respond(request, status, code, exc.message, what=what, target=target)


def validation(request: Request, location: str, field: str, message: str) -> JSONResponse:
    """A request FastAPI could not bind: query parameters are INVALID_QUERY_PARAM_ERR (go's
    tests expect it for `limit=0`), everything else BAD_BODY_ERR."""
    if location == "query":
        return respond(request, 400, "INVALID_QUERY_PARAM_ERR", message, target=field or None)
    return respond(request, 400, "BAD_BODY_ERR", message)


def http(request: Request, status: int, headers: dict[str, str]) -> JSONResponse:
    """An error raised by routing or the framework rather than by our code."""
    where = f"`{request.method} {request.url.path}`"
    if status in (404, 405):
        message = f"{where} is not implemented by this server"
        return respond(
            request,
            501,
            "NOT_IMPLEMENTED_ERR",
            message,
            what="Request could not be handled",
            headers=headers,
        )
    if status == 413:
        return respond(request, 413, "BODY_TOO_LARGE_ERR", "the request body is too large")
    if status >= 500:
        return unexpected(request, trace=str(getattr(request.state, "trace", "")))
    return respond(request, 400, "BAD_BODY_ERR", f"the request {where} could not be read")


def unexpected(request: Request, trace: str, headers: dict[str, str] | None = None) -> JSONResponse:
    message = f"internal error; quote trace `{trace}`"
    return respond(request, 500, "INTERNAL_SERVER_ERR", message, headers=headers)


def edge(method: str, path: str, status: int, message: str) -> dict[str, Any]:
    """The body of a refusal made before the app runs (api/middleware.py: 400 for a NUL in the
    URL, which BAD_BODY_ERR's "no invalid characters" covers; 413 for a body over the cap)."""
    code = {413: "BODY_TOO_LARGE_ERR", 503: "AUDIT_UNAVAILABLE_ERR"}.get(status, "BAD_BODY_ERR")
    return envelope(status, code, message, default_what(method, path))
