"""Pagination (spec §2.6). Every API pages by an offset carried in an opaque token, under the
parameter name its family uses (`pagetoken`, `start`, `_start`, `next_docid`), and a page size
(`pagesize` or `limit`). IAM Identity's responses carry `offset`, `limit` and
`first`/`previous`/`next` as full URLs whose query holds the `pagetoken` (`links`)."""

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


def limit_of(value: int | None, *, default: int, maximum: int = MAX_PAGESIZE) -> int:
    """A `limit` query parameter: `default` when absent, else 1 to `maximum`."""
    if value is None:
        return default
    if not 1 <= value <= maximum:
        raise Invalid(f"`limit` must be between 1 and {maximum}, not {value}", field="limit")
    return value


def encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o{offset}".encode()).decode().rstrip("=")


def decode_token(token: str | None, field: str = "pagetoken") -> int:
    """The offset in a page token this server issued; Invalid naming `field` otherwise."""
    if not token:
        return 0
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    digits = raw[1:]
    # ASCII digits only, and few of them: int() takes other Unicode digits and huge strings badly.
    well_formed = raw.startswith("o") and digits.isascii() and digits.isdigit() and len(digits) <= 8
    if not well_formed or int(digits) > MAX_OFFSET:
        raise Invalid(f"`{field}` `{token[:64]}` is not one this server issued", field=field)
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
