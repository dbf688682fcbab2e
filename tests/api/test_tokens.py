"""The token service (spec §3): grants, body/claim consistency, refresh rotation, JWKS, rollover,
and refusal of every token we did not sign."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from strongroom import bootstrap
from strongroom.config import Settings
from strongroom.errors import TokenGrantError, Unauthenticated
from strongroom.testing import FrozenClock
from strongroom.testing.server import LiveServer
from tests.api.conftest import token_for

APIKEY_GRANT = "urn:ibm:params:oauth:grant-type:apikey"
BX = ("bx", "bx")


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def test_apikey_grant_answers_like_ibm(server: LiveServer, http: httpx.Client) -> None:
    response = http.post(
        "/identity/token",
        data={"grant_type": APIKEY_GRANT, "apikey": server.apikey, "response_type": "cloud_iam"},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["refresh_token"] == "not_supported"  # no client credentials: as IBM answers
    assert body["scope"] == "ibm openid"
    header = jwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "RS256" and header["kid"]
    claims = claims_of(body["access_token"])
    assert body["expires_in"] == claims["exp"] - claims["iat"] == 3600
    assert body["expiration"] == claims["exp"]
    assert abs(claims["iat"] - time.time()) < 60
    assert claims["iam_id"] == claims["id"] == server.iam_id
    assert claims["realmid"] == "IBMid"
    assert claims["sub"] == "owner@example.com"
    assert "sub_type" not in claims  # users carry none (spec §3.3)
    assert claims["account"] == {"valid": True, "bss": server.account_id, "boundary": "global"}
    assert claims["iss"] == f"{server.url}/identity"
    assert claims["grant_type"] == APIKEY_GRANT
    assert claims["scope"] == "ibm openid"
    assert claims["client_id"] == "default"


def test_oidc_token_path_and_jwks_verify_the_token(server: LiveServer, http: httpx.Client) -> None:
    token = http.post(
        "/oidc/token", data={"grant_type": APIKEY_GRANT, "apikey": server.apikey}
    ).json()["access_token"]
    keys = http.get("/identity/keys").json()["keys"]
    kid = jwt.get_unverified_header(token)["kid"]
    (jwk,) = [k for k in keys if k["kid"] == kid]
    assert jwk["kty"] == "RSA" and jwk["alg"] == "RS256" and jwk["e"] == "AQAB"
    public = jwt.PyJWK(jwk).key
    verified = jwt.decode(token, public, algorithms=["RS256"], issuer=f"{server.url}/identity")
    assert verified["iam_id"] == server.iam_id
    assert http.get("/oidc/jwks").json()["keys"] == keys
    discovery = http.get("/identity/.well-known/openid-configuration").json()
    assert discovery["issuer"] == f"{server.url}/identity"
    assert discovery["jwks_uri"] == f"{server.url}/identity/keys"
    assert discovery["token_endpoint"] == f"{server.url}/identity/token"


def test_unknown_key_is_400_bxnim0415e(http: httpx.Client) -> None:
    response = http.post("/identity/token", data={"grant_type": APIKEY_GRANT, "apikey": "x" * 44})
    assert response.status_code == 400
    body = response.json()
    assert body["errorCode"] == "BXNIM0415E"
    assert body["errorMessage"] == "Provided API key could not be found."
    assert "context" in body
    assert response.headers["ibm-cloud-service-name"] == "iam-identity"


@pytest.mark.parametrize(
    ("data", "content_type", "fragment"),
    [
        ({"grant_type": APIKEY_GRANT}, None, "apikey"),
        ({"grant_type": "password", "apikey": "x"}, None, "grant_type"),
        ({"grant_type": "refresh_token"}, None, "refresh_token"),
        ({}, "application/json", "x-www-form-urlencoded"),
    ],
)
def test_malformed_token_requests_are_400(
    http: httpx.Client, data: dict, content_type: str | None, fragment: str
) -> None:
    if content_type:
        response = http.post(
            "/identity/token", content=json.dumps(data), headers={"Content-Type": content_type}
        )
    else:
        response = http.post("/identity/token", data=data)
    assert response.status_code == 400
    assert fragment in response.json()["errorMessage"]


def test_refresh_tokens_rotate_and_reuse_revokes_the_family(
    server: LiveServer, http: httpx.Client
) -> None:
    first = http.post(
        "/identity/token", data={"grant_type": APIKEY_GRANT, "apikey": server.apikey}, auth=BX
    ).json()
    assert first["refresh_token"] != "not_supported"
    assert claims_of(first["access_token"])["client_id"] == "bx"

    second = http.post(
        "/identity/token",
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        auth=BX,
    )
    assert second.status_code == 200
    rotated = second.json()
    assert rotated["refresh_token"] not in (first["refresh_token"], "not_supported")
    assert claims_of(rotated["access_token"])["grant_type"] == "refresh_token"
    assert claims_of(rotated["access_token"])["iam_id"] == server.iam_id

    # Replaying the used token is refused and revokes the family: the rotated one dies too.
    replay = http.post(
        "/identity/token",
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        auth=BX,
    )
    assert replay.status_code == 400
    assert "already used" in replay.json()["errorMessage"]
    after = http.post(
        "/identity/token",
        data={"grant_type": "refresh_token", "refresh_token": rotated["refresh_token"]},
        auth=BX,
    )
    assert after.status_code == 400


def test_refresh_needs_the_same_client(server: LiveServer, http: httpx.Client) -> None:
    issued = http.post(
        "/identity/token", data={"grant_type": APIKEY_GRANT, "apikey": server.apikey}, auth=BX
    ).json()
    without_client = http.post(
        "/identity/token",
        data={"grant_type": "refresh_token", "refresh_token": issued["refresh_token"]},
    )
    assert without_client.status_code == 400
    bad_client = http.post(
        "/identity/token",
        data={"grant_type": APIKEY_GRANT, "apikey": server.apikey},
        auth=("bx", "wrong"),
    )
    assert bad_client.status_code == 400
    assert bad_client.json()["errorCode"] == "BXNIM0400E"


def _forge(claims: dict, header: dict, key: object, alg: str) -> str:
    return jwt.encode(claims, key, algorithm=alg, headers=header)  # type: ignore[arg-type]


def _hs256(signing_input: str, secret: bytes) -> str:
    """Key confusion: an HMAC 'signature' keyed with the server's public key."""
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_tokens_we_did_not_sign_are_refused(server: LiveServer, http: httpx.Client) -> None:
    good = token_for(http, server.apikey)
    claims = claims_of(good)
    kid = jwt.get_unverified_header(good)["kid"]
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    head, body, sig = good.split(".")
    jwk = next(k for k in http.get("/identity/keys").json()["keys"] if k["kid"] == kid)
    public_pem = jwt.PyJWK(jwk).key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    forged = {
        "alg none": f"{_b64({'alg': 'none', 'kid': kid})}.{body}.",
        "signed by a stranger with our kid": _forge(claims, {"kid": kid}, stranger, "RS256"),
        "unknown kid": _forge(claims, {"kid": "nope"}, stranger, "RS256"),
        "HS256 keyed with our public key": _hs256(
            f"{_b64({'alg': 'HS256', 'kid': kid})}.{body}", public_pem
        ),
        "payload swapped": f"{head}.{_b64({**claims, 'iam_id': 'IBMid-ATTACKER'})}.{sig}",
        "truncated signature": f"{head}.{body}.{sig[:-8]}",
        "expired": _forge(
            {**claims, "iat": claims["iat"] - 7200, "exp": claims["iat"] - 3600},
            {"kid": kid},
            stranger,
            "RS256",
        ),
        "garbage": "not-a-jwt",
    }
    for name, token in forged.items():
        response = http.get("/v1/serviceids/", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, name
        assert response.json()["errors"][0]["code"] == "invalid_token", name
    assert (
        http.get("/v1/serviceids/", headers={"Authorization": f"Bearer {good}"}).status_code == 200
    )


def test_missing_or_wrong_scheme_authorization_is_401(http: httpx.Client) -> None:
    for headers in ({}, {"Authorization": "Basic Yng6Yng="}, {"Authorization": "Bearer"}):
        response = http.get("/v1/apikeys", headers=headers)
        assert response.status_code == 401
        body = response.json()
        assert body["status_code"] == "401" and body["errors"][0]["message"]
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.fixture
def frozen(tmp_path: Path):  # type: ignore[no-untyped-def]
    clock = FrozenClock()
    runtime = bootstrap.build(
        Settings(data_dir=tmp_path, database_url="sqlite://", bootstrap_apikey="k" * 40), clock
    )
    yield runtime, clock
    runtime.close()


def test_expiry_follows_the_injected_clock(frozen) -> None:  # type: ignore[no-untyped-def]
    runtime, clock = frozen
    tokens = runtime.container.tokens
    issued = tokens.exchange_apikey("k" * 40, client_id=None, scope=None)
    assert tokens.verify(issued.access_token).account_id == runtime.first_start.account.id
    clock.advance(3600 + 29)  # inside the 30 s leeway
    tokens.verify(issued.access_token)
    clock.advance(2)
    with pytest.raises(Unauthenticated, match="expired"):
        tokens.verify(issued.access_token)


def test_refresh_family_has_an_absolute_lifetime(frozen) -> None:  # type: ignore[no-untyped-def]
    runtime, clock = frozen
    tokens = runtime.container.tokens
    current = tokens.exchange_apikey("k" * 40, client_id="bx", scope=None).refresh_token
    for _ in range(3):
        clock.advance(20 * 3600)
        current = tokens.refresh(current, client_id="bx").refresh_token
    clock.advance(
        13 * 3600
    )  # 73 h after the first token: past the 72 h cap however often refreshed
    with pytest.raises(TokenGrantError):
        tokens.refresh(current, client_id="bx")


def test_rollover_keeps_old_kid_published_until_its_tokens_expire(frozen) -> None:  # type: ignore[no-untyped-def]
    runtime, clock = frozen
    tokens = runtime.container.tokens
    old = tokens.exchange_apikey("k" * 40, client_id=None, scope=None).access_token
    old_kid = jwt.get_unverified_header(old)["kid"]
    new_kid = tokens.rotate_signing_key()
    assert new_kid != old_kid
    fresh = tokens.exchange_apikey("k" * 40, client_id=None, scope=None).access_token
    assert jwt.get_unverified_header(fresh)["kid"] == new_kid
    assert {k["kid"] for k in tokens.jwks()["keys"]} == {old_kid, new_kid}
    tokens.verify(old)  # tokens signed before the rollover still verify
    clock.advance(3600 + 31)
    tokens.rotate_signing_key()  # the next rollover drops keys past their publication window
    assert old_kid not in {k["kid"] for k in tokens.jwks()["keys"]}
    with pytest.raises(Unauthenticated):
        tokens.verify(old)


def test_signing_key_is_stored_sealed(frozen) -> None:  # type: ignore[no-untyped-def]
    runtime, _ = frozen
    from strongroom.store.sql.uow import SqlUnitOfWorkFactory

    with SqlUnitOfWorkFactory(runtime.database)() as uow:
        (key,) = uow.signing_keys.all()
    assert b"PRIVATE KEY" not in key.sealed_private_key
    assert key.sealed_private_key[:1] == b"\x01"  # the sealed-blob format byte
