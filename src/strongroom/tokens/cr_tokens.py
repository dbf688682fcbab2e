"""Compute-resource tokens: the JWTs a VM, a Kubernetes service account or a Code Engine app
presents with the cr-token grant (spec §3.1). strongroom trusts only the issuers the operator
lists (setting `STRONGROOM_CR_TOKEN_ISSUERS`, a JSON file):

    {"<iss>": {"jwks": {"keys": [<JWK>, ...]}},
     "<other iss>": {"public_key_pem": "-----BEGIN PUBLIC KEY-----..."}}

A token is accepted when its `iss` is listed, it is signed RS256 (RSA key) or ES256 (P-256 key)
by one of that issuer's keys (by `kid` when the token names one), and `exp`/`nbf` hold on the
injected clock within the allowed skew. Anything else is refused with one message.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from strongroom.clock import Clock

ALGORITHMS = ("RS256", "ES256")


class CrTokenError(ValueError):
    """The compute-resource token is not one this server trusts (the reason stays in logs)."""


class IssuerConfigError(ValueError):
    """The issuers file is malformed; the server does not start."""


@dataclass(frozen=True, slots=True)
class IssuerKey:
    kid: str | None
    algorithm: str
    key: Any  # a cryptography public key


def _algorithm_of(key: Any, where: str) -> str:
    if isinstance(key, rsa.RSAPublicKey):
        return "RS256"
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return "ES256"
    raise IssuerConfigError(f"{where}: only RSA and P-256 EC keys are accepted (RS256, ES256)")


def parse_issuers(text: str) -> dict[str, tuple[IssuerKey, ...]]:
    """The issuers file's content; IssuerConfigError names what is wrong."""
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise IssuerConfigError(f"the issuers file is not JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise IssuerConfigError('the issuers file must map each "iss" to its keys')
    out: dict[str, tuple[IssuerKey, ...]] = {}
    for iss, spec in raw.items():
        if not isinstance(spec, dict):
            raise IssuerConfigError(f"issuer `{iss}`: give {{jwks}} or {{public_key_pem}}")
        keys: list[IssuerKey] = []
        if "public_key_pem" in spec:
            try:
                key = load_pem_public_key(str(spec["public_key_pem"]).encode())
            except ValueError as exc:
                raise IssuerConfigError(f"issuer `{iss}`: public_key_pem: {exc}") from exc
            keys.append(IssuerKey(None, _algorithm_of(key, f"issuer `{iss}`"), key))
        jwks = spec.get("jwks")
        if jwks is not None:
            entries = jwks.get("keys") if isinstance(jwks, dict) else None
            if not isinstance(entries, list):
                raise IssuerConfigError(f'issuer `{iss}`: jwks must be {{"keys": [...]}}')
            for n, entry in enumerate(entries):
                where = f"issuer `{iss}` jwks key {n}"
                try:
                    key = jwt.PyJWK(entry).key
                except (jwt.PyJWTError, TypeError, ValueError) as exc:
                    raise IssuerConfigError(f"{where}: {exc}") from exc
                kid = entry.get("kid") if isinstance(entry, dict) else None
                kid = kid if isinstance(kid, str) else None
                keys.append(IssuerKey(kid, _algorithm_of(key, where), key))
        if not keys:
            raise IssuerConfigError(f"issuer `{iss}` lists no keys")
        out[str(iss)] = tuple(keys)
    return out


class CrTokenVerifier:
    def __init__(
        self, issuers: Mapping[str, tuple[IssuerKey, ...]], clock: Clock, leeway: int
    ) -> None:
        self._issuers = dict(issuers)
        self._clock = clock
        self._leeway = leeway

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims if it is trusted; CrTokenError otherwise."""
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise CrTokenError("the compute-resource token is malformed") from exc
        alg, iss = header.get("alg"), unverified.get("iss")
        if alg not in ALGORITHMS:
            raise CrTokenError(f"compute-resource tokens are signed {' or '.join(ALGORITHMS)}")
        keys = self._issuers.get(iss) if isinstance(iss, str) else None
        if not keys:
            raise CrTokenError("the compute-resource token's issuer is not trusted")
        kid = header.get("kid")
        candidates = [
            k for k in keys if k.algorithm == alg and (kid is None or k.kid in (None, kid))
        ]
        for candidate in candidates:
            try:
                claims: dict[str, Any] = jwt.decode(
                    token,
                    candidate.key,
                    algorithms=[alg],
                    issuer=iss,
                    options={
                        "require": ["exp", "iss"],
                        "verify_aud": False,
                        "verify_exp": False,
                        "verify_iat": False,
                        "verify_nbf": False,
                    },
                )
            except jwt.InvalidSignatureError:
                continue
            except jwt.PyJWTError as exc:
                raise CrTokenError("the compute-resource token is invalid") from exc
            self._check_times(claims)
            return claims
        raise CrTokenError("the compute-resource token's signature does not verify")

    def _check_times(self, claims: Mapping[str, Any]) -> None:
        now = self._clock.now().timestamp()
        exp, nbf = claims.get("exp"), claims.get("nbf")
        if not isinstance(exp, int) or exp <= now - self._leeway:
            raise CrTokenError("the compute-resource token has expired")
        if nbf is not None and (not isinstance(nbf, int) or nbf > now + self._leeway):
            raise CrTokenError("the compute-resource token is not valid yet")
