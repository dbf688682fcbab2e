"""The fields of a new key (spec kms-api.md §2.1, §3.1): what a create or import request may
say, checked before anything is written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from strongroom.kms import names
from strongroom.kms.errors import KmsError

WHAT = "Key could not be created"
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
    """The resource of `POST /keys`, through the field rules of kms/names.py. The expiration
    date's "in the future" is checked by the service, which knows the time."""
    if not isinstance(resource, dict):
        raise KmsError("BAD_BODY_ERR", "the key resource must be a JSON object", what=WHAT)
    extractable = resource.get("extractable", False)  # missing: a root key (spec §3.1)
    if not isinstance(extractable, bool):
        raise field_error("extractable", "`extractable` is true or false")
    expiration = resource.get("expirationDate")
    moment = None
    if expiration is not None:
        moment = names.parse_rfc3339(expiration) if isinstance(expiration, str) else None
        if moment is None:
            raise field_error(
                "expirationDate",
                "`expirationDate` must be an RFC 3339 date such as 2030-01-01T00:00:00Z",
            )
    secure = {k: resource[k] for k in SECURE_IMPORT_FIELDS if resource.get(k) is not None}
    for name, value in secure.items():
        if not isinstance(value, str):
            raise field_error(name, f"`{name}` must be a string")
    payload = resource.get("payload")
    material = None
    if payload is not None:
        material = names.decode_base64(payload, "payload", what=WHAT)
        if not secure:  # else encrypted: checked once decrypted (kms/secure_import.py)
            check_material(material, extractable)
    return NewKey(
        name=names.key_name(resource.get("name"), what=WHAT),
        description=names.description(resource.get("description"), what=WHAT),
        extractable=extractable,
        tags=names.tags(resource.get("tags"), what=WHAT),
        aliases=names.aliases(resource.get("aliases"), what=WHAT),  # spec §3.9
        expiration_date=moment,
        payload=material,
        secure_import=secure or None,
    )


def check_material(material: bytes, extractable: bool, what: str = WHAT) -> None:
    """Imported material: a root key is an AES key, a standard key at most 7,500 bytes."""
    names.imported_material(material, root=not extractable, what=what)


def decode_b64(value: object, name: str, what: str = WHAT) -> bytes:
    return names.decode_base64(value, name, what=what)
