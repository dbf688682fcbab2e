"""IAM Identity pagination (spec §2.6): page sizes, opaque page tokens, and the links."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from starlette.datastructures import URL

from strongroom.api.pagination import (
    MAX_OFFSET,
    MAX_PAGESIZE,
    decode_token,
    encode_token,
    links,
    page_size,
)
from strongroom.errors import Invalid

BASE = "http://127.0.0.1:8080/v1/serviceids/"


def token_of(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query, strict_parsing=True, keep_blank_values=True)


def test_page_size() -> None:
    assert page_size(None) == 20
    assert page_size(1) == 1
    assert page_size(MAX_PAGESIZE) == 100


@pytest.mark.parametrize("size", [0, -1, 101, 10_000])
def test_page_size_out_of_range(size: int) -> None:
    with pytest.raises(Invalid, match="pagesize must be between 1 and 100") as caught:
        page_size(size)
    assert caught.value.field == "pagesize"


@pytest.mark.parametrize("offset", [0, 1, 20, 99, 12_345, MAX_OFFSET])
def test_token_round_trip(offset: int) -> None:
    token = encode_token(offset)
    assert "=" not in token and "+" not in token and "/" not in token
    assert str(offset) not in token  # opaque
    assert decode_token(token) == offset


@given(st.integers(min_value=0, max_value=MAX_OFFSET))
def test_token_round_trip_property(offset: int) -> None:
    assert decode_token(encode_token(offset)) == offset


def test_no_token_means_the_start() -> None:
    assert decode_token(None) == 0
    assert decode_token("") == 0


GARBAGE = {
    "not-base64": "!!!",
    "plain-word": "garbage",
    "wrong-letter": token_of(b"x5"),
    "no-number": token_of(b"o"),
    "negative": token_of(b"o-1"),
    "fraction": token_of(b"o1.5"),
    "space": token_of(b"o 5"),
    "too-far": token_of(f"o{MAX_OFFSET + 1}".encode()),
    "not-utf8": token_of(b"o\xff\xfe"),
    "superscript-digit": token_of("o²".encode()),
    "arabic-indic-digits": token_of("o\u0661\u0662".encode()),
    "fullwidth-digits": token_of("o\uff11\uff12".encode()),
    "huge-number": token_of(b"o" + b"9" * 5000),
}


@pytest.mark.parametrize("token", GARBAGE.values(), ids=GARBAGE.keys())
def test_garbage_tokens_are_invalid(token: str) -> None:
    with pytest.raises(Invalid, match="is not one this server issued") as caught:
        decode_token(token)
    assert caught.value.field == "pagetoken"


@given(st.text(max_size=40))
@example("o²")
@example("o" + "9" * 5000)
def test_any_token_is_an_offset_in_range_or_invalid(raw: str) -> None:
    for token in (raw, token_of(raw.encode())):
        try:
            offset = decode_token(token)
        except Invalid as exc:
            assert exc.field == "pagetoken"
        else:
            assert 0 <= offset <= MAX_OFFSET


def test_links_on_a_middle_page_keep_other_params() -> None:
    url = URL(BASE + f"?account_id=abc&pagesize=5&name=a%20b&pagetoken={encode_token(5)}")
    body = links(url, offset=5, limit=5, has_more=True)
    assert set(body) == {"offset", "limit", "first", "previous", "next"}
    assert body["offset"] == 5 and body["limit"] == 5
    for link in ("first", "previous", "next"):
        assert urlsplit(body[link]).path == "/v1/serviceids/"
        params = query(body[link])
        assert params["account_id"] == ["abc"]
        assert params["pagesize"] == ["5"]
        assert params["name"] == ["a b"]
    assert "pagetoken" not in query(body["first"])
    assert query(body["previous"])["pagetoken"] == [encode_token(0)]
    assert query(body["next"])["pagetoken"] == [encode_token(10)]
    assert decode_token(query(body["next"])["pagetoken"][0]) == 10


def test_links_on_the_first_and_only_page() -> None:
    body = links(URL(BASE + "?account_id=abc"), offset=0, limit=20, has_more=False)
    assert body == {"offset": 0, "limit": 20, "first": BASE + "?account_id=abc"}


def test_links_on_the_first_of_many_pages() -> None:
    body = links(URL(BASE + "?account_id=abc"), offset=0, limit=20, has_more=True)
    assert "previous" not in body
    assert query(body["next"]) == {"account_id": ["abc"], "pagetoken": [encode_token(20)]}


def test_previous_never_goes_below_zero() -> None:
    body = links(URL(BASE + "?account_id=abc"), offset=3, limit=5, has_more=False)
    assert "next" not in body
    assert query(body["previous"]) == {"account_id": ["abc"], "pagetoken": [encode_token(0)]}


def test_links_without_other_params() -> None:
    body = links(URL(BASE + f"?pagetoken={encode_token(40)}"), offset=40, limit=20, has_more=True)
    assert body["first"] == BASE
    assert query(body["previous"]) == {"pagetoken": [encode_token(20)]}
    assert query(body["next"]) == {"pagetoken": [encode_token(60)]}
