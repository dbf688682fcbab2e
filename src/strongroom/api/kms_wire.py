"""The key management API's wire conventions (spec kms-api.md §1): request bodies, headers and
response media types, as pieces the `/api/v2` routers share.

Bodies are read from raw bytes because Key Protect clients disagree about framing: go sends no
Content-Type and the literal `null` for action bodies, py3 sends vendor types, and go spells
members `Tags` and `KeyRingID` (§1.2, §2.1). Every refusal here is a `KmsError` carrying a reason
code of §1.5; `api/errors.py` alone turns it into the HTTP answer.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Annotated, Any, Literal

from fastapi import Depends, Request, Response
from starlette.requests import ClientDisconnect

from strongroom.kms.errors import KmsError

JSON = "application/json"
PREFIX = "/api/v2"


def is_kms_path(path: str) -> bool:
    """Whether a request path belongs to the key management API (spec §1.1)."""
    return path == PREFIX or path.startswith(PREFIX + "/")


class MediaType(StrEnum):
    """The vendor types of §1.3 (`metadata.collectionType`) and §1.4 (response Content-Type)."""

    KEY = "application/vnd.ibm.kms.key+json"
    KEY_ACTION = "application/vnd.ibm.kms.key_action+json"
    KEY_VERSION = "application/vnd.ibm.kms.key.version+json"
    POLICY = "application/vnd.ibm.kms.policy+json"
    IMPORT_TOKEN = "application/vnd.ibm.kms.import_token+json"  # noqa: S105 (a media type)
    ALIAS = "application/vnd.ibm.kms.alias+json"
    KEY_RING = "application/vnd.ibm.kms.key_ring+json"
    REGISTRATION = "application/vnd.ibm.kms.registration+json"
    REGISTRATION_INPUT = "application/vnd.ibm.kms.registration_input+json"
    RESOURCE_CRN = "application/vnd.ibm.kms.resource_crn+json"
    CRN = "application/vnd.ibm.kms.crn+json"
    EVENT_ACKNOWLEDGE = "application/vnd.ibm.kms.event_acknowledge+json"
    ALLOWED_IP_METADATA = "application/vnd.ibm.kms.allowed_ip_metadata+json"
    ERROR = "application/vnd.ibm.kms.error+json"
    KMIP_ADAPTER = "application/vnd.ibm.kms.kmip_adapter+json"
    KMIP_CLIENT_CERTIFICATE = "application/vnd.ibm.kms.kmip_client_certificate+json"
    KMIP_OBJECT = "application/vnd.ibm.kms.kmip_object+json"
    MIGRATION_INTENT = "application/vnd.ibm.kms.migration_intent+json"


# §1.4: py3's core JSON-decodes only `application/json`, and IBM's own py3 tests call `.json()`
# on the raw response of exactly these operations, so they must answer with a vendor type.
CREATE_KEY_TYPE = MediaType.KEY
WRAP_TYPE = MediaType.KEY_ACTION
ADD_KMIP_CERTIFICATE_TYPE = MediaType.KMIP_CLIENT_CERTIFICATE

ENVELOPE_KEYS = ("metadata", "resources")
METADATA_KEYS = ("collectionType", "collectionTotal")


# ---- request bodies ----------------------------------------------------------------------


def _bad_body(detail: str) -> KmsError:
    return KmsError("BAD_BODY_ERR", f"invalid body data was passed: {detail}")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"`{name}` is not JSON")


def _has_nul(value: Any) -> bool:
    """PostgreSQL text cannot hold NUL, so no key field may carry one (docs/architecture.md)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any("\x00" in k or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _parse(raw: bytes | None, *, required: bool) -> Any:
    """The body as JSON whatever the Content-Type (§1.2); None for no body, the empty body and
    the literal `null` go sends for bodiless actions (§3.4)."""
    text = (raw or b"").strip()
    if not text:
        value = None
    else:
        try:
            value = json.loads(text, parse_constant=_refuse_constant)
        except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError included
            raise _bad_body("the body is not valid JSON") from None
    if value is None and required:
        raise KmsError("NO_BODY_ERR", "missing body in request")
    try:
        if _has_nul(value):
            raise _bad_body("the body contains a NUL character")
    except RecursionError:
        raise _bad_body("the body is nested too deeply") from None
    return value


def canonical_keys(obj: Mapping[str, Any], known: Iterable[str]) -> dict[str, Any]:
    """`obj` with its member names matched case-insensitively to `known` and spelled as there;
    unknown members stay as sent. go's encoding/json matches names without regard to case, and
    go's client sends `Tags` and `KeyRingID` (spec §2.1)."""
    spelling = {name.lower(): name for name in known}
    out: dict[str, Any] = {}
    sent_as: dict[str, str] = {}
    for key, value in obj.items():
        name = spelling.get(key.lower(), key)
        if name in out:
            raise _bad_body(f"the body names `{name}` twice (`{sent_as[name]}` and `{key}`)")
        out[name] = value
        sent_as[name] = key
    return out


def read_json(
    raw: bytes | None, *, required: bool = True, known: Iterable[str] = ()
) -> dict[str, Any]:
    """A body that is one JSON object, not an envelope: wrap/unwrap/rewrap `{plaintext,
    ciphertext, aad}`, rotate `{payload, ...}`, PATCH `{keyRingID}`, import token (§3).

    No body (absent, empty or `null`) is NO_BODY_ERR when `required`, else `{}`.
    """
    value = _parse(raw, required=required)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _bad_body("the body must be a JSON object")
    return canonical_keys(value, known)


def read_envelope(
    raw: bytes | None,
    *,
    collection_type: str,
    required: bool = True,
    max_items: int | None = 1,
    known: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """The `resources` of a collection envelope (§1.3), each with `known` names canonical.

    No body is NO_BODY_ERR when `required`, else `[]`. `metadata.collectionTotal` must equal the
    number of resources (COLLECTION_TOTAL_MISMATCH_ERR); more than `max_items` resources (None:
    no limit) is NUM_COLLECTION_RESOURCE_ERR (§1.5). A `collectionType` other than the expected
    one is refused; a missing one is tolerated (nothing in §1.3 requires it).
    """
    value = _parse(raw, required=required)
    if value is None:
        return []
    if not isinstance(value, dict):
        raise _bad_body("the body must be a JSON object with `metadata` and `resources`")
    envelope = canonical_keys(value, ENVELOPE_KEYS)
    metadata, resources = envelope.get("metadata"), envelope.get("resources")
    if not isinstance(metadata, dict) or not metadata:
        raise _bad_body("`metadata` must be an object with `collectionType` and `collectionTotal`")
    if not isinstance(resources, list):
        raise _bad_body("`resources` must be an array")
    metadata = canonical_keys(metadata, METADATA_KEYS)
    sent_type = metadata.get("collectionType")
    if sent_type is not None and (
        not isinstance(sent_type, str) or sent_type.lower() != collection_type.lower()
    ):
        raise _bad_body(f"`metadata.collectionType` must be `{collection_type}`")
    total = metadata.get("collectionTotal")
    if not isinstance(total, int) or isinstance(total, bool):
        raise _bad_body("`metadata.collectionTotal` must be an integer")
    if total != len(resources):
        raise KmsError(
            "COLLECTION_TOTAL_MISMATCH_ERR",
            f"collection total does not match number of resources: `collectionTotal` is {total}"
            f" but `resources` holds {len(resources)}",
        )
    if not resources:
        if required:
            raise _bad_body("`resources` holds no resource")
        return []
    if max_items is not None and len(resources) > max_items:
        raise KmsError(
            "NUM_COLLECTION_RESOURCE_ERR",
            f"this request takes at most {max_items} resource(s); `resources` holds"
            f" {len(resources)}",
        )
    if not all(isinstance(item, dict) for item in resources):
        raise _bad_body("each item of `resources` must be a JSON object")
    return [canonical_keys(item, known) for item in resources]


async def raw_body(request: Request) -> bytes:
    """The request body as sent. The body-size cap in api/middleware.py cuts a chunked body that
    outgrows it by reporting a disconnect: that is answered as a body too large (413)."""
    try:
        return await request.body()
    except ClientDisconnect:
        raise KmsError(
            "BODY_TOO_LARGE_ERR", "the request body is larger than this server accepts"
        ) from None


RawBody = Annotated[bytes, Depends(raw_body)]


# ---- headers -----------------------------------------------------------------------------


async def instance_id(request: Request) -> str:
    """`Bluemix-Instance`, required on every `/api/v2` call (§1.2; header names are
    case-insensitive, go sends `bluemix-instance`).

    Its absence is INVALID_FIELD_ERR: §1.5 documents no code for a missing header, and of the
    400 codes this is the one for "a named input failed validation"; BAD_BODY_ERR and
    NO_BODY_ERR speak of the body, which may be fine. No `target`: Key Protect's target types are
    body fields and query parameters, and a header is neither.
    """
    value = request.headers.get("bluemix-instance", "").strip()
    if not value:
        raise KmsError(
            "INVALID_FIELD_ERR",
            "the `Bluemix-Instance` header is required: send the GUID of the key management"
            " instance",
        )
    return value


async def key_ring_hint(request: Request) -> str | None:
    """`X-Kms-Key-Ring` (§1.2): the ring to create in or list from, or where a key is now."""
    value = request.headers.get("x-kms-key-ring", "").strip()
    return value or None


InstanceId = Annotated[str, Depends(instance_id)]
KeyRingHint = Annotated[str | None, Depends(key_ring_hint)]

Return = Literal["representation", "minimal"]


def prefer(request: Request) -> Return | None:
    """The `return=` preference of the `Prefer` header (RFC 7240; §1.2), or None.

    Preferences are comma-separated, each may carry `;` parameters, and tokens are
    case-insensitive; an unknown `return` value is ignored as RFC 7240 §2 asks.
    """
    for header in request.headers.getlist("prefer"):
        for preference in header.split(","):
            name, _, value = preference.split(";", 1)[0].partition("=")
            if name.strip().lower() == "return":
                wanted = value.strip().strip('"').lower()
                if wanted == "representation":
                    return "representation"
                if wanted == "minimal":
                    return "minimal"
    return None


async def _prefer(request: Request) -> Return | None:
    return prefer(request)


ReturnPreference = Annotated[Return | None, Depends(_prefer)]


# ---- responses ---------------------------------------------------------------------------


def collection(
    items: Sequence[Mapping[str, Any]],
    collection_type: str,
    total_count: int | None = None,
    **metadata: Any,
) -> dict[str, Any]:
    """The §1.3 envelope. `total_count` is the `totalCount` of list calls asked for it;
    `metadata` adds members such as list-keys' `incompleteSearch` and `searchQuery`."""
    head: dict[str, Any] = {"collectionType": str(collection_type), "collectionTotal": len(items)}
    if total_count is not None:
        head["totalCount"] = total_count
    head.update(metadata)
    return {"metadata": head, "resources": list(items)}


def kms_json(
    body: Any,
    status: int = 200,
    media_type: str = JSON,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A JSON answer with the Content-Type of §1.4 (`CREATE_KEY_TYPE`, `WRAP_TYPE`,
    `ADD_KMIP_CERTIFICATE_TYPE`, else `application/json`)."""
    content = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    return Response(content, status_code=status, media_type=str(media_type), headers=headers)


def no_content(status: int = 204) -> Response:
    """An empty answer: 204 for actions and deletes, 201 for key-ring create, whose go caller
    fails on any body (§3)."""
    return Response(status_code=status)
