"""The token signing key set: RSA-2048 keys with `kid`s, sealed under the root key at rest.

Rollover (spec §3.4): a new key signs from the moment it is made; the old one stops signing but
stays in the JWKS until every token it signed has expired (`publish_until` = retirement + the
longest access-token lifetime + the allowed clock skew), then it is deleted.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from strongroom.rootkey import Sealer
from strongroom.store.ports import SigningKey, SigningKeyRepo

RSA_BITS = 2048


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def new_kid(now: datetime) -> str:
    # IBM's kids are dates; a random tail keeps two rotations in one second apart.
    return f"{now:%Y%m%d%H%M%S}-{secrets.token_hex(4)}"


@dataclass(frozen=True, slots=True)
class LoadedKey:
    record: SigningKey
    private_key: rsa.RSAPrivateKey | None  # None for keys that no longer sign

    @property
    def kid(self) -> str:
        return self.record.kid


def generate(now: datetime, sealer: Sealer) -> tuple[SigningKey, rsa.RSAPrivateKey]:
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    kid = new_kid(now)
    pem = private_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    numbers = private_key.public_key().public_numbers()
    jwk = {
        "kty": "RSA",
        "kid": kid,
        "alg": "RS256",
        "use": "sig",
        "n": _b64url_uint(numbers.n),
        "e": _b64url_uint(numbers.e),
    }
    record = SigningKey(
        kid=kid,
        created_at=now,
        sealed_private_key=sealer.seal(pem, aad=kid.encode()),
        public_jwk=jwk,
    )
    return record, private_key


def open_private_key(record: SigningKey, sealer: Sealer) -> rsa.RSAPrivateKey:
    der = sealer.open(record.sealed_private_key, aad=record.kid.encode())
    key = serialization.load_der_private_key(der, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError("a signing key that is not RSA")
    return key


def rotate(
    repo: SigningKeyRepo, sealer: Sealer, now: datetime, grace: timedelta
) -> tuple[SigningKey, rsa.RSAPrivateKey]:
    """Make a new signing key and retire every active one, keeping it published for `grace`."""
    for key in repo.all():
        if key.retired_at is None:
            repo.retire(key.kid, now, now + grace)
    repo.delete_unpublished(now)
    record, private_key = generate(now, sealer)
    repo.add(record)
    return record, private_key


def active(keys: list[SigningKey]) -> SigningKey | None:
    """The newest key that still signs."""
    signing = [k for k in keys if k.retired_at is None]
    return max(signing, key=lambda k: k.created_at) if signing else None


def published(keys: list[SigningKey], now: datetime) -> list[SigningKey]:
    return [k for k in keys if k.publish_until is None or k.publish_until >= now]
