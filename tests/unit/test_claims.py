"""Access-token claims in IBM's shape (spec §3.3) and the Principal they yield."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from strongroom.tokens.claims import (
    APIKEY_GRANT,
    DEFAULT_CLIENT,
    DEFAULT_SCOPE,
    REFRESH_GRANT,
    Principal,
    Subject,
    access_claims,
    principal_from_claims,
)

ACCOUNT = "0123456789abcdef0123456789abcdef"
SID = "ServiceId-3f8a2b8e-9f44-4d2e-8b65-0a1b2c3d4e5f"
ISSUER = "http://127.0.0.1:8080/identity"
ISSUED = datetime(2024, 5, 6, 7, 8, 9, 987654, tzinfo=UTC)
IAT = 1714979289

SERVICE = Subject(
    iam_id=f"iam-{SID}",
    account_id=ACCOUNT,
    realm="iam",
    identifier=SID,
    sub=SID,
    sub_type="ServiceId",
    name="deployer",
)
USER = Subject(
    iam_id="IBMid-ABC1234567",
    account_id=ACCOUNT,
    realm="IBMid",
    identifier="ABC1234567",
    sub="ada@example.com",
    sub_type=None,
    name="Ada Lovelace",
    given_name="Ada",
    family_name="Lovelace",
    email="ada@example.com",
)


def claims_for(subject: Subject, **overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "issuer": ISSUER,
        "grant_type": APIKEY_GRANT,
        "scope": DEFAULT_SCOPE,
        "client_id": DEFAULT_CLIENT,
        "issued_at": ISSUED,
        "ttl": 3600,
        "jti": "jti-1",
    }
    return access_claims(subject, **(arguments | overrides))


def test_constants_match_the_spec() -> None:
    assert APIKEY_GRANT == "urn:ibm:params:oauth:grant-type:apikey"
    assert REFRESH_GRANT == "refresh_token"
    assert DEFAULT_SCOPE == "ibm openid"
    assert DEFAULT_CLIENT == "default"


def test_service_id_claims() -> None:
    claims = claims_for(SERVICE)
    assert claims == {
        "iam_id": f"iam-{SID}",
        "id": f"iam-{SID}",
        "realmid": "iam",
        "jti": "jti-1",
        "identifier": SID,
        "sub": SID,
        "sub_type": "ServiceId",
        "name": "deployer",
        "account": {"valid": True, "bss": ACCOUNT, "frozen": True},
        "iat": IAT,
        "exp": IAT + 3600,
        "iss": ISSUER,
        "grant_type": APIKEY_GRANT,
        "scope": "ibm openid",
        "client_id": "default",
        "acr": 1,
        "amr": ["pwd"],
        "authn": {"sub": SID, "iam_id": f"iam-{SID}", "sub_type": "ServiceId", "name": "deployer"},
    }


def test_user_claims() -> None:
    claims = claims_for(USER, client_id="bx", grant_type=REFRESH_GRANT)
    assert "sub_type" not in claims
    assert "sub_type" not in claims["authn"]
    assert claims == {
        "iam_id": "IBMid-ABC1234567",
        "id": "IBMid-ABC1234567",
        "realmid": "IBMid",
        "jti": "jti-1",
        "identifier": "ABC1234567",
        "sub": "ada@example.com",
        "name": "Ada Lovelace",
        "given_name": "Ada",
        "family_name": "Lovelace",
        "email": "ada@example.com",
        "account": {"valid": True, "bss": ACCOUNT, "boundary": "global"},
        "iat": IAT,
        "exp": IAT + 3600,
        "iss": ISSUER,
        "grant_type": REFRESH_GRANT,
        "scope": "ibm openid",
        "client_id": "bx",
        "acr": 1,
        "amr": ["pwd"],
        "authn": {
            "sub": "ada@example.com",
            "iam_id": "IBMid-ABC1234567",
            "name": "Ada Lovelace",
            "given_name": "Ada",
            "family_name": "Lovelace",
            "email": "ada@example.com",
        },
    }


def test_user_without_optional_names_omits_them() -> None:
    bare = Subject("IBMid-X000000001", ACCOUNT, "IBMid", "X000000001", "x@example.com", None, "x")
    claims = claims_for(bare)
    for name in ("given_name", "family_name", "email", "sub_type"):
        assert name not in claims
        assert name not in claims["authn"]
    assert claims["account"] == {"valid": True, "bss": ACCOUNT, "boundary": "global"}


@pytest.mark.parametrize("ttl", [900, 1800, 3600])
@pytest.mark.parametrize(
    "issued_at",
    [ISSUED, ISSUED.astimezone(timezone(timedelta(hours=-7))), ISSUED.replace(microsecond=0)],
    ids=["utc", "offset", "whole-second"],
)
def test_iat_and_exp_are_integers_ttl_apart(ttl: int, issued_at: datetime) -> None:
    claims = claims_for(SERVICE, issued_at=issued_at, ttl=ttl)
    assert type(claims["iat"]) is int and type(claims["exp"]) is int
    assert claims["iat"] == IAT
    assert claims["exp"] - claims["iat"] == ttl


def test_principal_from_service_id_claims() -> None:
    claims = claims_for(SERVICE)
    principal = principal_from_claims(claims)
    assert principal == Principal(
        iam_id=f"iam-{SID}", account_id=ACCOUNT, sub_type="ServiceId", claims=claims
    )
    assert principal is not None and principal.is_service_id is True


def test_principal_from_user_claims() -> None:
    claims = claims_for(USER)
    principal = principal_from_claims(claims)
    assert principal == Principal(
        iam_id="IBMid-ABC1234567", account_id=ACCOUNT, sub_type=None, claims=claims
    )
    assert principal is not None and principal.is_service_id is False


def without(claims: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in claims.items() if k != key}


GOOD = claims_for(SERVICE)


@pytest.mark.parametrize(
    "claims",
    [
        without(GOOD, "account"),
        without(GOOD, "iam_id"),
        GOOD | {"account": ACCOUNT},
        GOOD | {"account": None},
        GOOD | {"account": [ACCOUNT]},
        GOOD | {"account": {"valid": True}},
        GOOD | {"account": {"valid": True, "bss": ""}},
        GOOD | {"account": {"valid": True, "bss": 12345}},
        GOOD | {"account": {"valid": True, "bss": None}},
        GOOD | {"iam_id": None},
        GOOD | {"iam_id": 7},
        {},
    ],
    ids=[
        "no-account",
        "no-iam_id",
        "account-string",
        "account-null",
        "account-list",
        "no-bss",
        "empty-bss",
        "int-bss",
        "null-bss",
        "null-iam_id",
        "int-iam_id",
        "empty",
    ],
)
def test_principal_refuses_claims_without_an_account_or_identity(claims: dict[str, Any]) -> None:
    assert principal_from_claims(claims) is None


def test_odd_sub_type_is_ignored() -> None:
    principal = principal_from_claims(GOOD | {"sub_type": 42})
    assert principal is not None
    assert principal.sub_type is None and principal.is_service_id is False
    assert principal.account_id == ACCOUNT
