"""The wrapped-DEK `ciphertext` string clients store and send back (spec kms-api.md §3.5), and
the AAD a wrap is bound to (§3.4).

The string is base64 of the JSON object
`{"ciphertext": <b64 AES-GCM output + tag>, "iv": <b64 12-byte IV>, "version": "4.0.0",
"handle": <key version id>}`, Key Protect's documented shape. It is opaque to clients but
describes itself: `handle` names the version whose material opens it, so rotation never breaks
unwrap. `decode` trusts nothing: every malformed string is a CiphertextError, and base64 must be
canonical, so a string that decodes is, bit for bit, one that `encode` made (or a forgery that
AES-GCM refuses).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence

from strongroom.kms.crypto.backend import CiphertextError, Wrapped
from strongroom.kms.crypto.context import canonical

FORMAT_VERSION = "4.0.0"
IV_BYTES = 12
TAG_BYTES = 16
# The service refuses longer wrap plaintexts, so that every ciphertext it makes decodes.
MAX_PLAINTEXT_BYTES = 32_768
MAX_TEXT_CHARS = 65_536  # a ciphertext of MAX_PLAINTEXT_BYTES is about 58,500 characters
MAX_HANDLE_CHARS = 128
MAX_AAD_CHARS = 255  # per `aad` string (§3.4)
_FIELDS = frozenset({"ciphertext", "iv", "version", "handle"})
_AAD_LABEL = "kms wrap aad v1"


def encode(version_id: str, wrapped: Wrapped) -> str:
    """The ciphertext string for `wrapped`, made under key version `version_id`."""
    if not 0 < len(version_id) <= MAX_HANDLE_CHARS:
        raise ValueError(f"a key version id must be 1 to {MAX_HANDLE_CHARS} characters")
    if len(wrapped.iv) != IV_BYTES:
        raise ValueError(f"the iv must be {IV_BYTES} bytes")
    if not TAG_BYTES <= len(wrapped.ciphertext) <= MAX_PLAINTEXT_BYTES + TAG_BYTES:
        raise ValueError(f"a wrapped value holds at most {MAX_PLAINTEXT_BYTES} bytes")
    body = {
        "ciphertext": _b64(wrapped.ciphertext),
        "iv": _b64(wrapped.iv),
        "version": FORMAT_VERSION,
        "handle": version_id,
    }
    return _b64(json.dumps(body, separators=(",", ":")).encode())


def decode(text: str) -> tuple[str, Wrapped]:
    """(key version id, wrapped value) of a ciphertext string; CiphertextError when malformed."""
    if not isinstance(text, str) or not 0 < len(text) <= MAX_TEXT_CHARS:
        raise CiphertextError("the ciphertext is empty or too long")
    raw = _unb64(text, "ciphertext")
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # RecursionError: `[[[[…` nested deep
        raise CiphertextError("the ciphertext does not hold a JSON object") from exc
    if not isinstance(body, dict) or set(body) != _FIELDS:
        raise CiphertextError(
            "the ciphertext must hold exactly `ciphertext`, `iv`, `version` and `handle`"
        )
    if body["version"] != FORMAT_VERSION:
        raise CiphertextError("the ciphertext has an unknown format version")
    handle = body["handle"]
    if not isinstance(handle, str) or not 0 < len(handle) <= MAX_HANDLE_CHARS:
        raise CiphertextError("the ciphertext names no valid key version")
    iv = _unb64(body["iv"], "iv")
    sealed = _unb64(body["ciphertext"], "ciphertext")
    if len(iv) != IV_BYTES:
        raise CiphertextError(f"the ciphertext's iv must be {IV_BYTES} bytes")
    if not TAG_BYTES <= len(sealed) <= MAX_PLAINTEXT_BYTES + TAG_BYTES:
        raise CiphertextError("the ciphertext's wrapped value has an impossible length")
    return handle, Wrapped(iv=iv, ciphertext=sealed)


def wrap_aad(key_id: str, version_id: str, aad: Sequence[str] | None) -> bytes:
    """The AES-GCM AAD of a wrap: the request's `aad` strings bound to the key and version.

    A ciphertext then opens only with the same key id, the same version id and the same `aad`
    list (order matters; an absent list equals an empty one, §3.4: `aad` is not stored and must
    be resent). ValueError for a value that is not a string or longer than 255 characters; the
    service checks these first and answers with its own error.
    """
    values = list(aad or ())
    for value in values:
        if not isinstance(value, str):
            raise ValueError("each `aad` value must be a string")
        if len(value) > MAX_AAD_CHARS:
            raise ValueError(f"each `aad` value must be at most {MAX_AAD_CHARS} characters")
    return canonical(_AAD_LABEL, key_id, version_id, *values)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(value: object, name: str) -> bytes:
    if not isinstance(value, str):
        raise CiphertextError(f"the ciphertext's `{name}` is not a base64 string")
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:  # ValueError: non-ASCII characters
        raise CiphertextError(f"the ciphertext's `{name}` is not base64") from exc
    if _b64(data) != value:  # non-canonical: stray padding bits
        raise CiphertextError(f"the ciphertext's `{name}` is not canonical base64")
    return data
