"""Secure import (spec kms-api.md §3.7): key material a client encrypted to its instance's
import token, proven by the token's nonce. Used by key create and by rotate.

The client retrieves the token (`GET /import_token`: public key and nonce), then sends
- `payload`: RSA-OAEP of the material under the token's public key, with
  `encryptionAlgorithm` `RSAES_OAEP_SHA_256` (the default) or `RSAES_OAEP_SHA_1`;
- `encryptedNonce` and `iv`: the token's nonce encrypted under the material (AES-GCM, 12-byte
  IV; or the go client's AES-CBC variant), always both together.
The server needs the token unexpired (its retrieval budget limits GET only, kms/import_tokens),
opens the payload with the token's private key, and checks the nonce: one that does not open
under the material and IV is INCORRECT_NONCE_IV_ERR, one that opens but is not the token's
(an older token's) INCORRECT_NONCE_ERR (kpdocs error-messages.md).
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Mapping
from datetime import datetime

from strongroom.kms.crypto import transport
from strongroom.kms.crypto.backend import CryptoBackend
from strongroom.kms.crypto.context import import_token_context
from strongroom.kms.errors import KmsError
from strongroom.kms.import_tokens import expired, expired_error, not_found
from strongroom.kms.new_key import WHAT, NewKey, check_material, field_error
from strongroom.kms.scope import Scope
from strongroom.store.ports import UnitOfWork


def for_new_key(
    uow: UnitOfWork, backend: CryptoBackend, scope: Scope, new: NewKey, now: datetime
) -> bytes:
    """The clear material of a key created with `encryptedNonce`, `iv` and
    `encryptionAlgorithm` (new_key.py keeps its `payload` encrypted)."""
    payload = None if new.payload is None else base64.b64encode(new.payload).decode("ascii")
    return open_material(
        uow,
        backend,
        scope,
        payload,
        new.secure_import or {},
        now,
        extractable=new.extractable,
        what=WHAT,
    )


def open_material(
    uow: UnitOfWork,
    backend: CryptoBackend,
    scope: Scope,
    payload: object,
    fields: Mapping[str, object],
    now: datetime,
    *,
    extractable: bool,
    what: str,
) -> bytes:
    """The material `payload` (base64) carries to the instance's import token, once the
    nonce in `fields` (`encryptedNonce`, `iv`, `encryptionAlgorithm`) proves it; else the
    KmsError that says why not."""
    nonce, iv = fields.get("encryptedNonce"), fields.get("iv")
    algorithm = fields.get("encryptionAlgorithm") or transport.RSAES_OAEP_SHA_256
    for name, value in (("encryptedNonce", nonce), ("iv", iv), ("encryptionAlgorithm", algorithm)):
        if value is not None and not isinstance(value, str):
            raise field_error(name, f"`{name}` must be a string", what)
    if not isinstance(payload, str) or not payload:
        raise field_error(
            "payload",
            "a secure import needs `payload`: the key material encrypted to the import token",
            what,
        )
    if not nonce or not iv:
        raise field_error(
            "iv" if nonce else "encryptedNonce",
            "`encryptedNonce` and `iv` go together: send both with an import token's payload",
            what,
        )
    assert isinstance(nonce, str) and isinstance(iv, str) and isinstance(algorithm, str)
    token = uow.import_tokens.get(scope.id)
    if token is None:
        raise not_found(scope.id, what)
    if expired(token, now):
        raise expired_error(what)
    private = backend.open_private(
        scope.kms.master_key, import_token_context(scope.id), token.private_key
    )
    try:
        material = transport.decrypt_payload(private, payload, algorithm)
    except transport.UnknownAlgorithmError as exc:
        raise field_error("encryptionAlgorithm", str(exc), what) from exc
    except transport.PayloadError as exc:
        raise field_error("payload", str(exc), what) from exc
    check_material(material, extractable, what)
    opened = transport.open_nonce(material, nonce, iv)
    if opened is None:
        raise KmsError(
            "INCORRECT_NONCE_IV_ERR",
            "the encrypted nonce was not encrypted with the key material given, or `iv` does"
            " not match it",
            what=what,
        )
    if not hmac.compare_digest(opened, token.nonce):
        raise KmsError(
            "INCORRECT_NONCE_ERR",
            "the encrypted nonce does not match the import token's: encrypt the nonce of the"
            " current token",
            what=what,
        )
    return material
