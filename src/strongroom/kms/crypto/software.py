"""The software CryptoBackend: every key is protected by the server root key alone. Not an HSM,
and it says so (`description`, shown in logs and `/healthz`).

Layers (backend.py, spec kms-api.md §3.5):
- an instance's master key is 32 random bytes sealed by `root_key.sealer("kms master key")`
  with the instance id as AAD, so a master key copied to another instance does not open;
- the opened master key seals key material and transport private keys with AES-256-GCM:
  blob = format byte | 12-byte IV | ciphertext+tag, AAD = format byte | context. Material and
  private keys have different format bytes, so `export` can never open a private key;
- a root key version's material (16, 24 or 32 bytes: generated or imported) wraps data keys
  with AES-GCM, a fresh 12-byte IV and the caller's `aad` (ciphertext.wrap_aad).

Clear material exists only inside these methods; the only ways out are `export` (standard keys,
the service decides who may call it) and `open_private` (to decrypt an import payload). Nothing
here logs.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from strongroom.kms.crypto.backend import CiphertextError, SealedBlobError, Wrapped
from strongroom.kms.crypto.context import instance_of
from strongroom.rootkey import RootKey, RootKeyError

DESCRIPTION = "software (not an HSM): key material is protected by the server root key only"
MASTER_KEY_BYTES = 32
# The largest material `generate` makes: the spec's limit for imported standard keys (§3.1).
MAX_MATERIAL_BYTES = 7500
WRAPPING_KEY_SIZES = (16, 24, 32)  # AES-128/192/256: imported root keys may be any (§3.1)
IV_BYTES = 12
TAG_BYTES = 16

# NOTE: sealed blobs start with one of these; a new layout gets a new byte, old ones still open.
_MATERIAL_FORMAT = b"\x21"
_PRIVATE_FORMAT = b"\x22"


class SoftwareBackend:
    """CryptoBackend (backend.py) in process memory, keyed by the server root key."""

    __slots__ = ("_sealer",)

    description = DESCRIPTION

    def __init__(self, root_key: RootKey) -> None:
        # Only the derived sealer is kept: the root key itself (and its other purposes) is not.
        self._sealer = root_key.sealer("kms master key")

    def __repr__(self) -> str:
        return f"SoftwareBackend({self.description!r})"

    # -- master keys ------------------------------------------------------------------------

    def new_master_key(self, instance_id: str) -> bytes:
        if not instance_id:
            raise ValueError("a master key needs an instance id")
        return self._sealer.seal(os.urandom(MASTER_KEY_BYTES), _master_aad(instance_id))

    def _master(self, master: bytes, context: bytes) -> AESGCM:
        instance_id = instance_of(context)
        try:
            key = self._sealer.open(master, _master_aad(instance_id))
        except (InvalidTag, RootKeyError) as exc:
            raise SealedBlobError(
                f"the master key of instance `{instance_id}` does not open with this server "
                "root key"
            ) from exc
        if len(key) != MASTER_KEY_BYTES:
            raise SealedBlobError(f"the master key of instance `{instance_id}` is malformed")
        return AESGCM(key)

    # -- key material -----------------------------------------------------------------------

    def generate(self, master: bytes, context: bytes, length: int = 32) -> bytes:
        if not 0 < length <= MAX_MATERIAL_BYTES:
            raise ValueError(f"key material must be 1 to {MAX_MATERIAL_BYTES} bytes")
        return self._seal(master, context, _MATERIAL_FORMAT, os.urandom(length))

    def seal(self, master: bytes, context: bytes, material: bytes) -> bytes:
        return self._seal(master, context, _MATERIAL_FORMAT, material)

    def export(self, master: bytes, context: bytes, sealed: bytes) -> bytes:
        return self._open(master, context, _MATERIAL_FORMAT, sealed)

    def seal_private(self, master: bytes, context: bytes, private_key_der: bytes) -> bytes:
        return self._seal(master, context, _PRIVATE_FORMAT, private_key_der)

    def open_private(self, master: bytes, context: bytes, sealed: bytes) -> bytes:
        return self._open(master, context, _PRIVATE_FORMAT, sealed)

    # -- data keys --------------------------------------------------------------------------

    def wrap(
        self, master: bytes, context: bytes, sealed: bytes, plaintext: bytes, aad: bytes
    ) -> Wrapped:
        aead = self._wrapping_key(master, context, sealed)
        iv = os.urandom(IV_BYTES)
        return Wrapped(iv=iv, ciphertext=aead.encrypt(iv, plaintext, aad))

    def unwrap(
        self, master: bytes, context: bytes, sealed: bytes, wrapped: Wrapped, aad: bytes
    ) -> bytes:
        if len(wrapped.iv) != IV_BYTES or len(wrapped.ciphertext) < TAG_BYTES:
            raise CiphertextError("the ciphertext is malformed")
        # A blob that does not open here is the server's fault (SealedBlobError), not the
        # ciphertext's: it propagates unchanged.
        aead = self._wrapping_key(master, context, sealed)
        try:
            return aead.decrypt(wrapped.iv, wrapped.ciphertext, aad)
        except InvalidTag as exc:
            raise CiphertextError(
                "the ciphertext does not open with this key version and aad"
            ) from exc

    def _wrapping_key(self, master: bytes, context: bytes, sealed: bytes) -> AESGCM:
        material = self._open(master, context, _MATERIAL_FORMAT, sealed)
        if len(material) not in WRAPPING_KEY_SIZES:
            # A standard key's material: the service refuses wrap on standard keys (§3.4).
            raise ValueError(f"{len(material)} bytes of key material cannot wrap")
        return AESGCM(material)

    # -- sealing under the master key -------------------------------------------------------

    def _seal(self, master: bytes, context: bytes, fmt: bytes, plaintext: bytes) -> bytes:
        aead = self._master(master, context)
        iv = os.urandom(IV_BYTES)
        return fmt + iv + aead.encrypt(iv, plaintext, fmt + context)

    def _open(self, master: bytes, context: bytes, fmt: bytes, blob: bytes) -> bytes:
        if blob[:1] != fmt or len(blob) < 1 + IV_BYTES + TAG_BYTES:
            raise SealedBlobError("the sealed value has an unknown format")
        aead = self._master(master, context)
        try:
            return aead.decrypt(blob[1 : 1 + IV_BYTES], blob[1 + IV_BYTES :], fmt + context)
        except InvalidTag as exc:
            raise SealedBlobError(
                "the sealed value does not open: it belongs to another key, version or instance"
            ) from exc


def _master_aad(instance_id: str) -> bytes:
    return instance_id.encode("utf-8", "surrogatepass")
