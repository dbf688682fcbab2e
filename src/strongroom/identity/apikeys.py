"""API key values: generation and the rules for caller-chosen values. Pure.

Generated values carry 256 bits from `secrets` behind a recognisable prefix (so secret scanners
can find leaked ones). The server never stores a value: only its peppered HMAC-SHA-256
(`rootkey.Pepper`), looked up by digest and compared in constant time.
"""

from __future__ import annotations

import re
import secrets

from strongroom.config import MIN_CALLER_APIKEY_LENGTH

PREFIX = "srk-"
MAX_LENGTH = 512
_ALLOWED = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no spaces (used with fullmatch)


def generate() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def caller_value_problem(value: str) -> str | None:
    """Why a caller-chosen API key value is refused, or None when it is acceptable."""
    if len(value) < MIN_CALLER_APIKEY_LENGTH:
        return f"an API key value must be at least {MIN_CALLER_APIKEY_LENGTH} characters"
    if len(value) > MAX_LENGTH:
        return f"an API key value must be at most {MAX_LENGTH} characters"
    if not _ALLOWED.fullmatch(value):
        return "an API key value may hold only printable ASCII characters without spaces"
    return None
