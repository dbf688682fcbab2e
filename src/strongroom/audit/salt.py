"""The deployment's audit salt (reliability.md A3 c): 32 random bytes made on first start,
stored in `server_meta` sealed under the root key like the token signing keys (rootkey.py), so
every node of a deployment hashes alike and a copy of the database alone does not reveal it."""

from __future__ import annotations

import base64
import secrets
from typing import Protocol

from strongroom.audit.hashing import SALT_BYTES

META_KEY = "audit_hmac_salt"
AAD = b"strongroom audit hmac salt v1"


class Meta(Protocol):
    def get(self, key: str) -> str | None: ...
    def put_new(self, key: str, value: str) -> bool: ...


class Sealer(Protocol):
    def seal(self, plaintext: bytes, aad: bytes) -> bytes: ...
    def open(self, blob: bytes, aad: bytes) -> bytes: ...


def load_or_create(meta: Meta, sealer: Sealer) -> bytes:
    """The stored salt, made and stored first if there is none (the first node to start wins a
    race: `put_new` keeps the first value)."""
    if meta.get(META_KEY) is None:
        fresh = sealer.seal(secrets.token_bytes(SALT_BYTES), AAD)
        meta.put_new(META_KEY, base64.b64encode(fresh).decode("ascii"))
    stored = meta.get(META_KEY)
    assert stored is not None  # put just now, or by another node
    return sealer.open(base64.b64decode(stored), AAD)
