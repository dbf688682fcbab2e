"""The `POST /import_token` body (spec kms-api.md §3.7): defaults, bounds and what go and py3
send (go omits zero values, py3 types both members as float)."""

from __future__ import annotations

from typing import Any

import pytest

from strongroom.kms.errors import KmsError
from strongroom.kms.import_tokens import TokenRequest, parse_token_request


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, TokenRequest(600, 1)),
        ({"expiration": None, "maxAllowedRetrievals": None}, TokenRequest(600, 1)),
        ({"expiration": 300, "maxAllowedRetrievals": 1}, TokenRequest(300, 1)),
        ({"expiration": 86400, "maxAllowedRetrievals": 500}, TokenRequest(86400, 500)),
        ({"expiration": 1200.0, "maxAllowedRetrievals": 50.0}, TokenRequest(1200, 50)),
    ],
)
def test_accepted_bodies(body: dict[str, Any], expected: TokenRequest) -> None:
    assert parse_token_request(body) == expected


@pytest.mark.parametrize(
    ("body", "target"),
    [
        ({"expiration": 299}, "expiration"),
        ({"expiration": 86401}, "expiration"),
        ({"expiration": 600.5}, "expiration"),
        ({"expiration": "600"}, "expiration"),
        ({"expiration": True}, "expiration"),
        ({"maxAllowedRetrievals": 0}, "maxAllowedRetrievals"),
        ({"maxAllowedRetrievals": 501}, "maxAllowedRetrievals"),
        ({"maxAllowedRetrievals": -1}, "maxAllowedRetrievals"),
        ({"maxAllowedRetrievals": [1]}, "maxAllowedRetrievals"),
    ],
)
def test_out_of_range_members_are_field_errors(body: dict[str, Any], target: str) -> None:
    with pytest.raises(KmsError) as refused:
        parse_token_request(body)
    assert refused.value.code == "INVALID_FIELD_ERR" and refused.value.target == target
    assert refused.value.what == "Import token could not be created"


def test_an_unknown_member_is_a_bad_body() -> None:
    with pytest.raises(KmsError) as refused:
        parse_token_request({"expiration": 600, "maxAllowedRetrieval": 2})
    assert refused.value.code == "BAD_BODY_ERR" and "`maxAllowedRetrieval`" in refused.value.message
