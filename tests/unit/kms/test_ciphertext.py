"""The ciphertext string of spec kms-api.md §3.5 and the wrap AAD of §3.4: its shape, strict
decoding, and the binding of a ciphertext to its key, version and `aad` list."""

from __future__ import annotations

import base64
import json

import pytest

from strongroom.kms.crypto.backend import CiphertextError, Wrapped
from strongroom.kms.crypto.ciphertext import (
    MAX_PLAINTEXT_BYTES,
    MAX_TEXT_CHARS,
    decode,
    encode,
    wrap_aad,
)

VERSION_ID = "7d3bbd3d-9b7c-4a3e-8f34-0f4a2f1f3b01"
WRAPPED = Wrapped(iv=bytes(range(12)), ciphertext=bytes(range(48)))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def body_text(**fields: object) -> str:
    body: dict[str, object] = {
        "ciphertext": b64(WRAPPED.ciphertext),
        "iv": b64(WRAPPED.iv),
        "version": "4.0.0",
        "handle": VERSION_ID,
    }
    body.update(fields)
    return b64(json.dumps({k: v for k, v in body.items() if v is not None}).encode())


def test_the_string_is_key_protects_documented_shape() -> None:
    text = encode(VERSION_ID, WRAPPED)
    body = json.loads(base64.b64decode(text, validate=True))
    assert list(body) == ["ciphertext", "iv", "version", "handle"]
    assert body["version"] == "4.0.0"
    assert body["handle"] == VERSION_ID
    assert base64.b64decode(body["iv"]) == WRAPPED.iv
    assert base64.b64decode(body["ciphertext"]) == WRAPPED.ciphertext


def test_decode_reads_back_what_encode_wrote() -> None:
    assert decode(encode(VERSION_ID, WRAPPED)) == (VERSION_ID, WRAPPED)
    # Formatting of the JSON is free: only the content counts.
    spaced = b64(
        json.dumps(json.loads(base64.b64decode(encode(VERSION_ID, WRAPPED))), indent=2).encode()
    )
    assert decode(spaced) == (VERSION_ID, WRAPPED)


def test_the_largest_plaintext_still_fits_the_text_limit() -> None:
    wrapped = Wrapped(iv=b"\x01" * 12, ciphertext=b"\x02" * (MAX_PLAINTEXT_BYTES + 16))
    text = encode(VERSION_ID, wrapped)
    assert len(text) <= MAX_TEXT_CHARS
    assert decode(text) == (VERSION_ID, wrapped)
    with pytest.raises(ValueError, match="at most 32768 bytes"):
        encode(
            VERSION_ID, Wrapped(iv=b"\x01" * 12, ciphertext=b"\x02" * (MAX_PLAINTEXT_BYTES + 17))
        )


@pytest.mark.parametrize(
    ("version_id", "wrapped", "message"),
    [
        ("", WRAPPED, "key version id"),
        ("v" * 129, WRAPPED, "key version id"),
        (VERSION_ID, Wrapped(iv=b"\x00" * 16, ciphertext=b"\x00" * 16), "iv must be 12 bytes"),
        (VERSION_ID, Wrapped(iv=b"\x00" * 12, ciphertext=b"\x00" * 15), "at most"),
    ],
)
def test_encode_refuses_what_decode_would_refuse(
    version_id: str, wrapped: Wrapped, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        encode(version_id, wrapped)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty or too long"),
        ("A" * (MAX_TEXT_CHARS + 4), "empty or too long"),
        ("not base64!", "not base64"),
        ("éé==", "not base64"),
        (b64(b"{}")[:-1], "not base64"),
        (b64(b"\x00")[:-3] + "B==", "not canonical base64"),  # "AA==" with stray bits: "AB=="
        (b64(b"not json"), "JSON object"),
        (b64(b"\xff\xfe\x00"), "JSON object"),
        (b64(b"[]"), "exactly `ciphertext`, `iv`, `version` and `handle`"),
        (b64(b'"4.0.0"'), "exactly"),
        (b64(b"[" * 20_000), "JSON object"),
        (b64(b"1" * 5000), "JSON object"),  # int() refuses more than 4300 digits
        (body_text(handle=None), "exactly"),
        (body_text(iv=None), "exactly"),
        (body_text(extra="x"), "exactly"),
        (body_text(version="3.0.0"), "unknown format version"),
        (body_text(version=4), "unknown format version"),
        (body_text(handle=7), "no valid key version"),
        (body_text(handle=""), "no valid key version"),
        (body_text(handle="h" * 129), "no valid key version"),
        (body_text(iv=12), "`iv` is not a base64 string"),
        (body_text(iv="%%%%"), "`iv` is not base64"),
        (body_text(iv=b64(b"\x00" * 11)[:-2] + "B="), "`iv` is not canonical"),
        (body_text(iv=b64(b"\x00" * 16)), "iv must be 12 bytes"),
        (body_text(ciphertext=["x"]), "`ciphertext` is not a base64 string"),
        (body_text(ciphertext=b64(b"\x00" * 15)), "impossible length"),
        (body_text(ciphertext=""), "impossible length"),
    ],
)
def test_malformed_ciphertexts_are_ciphertext_errors(text: str, message: str) -> None:
    with pytest.raises(CiphertextError, match=message):
        decode(text)


@pytest.mark.parametrize("value", [None, b"abc", 12, ["x"]])
def test_a_value_that_is_not_a_string_is_a_ciphertext_error(value: object) -> None:
    with pytest.raises(CiphertextError):
        decode(value)  # type: ignore[arg-type]


# -- the wrap AAD ---------------------------------------------------------------------------


def test_an_absent_aad_list_equals_an_empty_one() -> None:
    assert wrap_aad("key", "version", None) == wrap_aad("key", "version", [])


def test_aad_lists_that_differ_give_different_aad() -> None:
    lists: list[list[str]] = [
        [],
        [""],
        ["", ""],
        ["a"],
        ["ab"],
        ["a", "b"],
        ["b", "a"],
        ["a", "b", ""],
        ["a\x00b"],
        ["é"],
        ["e\u0301"],
    ]
    assert len({wrap_aad("key", "version", values) for values in lists}) == len(lists)


def test_the_aad_is_bound_to_the_key_and_the_version() -> None:
    aads = {
        wrap_aad("key-1", "version-1", ["x"]),
        wrap_aad("key-2", "version-1", ["x"]),
        wrap_aad("key-1", "version-2", ["x"]),
        wrap_aad("key-1version-1", "", ["x"]),
        wrap_aad("key-1", "version-1x", []),
        wrap_aad("version-1", "key-1", ["x"]),
    }
    assert len(aads) == 6


def test_aad_values_are_at_most_255_characters() -> None:
    assert wrap_aad("k", "v", ["é" * 255])  # characters, not bytes
    with pytest.raises(ValueError, match="at most 255 characters"):
        wrap_aad("k", "v", ["ok", "x" * 256])
    with pytest.raises(ValueError, match="must be a string"):
        wrap_aad("k", "v", ["ok", 3])  # type: ignore[list-item]


def test_any_string_json_can_carry_is_a_valid_aad_value() -> None:
    lone_surrogate = json.loads('"\\ud800"')
    assert wrap_aad("k", "v", [lone_surrogate]) != wrap_aad("k", "v", ["\ufffd"])
