"""JSON in and out on the decision point's hot path, with orjson: at 100 decisions a request it
parses a body 2.5 times and writes an answer 15 times faster than the standard library
(docs/benchmarks.md, "Authorization over HTTP"). Where orjson would answer differently from
`json`, the standard library is used, so the wire behaves as before:

- integers beyond 64 bits (orjson reads them as floats, and an echoed `requestId` must come back
  exactly as sent; it cannot write them at all);
- bodies orjson refuses but `json` reads (UTF-16 or UTF-32, a byte-order mark), and the error
  message of a body neither can read.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

# 19 digits: the shortest decimal that can exceed a signed 64-bit integer. Found by mapping
# every digit to "0" and every other byte to " ": two C-speed passes, where a regular expression
# took longer than orjson's whole parse of a 100-request body.
_DIGIT_RUNS = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x20 for byte in range(256))
_LONG_NUMBER = b"0" * 19


class Unreadable(ValueError):
    """Not JSON, or JSON holding text that cannot be written back out."""


def read(raw: bytes) -> Any:
    """`json.loads`, faster, refusing what could not be written back out (an error message or an
    echo): nesting too deep, and unpaired surrogates. Raises Unreadable, with what is wrong."""
    if _LONG_NUMBER not in raw.translate(_DIGIT_RUNS):
        try:
            return orjson.loads(raw)  # refuses lone surrogates and nesting beyond 1024
        except orjson.JSONDecodeError:
            pass
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise Unreadable("the request body is not valid JSON") from exc
    if _may_hold_surrogates(raw):
        try:
            json.dumps(body, ensure_ascii=False).encode("utf-8")
        except (UnicodeError, RecursionError) as exc:
            raise Unreadable("the request body holds text that is not valid Unicode") from exc
    return body


def _may_hold_surrogates(raw: bytes) -> bool:
    """Whether `json.loads` can have read a lone surrogate, so that writing it back is checked
    only then: from a `\\u` escape, or from UTF-8 bytes it decodes with `surrogatepass` (a
    surrogate's lead byte is 0xED); a UTF-16 or UTF-32 body (a NUL in the first four bytes) is
    always checked."""
    return b"\\u" in raw or b"\xed" in raw or b"\x00" in raw[:4]


def write(body: Any) -> bytes:
    """Compact UTF-8 JSON, as Starlette's JSONResponse writes it."""
    try:
        return orjson.dumps(body)
    except TypeError:  # orjson.JSONEncodeError: an integer beyond 64 bits, echoed
        return json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
