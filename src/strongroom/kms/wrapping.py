"""Envelope encryption with root keys: wrap, unwrap, rewrap and rotate (spec kms-api.md §3.4,
§3.5).

A ciphertext names the key version that made it (its `handle`), so unwrap finds that version
however many rotations came after: a rotation adds one version and moves the key's pointer to
it, and costs the same at the 10,000th version as at the first. The caller's `aad` list and
the key and version ids are bound into the AES-GCM tag: a ciphertext of another key, another
version or another `aad` does not open.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from strongroom import ids
from strongroom.authz import Guard
from strongroom.clock import Clock
from strongroom.kms import lifecycle, names, secure_import
from strongroom.kms.crypto import ciphertext
from strongroom.kms.crypto.backend import CiphertextError, CryptoBackend
from strongroom.kms.errors import KmsError
from strongroom.kms.keys import KeyLoader, context
from strongroom.kms.models import Key, KeyVersion
from strongroom.kms.new_key import SECURE_IMPORT_FIELDS, decode_b64, field_error
from strongroom.kms.scope import Scope
from strongroom.store.ports import UnitOfWork, UnitOfWorkFactory

GENERATED_DEK_BYTES = 32  # an empty wrap body: the server makes a 256-bit data key
MAX_PLAINTEXT_BYTES = 7_500


@dataclass(frozen=True, slots=True)
class Wrap:
    ciphertext: str
    key_version_id: str
    plaintext: bytes | None = None  # only when the server generated the data key


@dataclass(frozen=True, slots=True)
class Unwrap:
    plaintext: bytes | None  # None for rewrap: it never shows the data key
    key_version_id: str  # the version that made the ciphertext
    rewrapped: str | None = None  # under the newest version, when an older one made it
    rewrapped_version_id: str | None = None


class WrapService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, backend: CryptoBackend) -> None:
        self._uow = uow
        self._clock = clock
        self._backend = backend
        self._load = KeyLoader(clock, backend)

    def wrap(self, guard: Guard, instance_id: str, ref: str, body: dict[str, Any]) -> Wrap:
        what = lifecycle.WHAT["wrap"]
        aad = names.wrap_aad(body.get("aad"), what=what)
        given = body.get("plaintext")
        generated = given is None or given == ""
        plaintext = (
            secrets.token_bytes(GENERATED_DEK_BYTES)
            if generated
            else decode_b64(given, "plaintext", what)
        )
        if len(plaintext) > MAX_PLAINTEXT_BYTES:
            raise field_error("plaintext", "`plaintext` holds at most 7,500 bytes", what)
        with self._uow() as uow:
            scope, key = self._load.authorized(uow, guard, instance_id, ref)
            lifecycle.check(key, "wrap", self._clock.now())
            version = self._version(uow, key, key.version_id)
            text = self._wrap(scope, key, version, plaintext, aad)
        return Wrap(text, version.id, plaintext if generated else None)

    def unwrap(
        self, guard: Guard, instance_id: str, ref: str, body: dict[str, Any], show: bool
    ) -> Unwrap:
        """`show`: unwrap (the data key is returned); else rewrap (only the new ciphertext)."""
        action = "unwrap" if show else "rewrap"
        what = lifecycle.WHAT[action]
        aad = names.wrap_aad(body.get("aad"), what=what)
        text = body.get("ciphertext")
        if not isinstance(text, str) or not text:
            raise field_error("ciphertext", "`ciphertext` is required", what)
        with self._uow() as uow:
            scope, key = self._load.authorized(uow, guard, instance_id, ref)
            lifecycle.check(key, action, self._clock.now())
            try:
                version_id, wrapped = ciphertext.decode(text)
            except CiphertextError as exc:
                raise _unprocessable(key, what) from exc
            version = uow.key_versions.get(key.id, version_id)
            if version is None:
                raise _unprocessable(key, what)
            try:
                plaintext = self._backend.unwrap(
                    scope.kms.master_key,
                    context(scope, key.id, version.id),
                    version.material,
                    wrapped,
                    ciphertext.wrap_aad(key.id, version.id, aad),
                )
            except CiphertextError as exc:
                raise _unprocessable(key, what) from exc
            if version.id == key.version_id:
                if show:
                    return Unwrap(plaintext, version.id)
                newest = version  # rewrap under the same (newest) version: a fresh IV
            else:
                newest = self._version(uow, key, key.version_id)
            again = self._wrap(scope, key, newest, plaintext, aad)
        return Unwrap(plaintext if show else None, version.id, again, newest.id)

    @staticmethod
    def _version(uow: UnitOfWork, key: Key, version_id: str) -> KeyVersion:
        version = uow.key_versions.get(key.id, version_id)
        if version is None:  # the key row names this version: missing means a corrupt store
            raise KmsError(
                "INCOMPLETE_METADATA_ERR",
                f"key `{key.id}` names version `{version_id}`, which is missing",
                what="Key could not be used",
            )
        return version

    def _wrap(
        self, scope: Scope, key: Key, version: KeyVersion, plaintext: bytes, aad: Sequence[str]
    ) -> str:
        wrapped = self._backend.wrap(
            scope.kms.master_key,
            context(scope, key.id, version.id),
            version.material,
            plaintext,
            ciphertext.wrap_aad(key.id, version.id, aad),
        )
        return ciphertext.encode(version.id, wrapped)

    def rotate(self, guard: Guard, instance_id: str, ref: str, body: dict[str, Any]) -> None:
        what = lifecycle.WHAT["rotate"]
        now = self._clock.now()
        with self._uow(write=True) as uow:
            scope, key = self._load.authorized(uow, guard, instance_id, ref)
            lifecycle.check(key, "rotate", now)
            payload = body.get("payload")
            if key.imported and payload is None:
                raise KmsError(
                    "KEY_PAYLOAD_REQ_ERR",
                    f"key `{key.id}` was imported: rotating it needs the new `payload`",
                    what=what,
                )
            if not key.imported and payload is not None:
                raise field_error(
                    "payload", "only an imported key is rotated with a `payload`", what
                )
            secure = {k: body[k] for k in SECURE_IMPORT_FIELDS if body.get(k) is not None}
            if key.imported_with_token and not secure:
                raise field_error(
                    "encryptedNonce",
                    f"key `{key.id}` was imported with an import token: rotating it needs"
                    " `encryptedNonce` and `iv` with the new `payload` too",
                    what,
                )
            if secure:  # spec §3.7: the new material encrypted to the import token
                material = secure_import.open_material(
                    uow, self._backend, scope, payload, secure, now, extractable=False, what=what
                )
                rotate_key(uow, self._backend, scope, key, now, material=material)
            else:
                rotate_key(uow, self._backend, scope, key, now, payload_b64=payload)


def rotate_key(
    uow: UnitOfWork,
    backend: CryptoBackend,
    scope: Scope,
    key: Key,
    now: datetime,
    *,
    payload_b64: object = None,
    material: bytes | None = None,
) -> Key:
    """Add a version and point the key at it (also the automatic rotation of a policy)."""
    version_id = ids.new_uuid()
    ctx = context(scope, key.id, version_id)
    if payload_b64 is not None:
        material = decode_b64(payload_b64, "payload", lifecycle.WHAT["rotate"])
        if len(material) not in (16, 24, 32):
            raise field_error(
                "payload", "a root key's material is 16, 24 or 32 bytes", lifecycle.WHAT["rotate"]
            )
    sealed = (
        backend.seal(scope.kms.master_key, ctx, material)
        if material is not None
        else backend.generate(scope.kms.master_key, ctx)
    )
    newest = uow.key_versions.newest(key.id)
    seq = (newest.seq if newest else 0) + 1
    uow.key_versions.add(KeyVersion(version_id, key.id, seq, now, sealed))
    key = replace(
        key,
        version_id=version_id,
        version_created_at=now,
        last_rotate_at=now,
        last_update_at=now,
    )
    uow.kms_keys.update(key)
    return key


def _unprocessable(key: Key, what: str) -> KmsError:
    return KmsError(
        "UNPROCESSABLE_CIPHERTEXT_ERR",
        f"the ciphertext is corrupt, was not made by key `{key.id}`, or its `aad` differs",
        what=what,
    )
