"""Import tokens (spec kms-api.md §3.7): the RSA transport key a client encrypts key material
to, and the nonce that proves the client holds the material it sent.

Client side, as the go client (`import_token.go`) and the secure-import tutorial do it:
- `payload` = base64(RSA-OAEP(material)) under the token's public key, with
  `encryptionAlgorithm` `RSAES_OAEP_SHA_256` (MGF1-SHA-256, empty label; Key Protect's default)
  or `RSAES_OAEP_SHA_1` (Hyper Protect Crypto Services);
- `encryptedNonce` = base64(AES-GCM(key = material, 12-byte IV, no AAD)(nonce) ‖ 16-byte tag)
  and `iv` = base64(IV); or AES-CBC with PKCS#7 padding and a 16-byte IV, the go client's
  variant "for HPCS".
The private half is sealed by the CryptoBackend (`seal_private`); nothing here stores anything.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import MGF1, OAEP
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

RSAES_OAEP_SHA_256 = "RSAES_OAEP_SHA_256"
RSAES_OAEP_SHA_1 = "RSAES_OAEP_SHA_1"
ALGORITHMS = (RSAES_OAEP_SHA_256, RSAES_OAEP_SHA_1)
TRANSPORT_KEY_BITS = 4096
PUBLIC_EXPONENT = 65537
NONCE_BYTES = 12
GCM_IV_BYTES = 12
CBC_IV_BYTES = 16
_AES_KEY_SIZES = (16, 24, 32)


class TransportError(ValueError):
    """An import payload the server cannot use; the client's fault."""


class UnknownAlgorithmError(TransportError):
    """`encryptionAlgorithm` names no algorithm this server decrypts."""


class PayloadError(TransportError):
    """`payload` is not base64 or does not decrypt with the import token's private key."""


def new_transport_key() -> tuple[bytes, bytes]:
    """A fresh RSA-4096 transport key (e = 65537): (private key as PKCS#8 DER, public key as
    PEM `PUBLIC KEY`, i.e. PKIX SubjectPublicKeyInfo). About a second of CPU."""
    private = rsa.generate_private_key(public_exponent=PUBLIC_EXPONENT, key_size=TRANSPORT_KEY_BITS)
    private_der = private.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private_der, public_pem


def public_payload(public_pem: bytes) -> str:
    """The `payload` of `GET /import_token`: base64 of the PEM text, as clients decode it
    (go: base64 → pem.Decode → x509.ParsePKIXPublicKey)."""
    if not public_pem.startswith(b"-----BEGIN PUBLIC KEY-----"):
        raise ValueError("the transport public key must be a PEM `PUBLIC KEY`")
    return base64.b64encode(public_pem).decode("ascii")


def new_nonce() -> bytes:
    """The import token's `nonce`: 12 random bytes (sent base64, §3.7)."""
    return os.urandom(NONCE_BYTES)


def decrypt_payload(
    private_der: bytes, payload_b64: str, algorithm: str = RSAES_OAEP_SHA_256
) -> bytes:
    """The key material a client encrypted to the token's public key.

    UnknownAlgorithmError for an algorithm other than the two of §3.7, PayloadError for a
    payload that is not base64 or does not decrypt (wrong token, wrong algorithm, corrupt).
    """
    oaep = _oaep(algorithm)
    # The key comes out of an authenticated seal (CryptoBackend.open_private) and was made by
    # `new_transport_key`, so OpenSSL's consistency check (0.3 s for RSA-4096) proves nothing.
    private = serialization.load_der_private_key(
        private_der, password=None, unsafe_skip_rsa_key_validation=True
    )
    if not isinstance(private, rsa.RSAPrivateKey):
        raise TypeError("the import token's private key is not an RSA key")
    try:
        ciphertext = base64.b64decode(payload_b64, validate=True)
    except (binascii.Error, ValueError) as exc:  # ValueError: non-ASCII characters
        raise PayloadError("the payload is not base64") from exc
    if len(ciphertext) != private.key_size // 8:
        raise PayloadError(
            f"the payload must be {private.key_size // 8} bytes encrypted to the import token"
        )
    try:
        return private.decrypt(ciphertext, oaep)
    except ValueError as exc:
        raise PayloadError(
            f"the payload does not decrypt with the import token's key and `{algorithm}`"
        ) from exc


def check_nonce(material: bytes, nonce: bytes, encrypted_nonce_b64: str, iv_b64: str) -> bool:
    """Whether `encrypted_nonce_b64` is the token's `nonce` encrypted under `material` with
    the IV `iv_b64`: AES-GCM for a 12-byte IV, AES-CBC/PKCS#7 for a 16-byte one. False for any
    mismatch or malformed input; a material that is not an AES key cannot match."""
    opened = open_nonce(material, encrypted_nonce_b64, iv_b64)
    return bool(nonce) and opened is not None and hmac.compare_digest(opened, nonce)


def open_nonce(material: bytes, encrypted_nonce_b64: str, iv_b64: str) -> bytes | None:
    """The nonce a client encrypted under `material` with the IV `iv_b64` (as `check_nonce`
    reads them), or None when it does not open: malformed, another key or another IV. Telling
    this apart from a nonce that opens but is not the token's gives the two reason codes of
    spec §1.5 (INCORRECT_NONCE_IV_ERR, INCORRECT_NONCE_ERR)."""
    if len(material) not in _AES_KEY_SIZES or not isinstance(iv_b64, str):
        return None
    encrypted = _b64_or_none(encrypted_nonce_b64)
    if encrypted is None:
        return None
    for iv in _iv_candidates(iv_b64):
        opened = _open(material, encrypted, iv)
        if opened is not None:
            return opened
    return None


def _oaep(algorithm: str) -> OAEP:
    if algorithm == RSAES_OAEP_SHA_256:
        return OAEP(mgf=MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    if algorithm == RSAES_OAEP_SHA_1:
        # SHA-1 inside OAEP is still sound; it is what HPCS clients send (§3.7).
        return OAEP(mgf=MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None)  # noqa: S303
    raise UnknownAlgorithmError(
        f"unknown encryption algorithm `{algorithm[:64]}`: use `{RSAES_OAEP_SHA_256}` or "
        f"`{RSAES_OAEP_SHA_1}`"
    )


def _iv_candidates(iv_b64: str) -> list[bytes]:
    """The IV as sent (base64), and, for the go client's GCM helper, the string's own bytes:
    given an explicit `iv`, `encryptNonce` uses `[]byte(iv)` as the IV and returns `iv`
    unencoded (import_token.go), so the request carries the raw 12 characters."""
    candidates = []
    decoded = _b64_or_none(iv_b64)
    if decoded is not None and len(decoded) in (GCM_IV_BYTES, CBC_IV_BYTES):
        candidates.append(decoded)
    if iv_b64.isascii() and len(iv_b64) == GCM_IV_BYTES:
        candidates.append(iv_b64.encode("ascii"))
    return candidates


def _open(material: bytes, encrypted: bytes, iv: bytes) -> bytes | None:
    if len(iv) == GCM_IV_BYTES:
        try:
            return AESGCM(material).decrypt(iv, encrypted, None)
        except InvalidTag:
            return None
    if not encrypted or len(encrypted) % 16:
        return None
    decryptor = Cipher(algorithms.AES(material), modes.CBC(iv)).decryptor()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        opened = unpadder.update(decryptor.update(encrypted) + decryptor.finalize())
        return opened + unpadder.finalize()
    except ValueError:  # bad padding: wrong key or IV
        return None


def _b64_or_none(value: str) -> bytes | None:
    if not isinstance(value, str):
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
