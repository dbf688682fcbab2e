"""Import tokens (spec kms-api.md §3.7): the transport key a client encrypts to, exactly as the
go client and the secure-import tutorial do it, and the nonce check, in AES-GCM and AES-CBC."""

from __future__ import annotations

import base64
import os

import pytest
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import MGF1, OAEP
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from strongroom.kms.crypto.context import import_token_context, version_context
from strongroom.kms.crypto.software import SoftwareBackend
from strongroom.kms.crypto.transport import (
    PayloadError,
    TransportError,
    UnknownAlgorithmError,
    check_nonce,
    decrypt_payload,
    new_nonce,
    new_transport_key,
    open_nonce,
    public_payload,
)
from strongroom.rootkey import RootKey

NONCE = bytes(range(12))


@pytest.fixture(scope="module")
def token() -> tuple[bytes, bytes]:
    return new_transport_key()  # RSA-4096: about a second, once for the module


@pytest.fixture(scope="module")
def other_token() -> tuple[bytes, bytes]:
    return new_transport_key()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def client_public_key(payload: str) -> rsa.RSAPublicKey:
    """What a client does with `GET /import_token`'s `payload`: base64 → PEM → PKIX key."""
    key = serialization.load_pem_public_key(base64.b64decode(payload, validate=True))
    assert isinstance(key, rsa.RSAPublicKey)
    return key


def client_encrypt(public_pem: bytes, material: bytes, hash_: hashes.HashAlgorithm) -> str:
    public = client_public_key(public_payload(public_pem))
    return b64(public.encrypt(material, OAEP(mgf=MGF1(hash_), algorithm=hash_, label=None)))


def gcm_nonce(material: bytes, nonce: bytes, iv: bytes) -> str:
    return b64(AESGCM(material).encrypt(iv, nonce, None))


def cbc_nonce(material: bytes, nonce: bytes, iv: bytes) -> str:
    padder = padding.PKCS7(128).padder()
    padded = padder.update(nonce) + padder.finalize()
    encryptor = Cipher(algorithms.AES(material), modes.CBC(iv)).encryptor()
    return b64(encryptor.update(padded) + encryptor.finalize())


# -- the transport key ------------------------------------------------------------------------


def test_the_transport_key_is_rsa_4096_with_e_65537(token: tuple[bytes, bytes]) -> None:
    private_der, public_pem = token
    assert public_pem.startswith(b"-----BEGIN PUBLIC KEY-----\n")
    public = client_public_key(public_payload(public_pem))
    assert public.key_size == 4096
    assert public.public_numbers().e == 65537
    private = serialization.load_der_private_key(private_der, password=None)
    assert isinstance(private, rsa.RSAPrivateKey)
    assert private.public_key().public_numbers() == public.public_numbers()


def test_each_token_gets_its_own_key(
    token: tuple[bytes, bytes], other_token: tuple[bytes, bytes]
) -> None:
    assert token[1] != other_token[1]
    assert token[0] != other_token[0]


def test_the_payload_is_base64_of_the_pem(token: tuple[bytes, bytes]) -> None:
    payload = public_payload(token[1])
    assert base64.b64decode(payload, validate=True) == token[1]
    with pytest.raises(ValueError, match="PEM `PUBLIC KEY`"):
        public_payload(token[0])


# -- decrypting the payload -------------------------------------------------------------------


@pytest.mark.parametrize(
    "material", [bytes(range(16)), bytes(range(24)), bytes(range(32))], ids=["128", "192", "256"]
)
def test_a_payload_encrypted_with_oaep_sha_256_decrypts(
    token: tuple[bytes, bytes], material: bytes
) -> None:
    payload = client_encrypt(token[1], material, hashes.SHA256())
    assert decrypt_payload(token[0], payload, "RSAES_OAEP_SHA_256") == material
    assert decrypt_payload(token[0], payload) == material  # Key Protect's default


def test_a_payload_encrypted_with_oaep_sha_1_decrypts(token: tuple[bytes, bytes]) -> None:
    material = os.urandom(32)
    payload = client_encrypt(token[1], material, hashes.SHA1())  # noqa: S303 (HPCS clients)
    assert decrypt_payload(token[0], payload, "RSAES_OAEP_SHA_1") == material


def test_the_largest_material_oaep_sha_256_carries_decrypts(token: tuple[bytes, bytes]) -> None:
    material = os.urandom(512 - 2 * 32 - 2)  # a standard key's material, up to 446 bytes
    payload = client_encrypt(token[1], material, hashes.SHA256())
    assert decrypt_payload(token[0], payload) == material


def test_the_wrong_algorithm_does_not_decrypt(token: tuple[bytes, bytes]) -> None:
    payload = client_encrypt(token[1], os.urandom(32), hashes.SHA256())
    with pytest.raises(PayloadError, match=r"does not decrypt .* `RSAES_OAEP_SHA_1`"):
        decrypt_payload(token[0], payload, "RSAES_OAEP_SHA_1")


def test_a_payload_for_another_token_does_not_decrypt(
    token: tuple[bytes, bytes], other_token: tuple[bytes, bytes]
) -> None:
    payload = client_encrypt(other_token[1], os.urandom(32), hashes.SHA256())
    with pytest.raises(PayloadError, match="does not decrypt"):
        decrypt_payload(token[0], payload)


@pytest.mark.parametrize("algorithm", ["RSAES_OAEP_SHA_512", "rsaes_oaep_sha_256", "", "RSA"])
def test_an_unknown_algorithm_is_refused(token: tuple[bytes, bytes], algorithm: str) -> None:
    payload = client_encrypt(token[1], os.urandom(32), hashes.SHA256())
    with pytest.raises(UnknownAlgorithmError, match=f"unknown encryption algorithm `{algorithm}`"):
        decrypt_payload(token[0], payload, algorithm)


def test_a_corrupt_payload_is_refused(token: tuple[bytes, bytes]) -> None:
    payload = base64.b64decode(client_encrypt(token[1], os.urandom(32), hashes.SHA256()))
    for index in (0, 100, 511):
        corrupt = bytearray(payload)
        corrupt[index] ^= 0x01
        with pytest.raises(PayloadError):
            decrypt_payload(token[0], b64(bytes(corrupt)))
    cases = {
        "": "must be 512 bytes",
        "not base64!": "not base64",
        "é": "not base64",
        b64(payload[:-1]): "must be 512 bytes",
        b64(payload + b"\x00"): "must be 512 bytes",
    }
    for text, message in cases.items():
        with pytest.raises(PayloadError, match=message):
            decrypt_payload(token[0], text)


def test_every_transport_error_is_a_value_error_the_service_can_catch_once() -> None:
    assert issubclass(PayloadError, TransportError)
    assert issubclass(UnknownAlgorithmError, TransportError)
    assert issubclass(TransportError, ValueError)


# -- the nonce --------------------------------------------------------------------------------


def test_a_nonce_is_12_fresh_random_bytes() -> None:
    nonces = {new_nonce() for _ in range(50)}
    assert len(nonces) == 50
    assert all(len(nonce) == 12 for nonce in nonces)


@pytest.mark.parametrize("size", [16, 24, 32])
def test_the_gcm_nonce_checks_with_the_right_material_only(size: int) -> None:
    material, iv = os.urandom(size), os.urandom(12)
    encrypted = gcm_nonce(material, NONCE, iv)
    assert check_nonce(material, NONCE, encrypted, b64(iv)) is True
    assert check_nonce(os.urandom(size), NONCE, encrypted, b64(iv)) is False  # wrong material
    assert check_nonce(material, NONCE, encrypted, b64(os.urandom(12))) is False  # wrong IV
    assert check_nonce(material, new_nonce(), encrypted, b64(iv)) is False  # another token's
    tampered = base64.b64decode(encrypted)
    tampered = tampered[:-1] + bytes([tampered[-1] ^ 1])
    assert check_nonce(material, NONCE, b64(tampered), b64(iv)) is False


@pytest.mark.parametrize("size", [16, 24, 32])
def test_the_cbc_nonce_checks_with_the_right_material_only(size: int) -> None:
    material, iv = os.urandom(size), os.urandom(16)
    encrypted = cbc_nonce(material, NONCE, iv)
    assert len(base64.b64decode(encrypted)) == 16  # 12 bytes padded to one block
    assert check_nonce(material, NONCE, encrypted, b64(iv)) is True
    assert check_nonce(os.urandom(size), NONCE, encrypted, b64(iv)) is False
    assert check_nonce(material, NONCE, encrypted, b64(os.urandom(16))) is False
    assert check_nonce(material, new_nonce(), encrypted, b64(iv)) is False
    # The GCM form under the same key is not mistaken for CBC, nor the other way round.
    assert check_nonce(material, NONCE, gcm_nonce(material, NONCE, iv[:12]), b64(iv)) is False
    assert check_nonce(material, NONCE, encrypted, b64(iv[:12])) is False


def test_the_go_clients_raw_iv_is_accepted() -> None:
    """go's `EncryptNonce(key, nonce, iv)` with an explicit iv uses the string's bytes as the
    IV and sends the string as is (import_token.go)."""
    material, iv = os.urandom(32), "0123456789ab"
    encrypted = gcm_nonce(material, NONCE, iv.encode())
    assert check_nonce(material, NONCE, encrypted, iv) is True
    assert check_nonce(material, NONCE, encrypted, "0123456789ac") is False


def test_open_nonce_tells_a_stale_nonce_from_one_that_does_not_open() -> None:
    """The two refusals of spec §1.5: a nonce that opens but is another token's
    (INCORRECT_NONCE_ERR), and one that does not open under the material and IV at all
    (INCORRECT_NONCE_IV_ERR)."""
    material, iv = os.urandom(32), os.urandom(12)
    stale = new_nonce()
    assert open_nonce(material, gcm_nonce(material, stale, iv), b64(iv)) == stale
    cbc_iv = os.urandom(16)
    assert open_nonce(material, cbc_nonce(material, stale, cbc_iv), b64(cbc_iv)) == stale
    encrypted = gcm_nonce(material, NONCE, iv)
    assert open_nonce(os.urandom(32), encrypted, b64(iv)) is None
    assert open_nonce(material, encrypted, b64(os.urandom(12))) is None
    assert open_nonce(bytes(20), encrypted, b64(iv)) is None


KEY = bytes(range(32))


@pytest.mark.parametrize(
    ("material", "encrypted", "iv"),
    [
        (bytes(20), "AAAA", b64(bytes(12))),  # not an AES key: cannot have made it
        (bytes(7500), "AAAA", b64(bytes(12))),
        (b"", "AAAA", b64(bytes(12))),
        (KEY, "not base64!", b64(bytes(12))),
        (KEY, "", b64(bytes(12))),
        (KEY, "AAAA", b64(bytes(13))),
        (KEY, "AAAA", "not an iv"),
        (KEY, "AAAA", ""),
        (KEY, b64(bytes(15)), b64(bytes(16))),  # CBC needs whole blocks
        (KEY, "", b64(bytes(16))),
    ],
    ids=[
        "material-20",
        "material-7500",
        "material-0",
        "nonce-not-base64",
        "nonce-empty",
        "iv-13",
        "iv-not-base64",
        "iv-empty",
        "cbc-partial-block",
        "cbc-empty",
    ],
)
def test_malformed_nonce_input_is_just_a_mismatch(material: bytes, encrypted: str, iv: str) -> None:
    assert check_nonce(material, NONCE, encrypted, iv) is False


def test_values_that_are_not_strings_are_a_mismatch() -> None:
    material, iv = os.urandom(32), os.urandom(12)
    encrypted = gcm_nonce(material, NONCE, iv)
    assert check_nonce(material, NONCE, encrypted, None) is False  # type: ignore[arg-type]
    assert check_nonce(material, NONCE, None, b64(iv)) is False  # type: ignore[arg-type]


def test_an_empty_nonce_never_checks() -> None:
    material, iv = os.urandom(32), os.urandom(12)
    assert check_nonce(material, b"", gcm_nonce(material, b"", iv), b64(iv)) is False


# -- the whole secure import, as the service will chain it ------------------------------------


def test_secure_import_end_to_end(token: tuple[bytes, bytes]) -> None:
    backend = SoftwareBackend(RootKey(bytes(32)))
    master = backend.new_master_key("instance-a")
    token_ctx = import_token_context("instance-a")
    private_der, public_pem = token
    sealed_private = backend.seal_private(master, token_ctx, private_der)
    nonce = new_nonce()

    # The client: GET /import_token, then POST /keys with payload, encryptedNonce and iv.
    material, iv = os.urandom(32), os.urandom(12)
    payload = client_encrypt(public_pem, material, hashes.SHA256())
    encrypted_nonce = gcm_nonce(material, nonce, iv)

    # The service.
    opened = decrypt_payload(backend.open_private(master, token_ctx, sealed_private), payload)
    assert check_nonce(opened, nonce, encrypted_nonce, b64(iv))
    ctx = version_context("instance-a", "key-1", "version-1")
    sealed = backend.seal(master, ctx, opened)
    wrapped = backend.wrap(master, ctx, sealed, b"dek", b"")
    # The client can unwrap locally with the material it imported: it is the same key.
    assert AESGCM(material).decrypt(wrapped.iv, wrapped.ciphertext, b"") == b"dek"
