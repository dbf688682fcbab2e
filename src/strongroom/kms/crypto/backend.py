"""The CryptoBackend protocol: every operation on key material goes through it.

Layers of keys (issue 6, spec kms-api.md §3.5):
- the server root key (rootkey.py) seals each instance's master key;
- an instance's master key (AES-256) seals each key version's material;
- a root key version's material wraps data encryption keys (AES-256-GCM).

The service stores only sealed blobs and hands them back to the backend; raw root-key material
never leaves it. Standard keys are the one exception, and reading one is an explicit call
(`export`), made only for `GET /keys/{id}` by a caller with `secrets.read`.

`context` binds a sealed blob to what it belongs to (instance id, key id, version id), so a blob
copied to another row does not open. It is built by `context.py` (its first field is the
instance id, which also opens the instance's master key).

Errors: CiphertextError when a client's wrapped value does not open (the client's fault);
SealedBlobError when a stored blob does not (the server's).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class CiphertextError(ValueError):
    """A wrapped value does not open: corrupt, from another key or version, or wrong AAD."""


class SealedBlobError(RuntimeError):
    """A stored sealed blob (master key, key material, transport private key) does not open:
    corrupt storage, another server root key, or a blob moved to another row or instance. The
    server's fault, never the client's, unlike CiphertextError."""


@dataclass(frozen=True, slots=True)
class Wrapped:
    iv: bytes
    ciphertext: bytes  # AES-GCM output with its 16-byte tag appended


class CryptoBackend(Protocol):
    # What it is, said plainly in logs and `/healthz`: "software (not an HSM)".
    description: str

    def new_master_key(self, instance_id: str) -> bytes:
        """A fresh instance master key, returned sealed (by the server root key)."""
        ...

    def generate(self, master: bytes, context: bytes, length: int = 32) -> bytes:
        """New random key material of `length` bytes, returned sealed under `master`."""
        ...

    def seal(self, master: bytes, context: bytes, material: bytes) -> bytes:
        """Imported material, sealed under `master`."""
        ...

    def export(self, master: bytes, context: bytes, sealed: bytes) -> bytes:
        """The clear material of a STANDARD key (the caller checks extractability)."""
        ...

    def wrap(
        self, master: bytes, context: bytes, sealed: bytes, plaintext: bytes, aad: bytes
    ) -> Wrapped:
        """Encrypt a data key under a root key version's material (AES-256-GCM)."""
        ...

    def unwrap(
        self, master: bytes, context: bytes, sealed: bytes, wrapped: Wrapped, aad: bytes
    ) -> bytes:
        """Decrypt a data key; CiphertextError when it does not open."""
        ...

    def seal_private(self, master: bytes, context: bytes, private_key_der: bytes) -> bytes:
        """An import token's transport private key, sealed under `master`."""
        ...

    def open_private(self, master: bytes, context: bytes, sealed: bytes) -> bytes:
        """The transport private key (DER), to decrypt an import payload."""
        ...
