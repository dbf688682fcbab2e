"""The software CryptoBackend: master keys sealed by the root key and bound to their instance,
material sealed under the master key and bound to its context, wrap/unwrap of data keys."""

from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from strongroom.kms.crypto.backend import CiphertextError, CryptoBackend, SealedBlobError, Wrapped
from strongroom.kms.crypto.context import import_token_context, version_context
from strongroom.kms.crypto.software import SoftwareBackend
from strongroom.rootkey import RootKey

ROOT = bytes(range(32))
OTHER_ROOT = bytes(range(1, 33))
CTX = version_context("instance-a", "key-1", "version-1")


@pytest.fixture
def backend() -> CryptoBackend:
    return SoftwareBackend(RootKey(ROOT))


@pytest.fixture
def master(backend: CryptoBackend) -> bytes:
    return backend.new_master_key("instance-a")


def test_it_says_it_is_not_an_hsm(backend: CryptoBackend) -> None:
    assert backend.description == (
        "software (not an HSM): key material is protected by the server root key only"
    )
    assert "not an HSM" in repr(backend)


# -- master keys ------------------------------------------------------------------------------


def test_a_master_key_is_32_random_bytes_sealed_by_the_root_key_for_its_instance(
    backend: CryptoBackend,
) -> None:
    master = backend.new_master_key("instance-a")
    sealer = RootKey(ROOT).sealer("kms master key")
    opened = sealer.open(master, b"instance-a")
    assert len(opened) == 32
    assert opened not in master
    assert sealer.open(backend.new_master_key("instance-a"), b"instance-a") != opened
    with pytest.raises(InvalidTag):
        sealer.open(master, b"instance-b")


def test_a_master_key_sealed_for_instance_a_does_not_open_as_instance_b(
    backend: CryptoBackend, master: bytes
) -> None:
    as_b = version_context("instance-b", "key-1", "version-1")
    with pytest.raises(SealedBlobError, match="instance `instance-b`"):
        backend.generate(master, as_b)
    sealed = backend.generate(master, CTX)
    with pytest.raises(SealedBlobError):
        backend.export(master, as_b, sealed)
    with pytest.raises(SealedBlobError):
        backend.seal_private(master, import_token_context("instance-b"), b"der")


def test_material_survives_a_restart_with_the_same_root_key_only(
    backend: CryptoBackend, master: bytes
) -> None:
    sealed = backend.seal(master, CTX, b"\x07" * 32)
    assert SoftwareBackend(RootKey(ROOT)).export(master, CTX, sealed) == b"\x07" * 32
    with pytest.raises(SealedBlobError, match="does not open with this server root key"):
        SoftwareBackend(RootKey(OTHER_ROOT)).export(master, CTX, sealed)


def test_a_context_not_built_by_the_context_module_is_refused(
    backend: CryptoBackend, master: bytes
) -> None:
    for context in (b"", b"instance-a/key-1/version-1", b"\x00\x00\x00\x05short"):
        with pytest.raises(ValueError, match="crypto context"):
            backend.generate(master, context)


def test_a_master_key_needs_an_instance_id(backend: CryptoBackend) -> None:
    with pytest.raises(ValueError, match="instance id"):
        backend.new_master_key("")


# -- sealed key material ----------------------------------------------------------------------


@pytest.mark.parametrize("length", [16, 24, 32, 64, 7500])
def test_generate_makes_fresh_material_of_the_length_asked(
    backend: CryptoBackend, master: bytes, length: int
) -> None:
    first = backend.export(master, CTX, backend.generate(master, CTX, length))
    second = backend.export(master, CTX, backend.generate(master, CTX, length))
    assert len(first) == len(second) == length
    assert first != second


def test_generate_makes_256_bit_material_by_default(backend: CryptoBackend, master: bytes) -> None:
    assert len(backend.export(master, CTX, backend.generate(master, CTX))) == 32


@pytest.mark.parametrize("length", [0, -1, 7501])
def test_generate_refuses_impossible_lengths(
    backend: CryptoBackend, master: bytes, length: int
) -> None:
    with pytest.raises(ValueError, match="1 to 7500 bytes"):
        backend.generate(master, CTX, length)


def test_seal_export_round_trips_every_length(backend: CryptoBackend, master: bytes) -> None:
    for length in [*range(101), 1000, 7500]:
        material = bytes((i * 7 + length) % 256 for i in range(length))
        sealed = backend.seal(master, CTX, material)
        assert len(sealed) == 1 + 12 + length + 16
        if length >= 8:
            assert material not in sealed
        assert backend.export(master, CTX, sealed) == material


def test_sealing_twice_gives_different_blobs(backend: CryptoBackend, master: bytes) -> None:
    assert backend.seal(master, CTX, b"same") != backend.seal(master, CTX, b"same")


def test_sealed_material_is_bound_to_its_key_and_version(
    backend: CryptoBackend, master: bytes
) -> None:
    sealed = backend.seal(master, CTX, b"k" * 32)
    for other in (
        version_context("instance-a", "key-2", "version-1"),
        version_context("instance-a", "key-1", "version-2"),
        version_context("instance-a", "key-1version-1", ""),
        import_token_context("instance-a"),
    ):
        with pytest.raises(SealedBlobError, match="another key, version or instance"):
            backend.export(master, other, sealed)


def test_material_sealed_under_another_instances_master_key_does_not_open(
    backend: CryptoBackend, master: bytes
) -> None:
    other_master = backend.new_master_key("instance-a")  # e.g. a master key replaced in place
    sealed = backend.seal(other_master, CTX, b"k" * 32)
    with pytest.raises(SealedBlobError):
        backend.export(master, CTX, sealed)


def test_every_single_bit_flip_of_a_sealed_blob_is_refused(
    backend: CryptoBackend, master: bytes
) -> None:
    sealed = backend.seal(master, CTX, b"root key material, 32 bytes long")
    for index in range(len(sealed)):
        for bit in range(8):
            tampered = bytearray(sealed)
            tampered[index] ^= 1 << bit
            with pytest.raises(SealedBlobError):
                backend.export(master, CTX, bytes(tampered))
    for cut in (1, 16, len(sealed) - 1, len(sealed)):
        with pytest.raises(SealedBlobError):
            backend.export(master, CTX, sealed[:-cut])


def test_a_transport_private_key_never_comes_out_through_export(
    backend: CryptoBackend, master: bytes
) -> None:
    token_ctx = import_token_context("instance-a")
    sealed_private = backend.seal_private(master, token_ctx, b"private key DER")
    assert backend.open_private(master, token_ctx, sealed_private) == b"private key DER"
    with pytest.raises(SealedBlobError, match="unknown format"):
        backend.export(master, token_ctx, sealed_private)
    # ... even re-labelled with the material format byte: the format byte is in the AAD.
    relabelled = backend.seal(master, token_ctx, b"x")[:1] + sealed_private[1:]
    with pytest.raises(SealedBlobError):
        backend.export(master, token_ctx, relabelled)
    with pytest.raises(SealedBlobError, match="unknown format"):
        backend.open_private(master, token_ctx, backend.seal(master, token_ctx, b"material"))


# -- wrap and unwrap --------------------------------------------------------------------------


@pytest.mark.parametrize("size", [16, 24, 32])
def test_wrap_unwrap_round_trips_every_plaintext_length(
    backend: CryptoBackend, master: bytes, size: int
) -> None:
    sealed = backend.seal(master, CTX, bytes(range(size)))  # imported AES-128/192/256 material
    for length in [*range(101), 4096, 32_768]:
        plaintext = bytes((i * 31 + 5) % 256 for i in range(length))
        wrapped = backend.wrap(master, CTX, sealed, plaintext, b"aad")
        assert len(wrapped.iv) == 12
        assert len(wrapped.ciphertext) == length + 16
        assert backend.unwrap(master, CTX, sealed, wrapped, b"aad") == plaintext


def test_wrap_is_aes_gcm_under_the_version_material(backend: CryptoBackend, master: bytes) -> None:
    material = bytes(range(32))
    sealed = backend.seal(master, CTX, material)
    wrapped = backend.wrap(master, CTX, sealed, b"a data encryption key", b"the aad")
    opened = AESGCM(material).decrypt(wrapped.iv, wrapped.ciphertext, b"the aad")
    assert opened == b"a data encryption key"


def test_each_wrap_takes_a_fresh_iv(backend: CryptoBackend, master: bytes) -> None:
    sealed = backend.generate(master, CTX)
    wraps = [backend.wrap(master, CTX, sealed, b"dek", b"") for _ in range(20)]
    assert len({w.iv for w in wraps}) == 20
    assert len({w.ciphertext for w in wraps}) == 20


def test_unwrap_refuses_another_aad_or_another_versions_material(
    backend: CryptoBackend, master: bytes
) -> None:
    v1 = backend.generate(master, CTX)
    ctx2 = version_context("instance-a", "key-1", "version-2")
    v2 = backend.generate(master, ctx2)
    wrapped = backend.wrap(master, CTX, v1, b"dek", b"aad")
    with pytest.raises(CiphertextError, match="does not open"):
        backend.unwrap(master, CTX, v1, wrapped, b"aae")
    with pytest.raises(CiphertextError, match="does not open"):
        backend.unwrap(master, CTX, v1, wrapped, b"")
    with pytest.raises(CiphertextError, match="does not open"):
        backend.unwrap(master, ctx2, v2, wrapped, b"aad")
    assert backend.unwrap(master, CTX, v1, wrapped, b"aad") == b"dek"  # rotation keeps v1


@pytest.mark.parametrize(
    "wrapped",
    [
        Wrapped(iv=b"\x00" * 11, ciphertext=b"\x00" * 32),
        Wrapped(iv=b"\x00" * 16, ciphertext=b"\x00" * 32),
        Wrapped(iv=b"", ciphertext=b"\x00" * 32),
        Wrapped(iv=b"\x00" * 12, ciphertext=b"\x00" * 15),
        Wrapped(iv=b"\x00" * 12, ciphertext=b""),
        Wrapped(iv=b"\x00" * 12, ciphertext=b"\x00" * 16),
    ],
    ids=["iv-11", "iv-16", "iv-0", "short", "empty", "tag-only-forged"],
)
def test_unwrap_refuses_malformed_values_as_ciphertext_errors(
    backend: CryptoBackend, master: bytes, wrapped: Wrapped
) -> None:
    sealed = backend.generate(master, CTX)
    with pytest.raises(CiphertextError):
        backend.unwrap(master, CTX, sealed, wrapped, b"")


def test_a_broken_sealed_blob_is_the_servers_fault_not_the_ciphertexts(
    backend: CryptoBackend, master: bytes
) -> None:
    sealed = backend.generate(master, CTX)
    wrapped = backend.wrap(master, CTX, sealed, b"dek", b"")
    broken = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(SealedBlobError):
        backend.unwrap(master, CTX, broken, wrapped, b"")
    with pytest.raises(SealedBlobError):
        backend.wrap(master, CTX, broken, b"dek", b"")


def test_standard_key_material_cannot_wrap(backend: CryptoBackend, master: bytes) -> None:
    for size in (1, 20, 64, 7500):
        sealed = backend.generate(master, CTX, size)
        with pytest.raises(ValueError, match=f"{size} bytes of key material cannot wrap"):
            backend.wrap(master, CTX, sealed, b"dek", b"")
