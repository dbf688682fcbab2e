"""The OpenAPI document, made true in one place rather than in a hundred decorators.

FastAPI documents what a handler's signature shows: its success answer and a 422 it never sends
(api/errors.py answers validation with 400). What the signatures do not show is added here:

- the error answers every route can give, each in the envelope api/errors.py (or kms_errors.py)
  gives its path (spec §2.7, kms-api.md §1.5), instead of FastAPI's 422;
- the IAM bearer token every route but the `x-public` ones requires (spec §1), so a client
  generator, or Schemathesis' `ignored_auth` check (reliability.md A1), knows it;
- the `Bluemix-Instance` header every `/api/v2` call requires (kms-api.md §1.2);
- that a HEAD answer has no body.

reliability.md A1 runs Schemathesis against this document on a live server
(tests/fuzz/test_schemathesis.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from strongroom.api import errors
from strongroom.api.actions import PUBLIC_KEY

SECURITY_SCHEME = "IAM"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

# Every route may answer these: bad input (400), no or a bad token (401), a denial (403), an
# unknown object (404), a conflict or lock (409), a stale or missing If-Match (412, 428), a body
# over the cap (413), a quota or a state that forbids the change (422), a rate limit (429), and
# an audit sink that cannot record the change (503, reliability.md A3).
ERROR_STATUSES = (400, 401, 403, 404, 409, 412, 413, 422, 428, 429, 503)
_REASONS = {
    400: "Bad request",
    401: "Missing or invalid IAM access token",
    403: "Not authorized",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    412: "Precondition failed",
    413: "Request body too large",
    422: "Unprocessable entity",
    428: "Precondition required",
    429: "Too many requests",
    501: "Not implemented",
    503: "Service unavailable",
}

# The four envelopes of api/errors.py, by the path prefixes it uses.
_ERROR_SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": {
        "type": "object",
        "required": ["trace", "errors", "status_code"],
        "properties": {
            "trace": {"type": "string"},
            "status_code": {"type": "integer"},
            "errors": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "more_info": {"type": "string"},
                    },
                },
            },
        },
    },
    "IdentityError": {
        "type": "object",
        "required": ["context", "status_code", "errors", "trace"],
        "properties": {
            "context": {"type": "object"},
            "status_code": {"type": "string"},
            "trace": {"type": "string"},
            "errors": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {"type": "string"},
                        "message_code": {"type": "string"},
                        "message": {"type": "string"},
                        "details": {"type": "string"},
                    },
                },
            },
        },
    },
    "TokenError": {
        "type": "object",
        "required": ["context", "errorCode", "errorMessage"],
        "properties": {
            "context": {"type": "object"},
            "errorCode": {"type": "string"},
            "errorMessage": {"type": "string"},
        },
    },
    "KmsError": {
        "type": "object",
        "required": ["metadata", "resources"],
        "properties": {
            "metadata": {
                "type": "object",
                "required": ["collectionType", "collectionTotal"],
                "properties": {
                    "collectionType": {"type": "string"},
                    "collectionTotal": {"type": "integer"},
                },
            },
            "resources": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["errorMsg"],
                    "properties": {"errorMsg": {"type": "string"}, "reasons": {"type": "array"}},
                },
            },
        },
    },
}


_SCHEMA_OF_FAMILY = {
    "kms": "KmsError",
    "token": "TokenError",
    "identity": "IdentityError",
    "generic": "Error",
}


def error_schema_for(path: str) -> str:
    """Which envelope api/errors.py answers a path's errors in (its rule, not a copy)."""
    return _SCHEMA_OF_FAMILY[errors.envelope_family(path)]


def _error_response(status: int, schema: str) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": _REASONS[status],
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }
    if status == 401:
        response["headers"] = {
            "WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer realm"}
        }
    return response


_INSTANCE_HEADER = {
    "name": "Bluemix-Instance",
    "in": "header",
    "required": True,
    "description": "The GUID of the key management instance (kms-api.md §1.2)",
    "schema": {"type": "string", "minLength": 1},
}


def complete(doc: dict[str, Any]) -> dict[str, Any]:
    """Add what the handlers' signatures do not show (module docstring); returns `doc`."""
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.update(_ERROR_SCHEMAS)
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    components["securitySchemes"] = {
        SECURITY_SCHEME: {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "An IAM access token from POST /identity/token",
        }
    }
    for path, item in doc.get("paths", {}).items():
        schema = error_schema_for(path)
        kms = schema == "KmsError"
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)  # FastAPI's HTTPValidationError: we answer 400
            if method == "head":  # a HEAD answer has headers only (RFC 9110 §9.3.2)
                for status, answer in responses.items():
                    if status.startswith("2"):
                        answer.pop("content", None)
            for status in ERROR_STATUSES:
                responses.setdefault(str(status), _error_response(status, schema))
            if not operation.get(PUBLIC_KEY):
                operation["security"] = [{SECURITY_SCHEME: []}]
            if kms:
                parameters = operation.setdefault("parameters", [])
                if not any(p.get("name", "").lower() == "bluemix-instance" for p in parameters):
                    parameters.insert(0, dict(_INSTANCE_HEADER))
    return doc


def install(app: FastAPI) -> None:
    """Serve the completed document at /openapi.json (built once, on first request)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
