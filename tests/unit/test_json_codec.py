"""api/json_codec.py reads and writes what the standard library would: orjson is only a speed-up."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strongroom.api import json_codec

values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()  # unbounded: beyond 64 bits orjson would read a float
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(values, st.booleans())
def test_reads_what_json_reads(value: Any, ascii_only: bool) -> None:
    raw = json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    try:
        expected = json.loads(raw)
        json.dumps(expected, ensure_ascii=False).encode("utf-8")
    except UnicodeError:
        with pytest.raises(json_codec.Unreadable):
            json_codec.read(raw)
        return
    got = json_codec.read(raw)
    assert got == expected
    assert json.dumps(got) == json.dumps(expected)  # same types: an int stays an int


@given(values)
def test_writes_what_json_writes(value: Any) -> None:
    try:
        expected = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    except UnicodeError:
        return  # a lone surrogate: `read` never lets one in
    assert json.loads(json_codec.write(value)) == json.loads(expected)


def test_a_long_integer_comes_back_exactly() -> None:
    raw = b'[{"requestId": 123456789012345678901234567890}]'
    assert json_codec.read(raw)[0]["requestId"] == 123456789012345678901234567890
    assert json_codec.write([2**70]) == b"[1180591620717411303424]"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"[", "not valid JSON"),
        (b'["\\ud800"]', "not valid Unicode"),
        (b'["\xed\xa0\x80"]', "not valid Unicode"),
        (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
    ],
)
def test_what_cannot_be_written_back_is_refused(raw: bytes, message: str) -> None:
    with pytest.raises(json_codec.Unreadable, match=message):
        json_codec.read(raw)


def test_utf16_and_a_byte_order_mark_are_read_as_json_reads_them() -> None:
    assert json_codec.read('[{"a": "é"}]'.encode("utf-16")) == [{"a": "é"}]
    assert json_codec.read(b"\xef\xbb\xbf[1]") == [1]
