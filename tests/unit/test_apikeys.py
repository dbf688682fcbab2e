"""API key values: generated ones are strong and unique; caller-chosen ones follow the rules."""

from __future__ import annotations

import base64
import re

import pytest

from strongroom.config import MIN_CALLER_APIKEY_LENGTH
from strongroom.identity import apikeys

MANY = 1000


def body_bytes(value: str) -> bytes:
    body = value.removeprefix(apikeys.PREFIX)
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))


def test_generated_values_carry_at_least_256_bits_behind_the_prefix() -> None:
    value = apikeys.generate()
    assert value.startswith("srk-")
    assert apikeys.PREFIX == "srk-"
    body = value.removeprefix(apikeys.PREFIX)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", body), value
    assert len(body_bytes(value)) * 8 >= 256
    assert len(body) >= 43  # 256 bits in base64url, unpadded


def test_generated_values_are_unique_and_acceptable_as_caller_values() -> None:
    values = [apikeys.generate() for _ in range(MANY)]
    assert len(set(values)) == MANY
    assert len({body_bytes(v) for v in values}) == MANY
    assert all(apikeys.caller_value_problem(v) is None for v in values)


def test_minimum_length_comes_from_the_spec() -> None:
    assert MIN_CALLER_APIKEY_LENGTH == 32


@pytest.mark.parametrize(
    "value",
    [
        "x" * 32,
        "x" * apikeys.MAX_LENGTH,
        "!" * 16 + "~" * 16,  # the ends of printable ASCII
        "Abc123-_.:/+=@#$%^&*()[]{}<>?,;|`'\"\\",
    ],
    ids=["shortest", "longest", "ascii-edges", "punctuation"],
)
def test_acceptable_caller_values(value: str) -> None:
    assert len(value) >= MIN_CALLER_APIKEY_LENGTH
    assert apikeys.caller_value_problem(value) is None


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("x" * 31, "an API key value must be at least 32 characters"),
        ("", "an API key value must be at least 32 characters"),
        ("x" * (apikeys.MAX_LENGTH + 1), "an API key value must be at most 512 characters"),
        ("x" * 20 + " " + "x" * 20, "printable ASCII characters without spaces"),
        ("x" * 40 + "\t", "printable ASCII characters without spaces"),
        ("x" * 40 + "\n", "printable ASCII characters without spaces"),
        ("x" * 40 + "\x7f", "printable ASCII characters without spaces"),
        ("x" * 40 + "\x00", "printable ASCII characters without spaces"),
        ("x" * 40 + "é", "printable ASCII characters without spaces"),
        ("ｘ" * 40, "printable ASCII characters without spaces"),  # noqa: RUF001
    ],
    ids=["short", "empty", "long", "space", "tab", "newline", "del", "nul", "latin", "fullwidth"],
)
def test_refused_caller_values(value: str, problem: str) -> None:
    got = apikeys.caller_value_problem(value)
    assert got is not None
    assert problem in got
