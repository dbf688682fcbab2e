"""The server root key: the one secret from which every other server secret is derived or sealed.

- API keys and refresh tokens are stored only as HMAC-SHA-256 under a pepper derived from it.
- Token signing keys (and, later, KMS instance master keys) are stored sealed under a
  key-encryption key derived from it, with AES-256-GCM and the object's identity as AAD.

Losing the root key makes every stored secret useless; that is the point. The key lives in
`<data dir>/root.key` (created 0600 on first start) or comes from configuration.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

ROOT_KEY_BYTES = 32
_SEAL_FORMAT = (
    b"\x01"  # NOTE: sealed blobs start with this format byte; bump it to change the layout
)
_NONCE_BYTES = 12


class RootKeyError(ValueError):
    """The root key is missing, malformed, or does not belong to this database."""


class RootKey:
    def __init__(self, material: bytes) -> None:
        if len(material) != ROOT_KEY_BYTES:
            raise RootKeyError(f"the root key must be {ROOT_KEY_BYTES} bytes")
        self._material = material

    def derive(self, purpose: str) -> bytes:
        """A 32-byte subkey for one purpose (HKDF-SHA-256, purpose as `info`)."""
        return HKDF(
            algorithm=hashes.SHA256(),
            length=32,
            salt=b"strongroom root key v1",
            info=purpose.encode(),
        ).derive(self._material)

    def check_value(self) -> str:
        """A value stored in the database to tell, at start, whether this key belongs to it."""
        return hashlib.sha256(self.derive("root key check")).hexdigest()

    def sealer(self, purpose: str) -> Sealer:
        return Sealer(self.derive(f"seal:{purpose}"))

    def pepper(self, purpose: str) -> Pepper:
        return Pepper(self.derive(f"pepper:{purpose}"))


class Sealer:
    """AES-256-GCM under a derived key. Blob: format byte | 12-byte nonce | ciphertext+tag."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, plaintext: bytes, aad: bytes) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return _SEAL_FORMAT + nonce + self._aead.encrypt(nonce, plaintext, _SEAL_FORMAT + aad)

    def open(self, blob: bytes, aad: bytes) -> bytes:
        if blob[:1] != _SEAL_FORMAT or len(blob) < 1 + _NONCE_BYTES + 16:
            raise RootKeyError("sealed value has an unknown format")
        nonce = blob[1 : 1 + _NONCE_BYTES]
        return self._aead.decrypt(nonce, blob[1 + _NONCE_BYTES :], _SEAL_FORMAT + aad)


class Pepper:
    """HMAC-SHA-256 under a derived key: how secrets presented by clients are stored and found."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def digest(self, secret: str) -> str:
        return hmac.new(self._key, secret.encode(), hashlib.sha256).hexdigest()

    def matches(self, secret: str, stored_digest: str) -> bool:
        return hmac.compare_digest(self.digest(secret), stored_digest)


def load_or_create(path: Path, configured: str | None) -> RootKey:
    """The configured key (base64) wins; else read `path`, creating it (0600) when absent."""
    if configured:
        return RootKey(_decode(configured, "the configured root key"))
    if path.exists():
        return RootKey(_decode(path.read_text().strip(), f"`{path}`"))
    path.parent.mkdir(parents=True, exist_ok=True)
    material = secrets.token_bytes(ROOT_KEY_BYTES)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(base64.b64encode(material).decode() + "\n")
    return RootKey(material)


def _decode(text: str, where: str) -> bytes:
    try:
        material = base64.b64decode(text, validate=True)
    except ValueError as exc:
        raise RootKeyError(f"{where} is not base64") from exc
    if len(material) != ROOT_KEY_BYTES:
        raise RootKeyError(f"{where} must hold {ROOT_KEY_BYTES} bytes, base64-encoded")
    return material
