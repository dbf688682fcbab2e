"""IAM Identity pagination (spec §2.6): `pagesize` 1-100 (default 20) and an opaque `pagetoken`;
responses carry `offset`, `limit` and `first`/`previous`/`next` as full URLs whose query holds the
`pagetoken` (the SDK's tests parse it out of `next`)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from starlette.datastructures import URL

from strongroom.errors import Invalid

MAX_PAGESIZE = 100
MAX_OFFSET = 10_000_000


def page_size(value: int | None) -> int:
    if value is None:
        return 20
    if not 1 <= value <= MAX_PAGESIZE:
        raise Invalid(
            f"pagesize must be between 1 and {MAX_PAGESIZE}, not {value}", field="pagesize"
        )
    return value


def encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o{offset}".encode()).decode().rstrip("=")


def decode_token(token: str | None) -> int:
    if not token:
        return 0
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    digits = raw[1:]
    # ASCII digits only, and few of them: int() takes other Unicode digits and huge strings badly.
    if not raw.startswith("o") or not (digits.isascii() and digits.isdigit()) or len(digits) > 8:
        raise Invalid(f"pagetoken `{token[:64]}` is not one this server issued", field="pagetoken")
    if int(digits) > MAX_OFFSET:
        raise Invalid(f"pagetoken `{token[:64]}` is not one this server issued", field="pagetoken")
    return int(digits)


def links(url: URL, offset: int, limit: int, has_more: bool) -> dict[str, Any]:
    base = url.remove_query_params("pagetoken")
    body: dict[str, Any] = {"offset": offset, "limit": limit, "first": str(base)}
    if offset > 0:
        previous = max(0, offset - limit)
        body["previous"] = str(base.include_query_params(pagetoken=encode_token(previous)))
    if has_more:
        body["next"] = str(base.include_query_params(pagetoken=encode_token(offset + limit)))
    return body
