"""Access-token claims in IBM's shape (spec §3.3); the Principal a verified token yields. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

APIKEY_GRANT = "urn:ibm:params:oauth:grant-type:apikey"
REFRESH_GRANT = "refresh_token"
# Trusted-profile grants (spec §3.1): a user or service ID assumes a profile; a compute resource
# trades its own token for a profile's.
ASSUME_GRANT = "urn:ibm:params:oauth:grant-type:assume"
CR_TOKEN_GRANT = "urn:ibm:params:oauth:grant-type:cr-token"  # noqa: S105 (a grant name)
PROFILE_SUB_TYPE = "Profile"
DEFAULT_SCOPE = "ibm openid"
DEFAULT_CLIENT = "default"


@dataclass(frozen=True, slots=True)
class Subject:
    """Who a token is for, as IAM describes the identity behind an API key."""

    iam_id: str
    account_id: str
    realm: str  # "IBMid" for users, "iam" for service IDs
    identifier: str  # realm-local id
    sub: str  # e-mail for users, the service ID for service IDs
    sub_type: str | None  # "ServiceId" for service IDs; absent for users (spec §3.3)
    name: str
    given_name: str | None = None
    family_name: str | None = None
    email: str | None = None
    # Who really authenticated, when that is not the subject (a profile's token names the user,
    # service ID or compute resource that assumed it); None: the subject itself.
    authn: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Principal:
    """The verified caller of an API route."""

    iam_id: str
    account_id: str
    sub_type: str | None
    claims: Mapping[str, Any]

    @property
    def is_service_id(self) -> bool:
        return self.sub_type == "ServiceId"


def access_claims(
    subject: Subject,
    *,
    issuer: str,
    grant_type: str,
    scope: str,
    client_id: str,
    issued_at: datetime,
    ttl: int,
    jti: str,
) -> dict[str, Any]:
    iat = int(issued_at.timestamp())
    authn: dict[str, Any] = {"sub": subject.sub, "iam_id": subject.iam_id, "name": subject.name}
    claims: dict[str, Any] = {
        "iam_id": subject.iam_id,
        "id": subject.iam_id,
        "realmid": subject.realm,
        "jti": jti,
        "identifier": subject.identifier,
        "sub": subject.sub,
        "name": subject.name,
        "account": {"valid": True, "bss": subject.account_id},
        "iat": iat,
        "exp": iat + ttl,
        "iss": issuer,
        "grant_type": grant_type,
        "scope": scope,
        "client_id": client_id,
        "acr": 1,
        "amr": ["pwd"],
    }
    if subject.sub_type is not None:
        claims["sub_type"] = subject.sub_type
        authn["sub_type"] = subject.sub_type
        claims["account"]["frozen"] = True
    else:
        claims["account"]["boundary"] = "global"
        for name in ("given_name", "family_name", "email"):
            value = getattr(subject, name)
            if value is not None:
                claims[name] = value
                authn[name] = value
    claims["authn"] = dict(subject.authn) if subject.authn is not None else authn
    return claims


REQUIRED_CLAIMS = ("iam_id", "account", "iat", "exp", "iss")


def principal_from_claims(claims: Mapping[str, Any]) -> Principal | None:
    """None when the claims lack what a caller needs (a foreign or malformed token)."""
    account = claims.get("account")
    iam_id = claims.get("iam_id")
    if not isinstance(account, Mapping) or not isinstance(iam_id, str):
        return None
    bss = account.get("bss")
    if not isinstance(bss, str) or not bss:
        return None
    sub_type = claims.get("sub_type")
    return Principal(
        iam_id=iam_id,
        account_id=bss,
        sub_type=sub_type if isinstance(sub_type, str) else None,
        claims=claims,
    )
