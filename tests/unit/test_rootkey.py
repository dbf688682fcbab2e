"""The server root key: derivation, sealing, peppering, and the key file."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag

from strongroom.rootkey import ROOT_KEY_BYTES, RootKey, RootKeyError, load_or_create

MATERIAL = bytes(range(32))
OTHER = bytes(range(1, 33))


def test_derive_is_deterministic_per_purpose() -> None:
    first, again = RootKey(MATERIAL), RootKey(MATERIAL)
    assert first.derive("seal:signing-keys") == again.derive("seal:signing-keys")
    assert len(first.derive("x")) == 32
    assert first.check_value() == again.check_value()
    assert len(first.check_value()) == 64 and int(first.check_value(), 16) >= 0


def test_derive_differs_across_purposes_and_keys() -> None:
    key = RootKey(MATERIAL)
    purposes = ["a", "b", "A", "", "seal:a", "pepper:a", "root key check", "a "]
    subkeys = {key.derive(p) for p in purposes}
    assert len(subkeys) == len(purposes)
    assert MATERIAL not in subkeys
    assert RootKey(OTHER).derive("a") != key.derive("a")
    assert RootKey(OTHER).check_value() != key.check_value()


@pytest.mark.parametrize("size", [0, 16, 31, 33, 64])
def test_root_key_must_be_32_bytes(size: int) -> None:
    with pytest.raises(RootKeyError, match="32 bytes"):
        RootKey(b"\x00" * size)


def test_seal_open_round_trip() -> None:
    sealer = RootKey(MATERIAL).sealer("signing-keys")
    for plaintext in (b"", b"secret", bytes(range(256)) * 4):
        blob = sealer.seal(plaintext, b"kid-1")
        assert blob[0] == 1  # the format byte
        assert len(blob) == 1 + 12 + len(plaintext) + 16
        assert plaintext not in blob or plaintext == b""
        assert sealer.open(blob, b"kid-1") == plaintext
        # A fresh sealer from the same root key and purpose opens it too (after a restart).
        assert RootKey(MATERIAL).sealer("signing-keys").open(blob, b"kid-1") == plaintext


def test_sealing_twice_gives_different_blobs() -> None:
    sealer = RootKey(MATERIAL).sealer("p")
    assert sealer.seal(b"same", b"aad") != sealer.seal(b"same", b"aad")


def test_every_single_byte_tamper_fails() -> None:
    sealer = RootKey(MATERIAL).sealer("p")
    blob = sealer.seal(b"the private key", b"kid-1")
    for index in range(len(blob)):
        for flip in (0x01, 0x80):
            tampered = bytearray(blob)
            tampered[index] ^= flip
            with pytest.raises((InvalidTag, RootKeyError)):
                sealer.open(bytes(tampered), b"kid-1")


def test_wrong_aad_purpose_or_key_fails() -> None:
    blob = RootKey(MATERIAL).sealer("p").seal(b"the private key", b"kid-1")
    with pytest.raises(InvalidTag):
        RootKey(MATERIAL).sealer("p").open(blob, b"kid-2")
    with pytest.raises(InvalidTag):
        RootKey(MATERIAL).sealer("p").open(blob, b"")
    with pytest.raises(InvalidTag):
        RootKey(MATERIAL).sealer("q").open(blob, b"kid-1")
    with pytest.raises(InvalidTag):
        RootKey(OTHER).sealer("p").open(blob, b"kid-1")


@pytest.mark.parametrize("blob", [b"", b"\x01", b"\x01" + b"\x00" * 27, b"\x02" + b"\x00" * 40])
def test_short_or_unknown_blobs_are_refused(blob: bytes) -> None:
    with pytest.raises(RootKeyError, match="unknown format"):
        RootKey(MATERIAL).sealer("p").open(blob, b"")


def test_truncated_blob_fails() -> None:
    sealer = RootKey(MATERIAL).sealer("p")
    blob = sealer.seal(b"payload", b"aad")
    for cut in (1, 5, len(blob) - 13):
        with pytest.raises((InvalidTag, RootKeyError)):
            sealer.open(blob[:-cut], b"aad")


def test_pepper_digest_and_match() -> None:
    pepper = RootKey(MATERIAL).pepper("apikeys")
    digest = pepper.digest("srk-value")
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert digest == RootKey(MATERIAL).pepper("apikeys").digest("srk-value")
    assert pepper.matches("srk-value", digest) is True
    assert pepper.matches("srk-valuE", digest) is False
    assert pepper.digest("srk-valuE") != digest
    assert RootKey(MATERIAL).pepper("refresh").digest("srk-value") != digest
    assert RootKey(OTHER).pepper("apikeys").digest("srk-value") != digest


# -- the key file ---------------------------------------------------------------------------------


def test_load_or_create_makes_a_0600_file_and_reads_it_back(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "root.key"
    created = load_or_create(path, None)
    assert path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert text.endswith("\n")
    assert len(base64.b64decode(text.strip(), validate=True)) == ROOT_KEY_BYTES
    loaded = load_or_create(path, None)
    assert loaded.check_value() == created.check_value()
    assert loaded.derive("x") == created.derive("x")
    assert RootKey(base64.b64decode(text.strip())).check_value() == created.check_value()


def test_each_new_file_gets_a_new_key(tmp_path: Path) -> None:
    one = load_or_create(tmp_path / "one.key", None)
    two = load_or_create(tmp_path / "two.key", None)
    assert one.check_value() != two.check_value()


def test_configured_key_wins_and_writes_no_file(tmp_path: Path) -> None:
    path = tmp_path / "root.key"
    configured = base64.b64encode(MATERIAL).decode()
    key = load_or_create(path, configured)
    assert key.check_value() == RootKey(MATERIAL).check_value()
    assert not path.exists()
    load_or_create(path, None)
    assert load_or_create(path, configured).check_value() == RootKey(MATERIAL).check_value()


def test_file_with_surrounding_whitespace_is_read(tmp_path: Path) -> None:
    path = tmp_path / "root.key"
    path.write_text("  " + base64.b64encode(OTHER).decode() + "\n\n")
    assert load_or_create(path, None).check_value() == RootKey(OTHER).check_value()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not base64!", "not base64"),
        ("éé", "not base64"),
        (base64.b64encode(MATERIAL).decode()[:-2], "not base64"),  # bad padding
        (base64.b64encode(MATERIAL[:31]).decode(), "must hold 32 bytes"),
        (base64.b64encode(MATERIAL + b"\x00").decode(), "must hold 32 bytes"),
        (base64.b64encode(b"").decode() + "====", "not base64|must hold 32 bytes"),
    ],
    ids=["garbage", "non-ascii", "padding", "short", "long", "empty"],
)
def test_bad_keys_are_refused(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(RootKeyError, match=message):
        load_or_create(tmp_path / "unused.key", text)
    path = tmp_path / "root.key"
    path.write_text(text)
    with pytest.raises(RootKeyError, match=message):
        load_or_create(path, None)
    assert path.read_text() == text  # a bad file is never overwritten
