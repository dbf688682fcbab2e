"""The fields of a new key (spec kms-api.md §2.1, §3.1): what a create or import request may
say, checked before anything is written."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime

from strongroom.kms import names
from strongroom.kms.errors import KmsError

WHAT = "Key could not be created"
ROOT_MATERIAL_BYTES = (16, 24, 32)
STANDARD_MATERIAL_MAX = 7_500
# Secure import (spec §3.7): with any of these, `payload` is encrypted to the import token.
SECURE_IMPORT_FIELDS = ("encryptedNonce", "iv", "encryptionAlgorithm")


@dataclass(frozen=True, slots=True)
class NewKey:
    name: str
    description: str
    extractable: bool
    tags: tuple[str, ...]
    aliases: tuple[str, ...]
    expiration_date: datetime | None
    # Imported material, in clear only until the backend seals it; with `secure_import`, the
    # material encrypted to the import token (kms/secure_import.py opens it).
    payload: bytes | None
    secure_import: dict[str, str] | None  # encryptedNonce, iv, encryptionAlgorithm


def field_error(name: str, message: str, what: str = WHAT) -> KmsError:
    return KmsError("INVALID_FIELD_ERR", message, what=what, target=name)


def parse_new_key(resource: object) -> NewKey:
    if not isinstance(resource, dict):
        raise KmsError("BAD_BODY_ERR", "the key resource must be a JSON object", what=WHAT)
    name = resource.get("name")
    if not isinstance(name, str) or not 2 <= len(name) <= 90:
        raise field_error("name", "`name` is required: a string of 2 to 90 characters")
    description = resource.get("description") or ""
    if not isinstance(description, str) or len(description) > 240:
        raise field_error("description", "`description` is a string of at most 240 characters")
    extractable = resource.get("extractable", False)  # missing: a root key (spec §3.1)
    if not isinstance(extractable, bool):
        raise field_error("extractable", "`extractable` is true or false")
    tags = _strings(resource.get("tags"), "tags")
    for tag in tags:
        if not 1 <= len(tag) <= 30 or any(c in tag for c in "<>,:&|"):
            raise field_error("tags", f"tag `{tag}` must have 1 to 30 characters, none of <>,:&|")
    if len(tags) > 30:
        raise field_error("tags", "a key has at most 30 tags")
    aliases = names.aliases(resource.get("aliases"), what=WHAT)  # spec §3.9
    expiration = resource.get("expirationDate")
    payload = resource.get("payload")
    secure = {k: resource[k] for k in SECURE_IMPORT_FIELDS if resource.get(k) is not None}
    for name, value in secure.items():
        if not isinstance(value, str):
            raise field_error(name, f"`{name}` must be a string")
    material = None
    if payload is not None:
        material = decode_b64(payload, "payload")
        if not secure:  # else encrypted: checked once decrypted (kms/secure_import.py)
            check_material(material, extractable)
    return NewKey(
        name=name,
        description=description,
        extractable=extractable,
        tags=tags,
        aliases=aliases,
        expiration_date=parse_date(expiration, "expirationDate") if expiration else None,
        payload=material,
        secure_import=secure or None,
    )


def check_material(material: bytes, extractable: bool, what: str = WHAT) -> None:
    """Imported material: a root key is an AES key, a standard key at most 7,500 bytes."""
    if not extractable and len(material) not in ROOT_MATERIAL_BYTES:
        raise field_error("payload", "an imported root key must be 16, 24 or 32 bytes", what)
    if extractable and not 1 <= len(material) <= STANDARD_MATERIAL_MAX:
        raise field_error("payload", "an imported standard key holds 1 to 7,500 bytes", what)


def _strings(value: object, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise field_error(name, f"`{name}` is a list of strings")
    return tuple(value)


def decode_b64(value: object, name: str, what: str = WHAT) -> bytes:
    if not isinstance(value, str):
        raise field_error(name, f"`{name}` must be a base64 string", what)
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise field_error(name, f"`{name}` is not valid base64", what) from exc


def parse_date(value: object, name: str) -> datetime:
    """Strict RFC 3339 (spec §2.1: the go client parses dates as time.Time)."""
    if not isinstance(value, str) or "T" not in value:
        raise field_error(name, f"`{name}` must be an RFC 3339 date-time")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise field_error(name, f"`{name}` must be an RFC 3339 date-time") from exc
    if parsed.tzinfo is None:
        raise field_error(name, f"`{name}` must carry a time zone (`Z` for UTC)")
    return parsed.astimezone(UTC)
