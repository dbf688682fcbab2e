"""The IAM token service (spec §3): the API-key and refresh-token grants, verification, JWKS.

Access tokens are RS256 JWTs signed by the active key of the signing key set; services verify
them by `kid` against `/identity/keys`. Refresh tokens are opaque random strings stored only as
a peppered HMAC; each is good once: using it yields a new one in the same family, and presenting
a used one again revokes the whole family (reliability.md T2).
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from strongroom import ids
from strongroom.audit import context as audit_context
from strongroom.clock import Clock
from strongroom.errors import TokenGrantError, Unauthenticated
from strongroom.identity.models import ApiKey
from strongroom.identity.service import IdentityService
from strongroom.rootkey import Pepper, Sealer
from strongroom.store.ports import RefreshToken, SigningKey, UnitOfWork, UnitOfWorkFactory
from strongroom.tokens import signing_keys
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

ALGORITHM = "RS256"  # the one algorithm accepted (reliability.md T1: an allowlist of one)
NOT_SUPPORTED = "not_supported"  # IBM's refresh_token for logins without a client (spec §1 fact 1)

# IBM's token-endpoint error codes (spec §1 fact 1, §2.7). Only BXNIM0415E is documented in the
# spec; the others are ours, in the same family, for cases the spec does not show.
BAD_APIKEY = "BXNIM0415E"
BAD_REQUEST = "BXNIM0109E"
BAD_REFRESH = "BXNIM0407E"
BAD_CLIENT = "BXNIM0400E"


@dataclass(frozen=True, slots=True)
class TokenSettings:
    issuer: str
    access_ttl: int
    refresh_ttl: int
    rotation_after: timedelta
    leeway: int
    clients: dict[str, str]  # client_id -> secret, for HTTP Basic on the token endpoint


@dataclass(frozen=True, slots=True)
class TokenResponse:
    access_token: str
    refresh_token: str
    expires_in: int
    expiration: int
    scope: str
    claims: dict[str, Any]

    def body(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "expiration": self.expiration,
            "scope": self.scope,
        }


# Unpadded base64url, as RFC 7515 §2 writes every JWS segment.
_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")
# Headers that would name a key or demand extensions we do not honour (reliability.md T1,
# ASVS V9.1.3: keys only from our own JWKS). Refused rather than ignored.
_FOREIGN_HEADERS = frozenset({"jku", "x5u", "jwk", "x5c", "crit"})


def _canonical(segment: str) -> bytes:
    """A segment's bytes, if the segment is their one canonical unpadded base64url spelling.

    Python's decoder skips characters outside the alphabet and ignores the unused low bits of
    the last character, so whitespace, `=` padding or a flipped spare bit in the signature
    would otherwise leave it valid under a different token string (reliability.md T1)."""
    if not _SEGMENT.fullmatch(segment):
        raise Unauthenticated("the access token is malformed")
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except ValueError as exc:  # binascii.Error: a length no encoding has
        raise Unauthenticated("the access token is malformed") from exc
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode() != segment:
        raise Unauthenticated("the access token is malformed")
    return raw


def _header(token: str) -> dict[str, Any]:
    """The JOSE header, read only to pick the key; jwt.decode checks everything again."""
    segments = token.split(".")
    if len(segments) != 3:
        raise Unauthenticated("the access token is malformed")
    for segment in segments[1:]:
        _canonical(segment)
    try:
        header = json.loads(_canonical(segments[0]))
    except (ValueError, UnicodeDecodeError) as exc:
        raise Unauthenticated("the access token is malformed") from exc
    if not isinstance(header, dict):
        raise Unauthenticated("the access token is malformed")
    if _FOREIGN_HEADERS & header.keys():
        raise Unauthenticated("the access token names a key source this server does not use")
    return header


def _is_time(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


VERIFIED_TOKENS = 4096  # verified access tokens remembered, oldest forgotten first


@dataclass(frozen=True, slots=True)
class _Verified:
    kid: str
    key: Any  # the public key object that verified it: a rollover that drops it forgets it
    exp: int
    iat: int
    nbf: int | None
    principal: Principal


class TokenService:
    # Nodes sharing a database share the key set, and any node may roll it over: an unknown
    # `kid` (or a JWKS request) reads the published keys again, at most once a second each.
    _RELOAD_INTERVAL = 1.0
    # A node signs with the newest key it has read: it rereads the set this often when issuing,
    # well inside the grace a retired key stays published (the access-token lifetime, >= 900 s).
    _SIGNING_REFRESH = 60.0

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        identity: IdentityService,
        sealer: Sealer,
        pepper: Pepper,
        settings: TokenSettings,
        *,
        account_lifetimes: Callable[[str], tuple[int | None, int | None]] | None = None,
    ) -> None:
        self._uow = uow
        # An account's own (shorter) access/refresh lifetimes, spec §4.4 (branch `users`).
        self._account_lifetimes = account_lifetimes
        self._clock = clock
        self._identity = identity
        self._sealer = sealer
        self._pepper = pepper
        self.settings = settings
        self._lock = threading.Lock()
        self._signing: tuple[str, rsa.RSAPrivateKey] | None = None
        self._public: dict[str, Any] = {}
        self._jwks: list[dict[str, str]] = []
        self._loaded_at = 0.0
        self._missed_at = float("-inf")  # the last reload an unknown kid caused
        self._verified: dict[str, _Verified] = {}  # token -> what verifying it found

    # -- the signing key set --------------------------------------------------------------------

    def start(self) -> None:
        """Load the key set, making the first key (or a due rollover) when needed."""
        now = self._clock.now()
        with self._uow(write=True) as uow:
            current = signing_keys.active(uow.signing_keys.all())
            if current is None or now - current.created_at >= self.settings.rotation_after:
                signing_keys.rotate(uow.signing_keys, self._sealer, now, self._grace())
        self._reload()

    def rotate_signing_key(self) -> str:
        """Roll over now: a new key signs; old ones stay published until their tokens expire."""
        with self._uow(write=True) as uow:
            record, _ = signing_keys.rotate(
                uow.signing_keys, self._sealer, self._clock.now(), self._grace()
            )
        self._reload()
        return record.kid

    def _grace(self) -> timedelta:
        return timedelta(seconds=self.settings.access_ttl + self.settings.leeway)

    def _reload(self) -> None:
        with self._uow() as uow:
            keys = uow.signing_keys.all()
        now = self._clock.now()
        active = signing_keys.active(keys)
        published: list[SigningKey] = signing_keys.published(keys, now)
        with self._lock:
            if active is not None and (self._signing is None or self._signing[0] != active.kid):
                self._signing = (active.kid, signing_keys.open_private_key(active, self._sealer))
            self._public = {k.kid: jwt.PyJWK(k.public_jwk, ALGORITHM).key for k in published}
            self._jwks = [dict(k.public_jwk) for k in published]
            self._loaded_at = time.monotonic()

    def jwks(self) -> dict[str, Any]:
        if time.monotonic() - self._loaded_at > self._RELOAD_INTERVAL:
            self._reload()  # publish what another node rolled over to
        return {"keys": list(self._jwks)}

    # -- grants ---------------------------------------------------------------------------------

    def exchange_apikey(
        self, apikey: str, *, client_id: str | None, scope: str | None
    ) -> TokenResponse:
        """`grant_type=urn:ibm:params:oauth:grant-type:apikey` (spec §3.1)."""
        return self.issue_for_apikey(
            self._identity.authenticate(apikey), client_id=client_id, scope=scope
        )

    def issue_for_apikey(
        self, found: tuple[ApiKey, Subject] | None, *, client_id: str | None, scope: str | None
    ) -> TokenResponse:
        """Tokens for a checked API key (identity/key_checks.py); None gets the one answer for
        unknown, disabled, expired and locked-out alike (reliability.md T4, T5)."""
        if found is None:
            raise TokenGrantError(BAD_APIKEY, "Provided API key could not be found.")
        key, subject = found
        return self._issue(subject, APIKEY_GRANT, client_id, scope, apikey_id=key.id)

    def refresh(self, refresh_token: str, *, client_id: str | None) -> TokenResponse:
        """`grant_type=refresh_token`: rotate on use; a reused token revokes its family.

        Marking the old token used and storing its successor happen in one transaction, so two
        racing uses of one token cannot both succeed, and the loser's revocation covers the
        winner's new token.
        """
        now = self._clock.now()
        invalid = TokenGrantError(BAD_REFRESH, "The refresh token is invalid.")
        with self._uow(write=True) as uow:
            stored = uow.refresh_tokens.get_by_digest(self._pepper.digest(refresh_token))
            if stored is None or not self._pepper.matches(refresh_token, stored.digest):
                raise invalid
            if (
                stored.revoked_at is not None
                or stored.expires_at <= now
                or client_id != stored.client_id
            ):
                raise invalid
            reused = not uow.refresh_tokens.mark_used(stored.id, now)
            if reused:
                uow.refresh_tokens.revoke_family(stored.family_id, now)
                # Committed here, refused below: the event says so, in the family's account.
                kind = "ServiceId" if stored.iam_id.startswith("iam-ServiceId-") else None
                audit_context.note_caller(stored.iam_id, stored.account_id, kind)
                audit_context.note_refusal(400)
            else:
                subject = self._identity.subject_for_key(uow, stored.apikey_id)
                if subject is None:
                    raise TokenGrantError(
                        BAD_REFRESH, "The identity behind the refresh token is no longer valid."
                    )
                return self._issue(
                    subject, REFRESH_GRANT, client_id, stored.scope, apikey_id=stored.apikey_id,
                    family=(stored.family_id, stored.expires_at), uow=uow,
                )  # fmt: skip
        # Outside the unit of work, so that the family's revocation is committed.
        raise TokenGrantError(
            BAD_REFRESH, "The refresh token was already used; its family is revoked."
        )

    def _issue(
        self,
        subject: Subject,
        grant_type: str,
        client_id: str | None,
        scope: str | None,
        *,
        apikey_id: str,
        family: tuple[str, datetime] | None = None,
        uow: UnitOfWork | None = None,
    ) -> TokenResponse:
        now = self._clock.now()
        # The exchange's audit event names who logged in (reliability.md A3).
        audit_context.note_caller(subject.iam_id, subject.account_id, subject.sub_type)
        ttl, refresh_ttl = self._lifetimes(subject.account_id)
        scope = scope or DEFAULT_SCOPE
        claims = access_claims(
            subject,
            issuer=self.settings.issuer,
            grant_type=grant_type,
            scope=scope,
            client_id=client_id or DEFAULT_CLIENT,
            issued_at=now,
            ttl=ttl,
            jti=ids.new_uuid(),
        )
        if time.monotonic() - self._loaded_at > self._SIGNING_REFRESH:
            self._reload()  # another node may have rolled the key set over
        with self._lock:
            signing = self._signing
        if signing is None:
            raise RuntimeError("the token service has not been started")
        kid, private_key = signing
        token = jwt.encode(claims, private_key, algorithm=ALGORITHM, headers={"kid": kid})
        refresh = NOT_SUPPORTED
        if client_id is not None:
            refresh = secrets.token_urlsafe(48)
            # A family keeps the absolute lifetime of its first token: refreshing never extends it.
            family_id, expires = family or (
                ids.new_uuid(),
                now + timedelta(seconds=refresh_ttl),
            )
            record = RefreshToken(
                id=ids.new_uuid(),
                digest=self._pepper.digest(refresh),
                family_id=family_id,
                iam_id=subject.iam_id,
                account_id=subject.account_id,
                apikey_id=apikey_id,
                client_id=client_id,
                scope=scope,
                issued_at=now,
                expires_at=expires,
            )
            if uow is not None:
                uow.refresh_tokens.add(record)
            else:
                with self._uow(write=True) as own:
                    own.refresh_tokens.add(record)
        return TokenResponse(token, refresh, ttl, claims["exp"], scope, claims)

    def _lifetimes(self, account_id: str) -> tuple[int, int]:
        """Server lifetimes, shortened (never lengthened) by the account's identity settings
        `system_access_token_expiration_in_seconds` / `..._refresh_...` (spec §3.3, §4.4)."""
        access, refresh = self.settings.access_ttl, self.settings.refresh_ttl
        if self._account_lifetimes is not None:
            own_access, own_refresh = self._account_lifetimes(account_id)
            access = min(access, own_access or access)
            refresh = min(refresh, own_refresh or refresh)
        return access, refresh

    def client(self, client_id: str, secret: str) -> str:
        """The client id when HTTP Basic credentials name a known client."""
        expected = self.settings.clients.get(client_id)
        if expected is None or not secrets.compare_digest(expected.encode(), secret.encode()):
            raise TokenGrantError(BAD_CLIENT, "The client credentials are invalid.")
        return client_id

    # -- verification ---------------------------------------------------------------------------

    def verify(self, token: str) -> Principal:
        """A Principal for a valid access token; Unauthenticated for anything else.

        A token whose signature was verified before is not verified again while the key that
        verified it is still published here: an access token is immutable and stateless (no
        revocation list is read), so only its times need checking again, against the clock.
        The signature check (RSA plus PyJWT's parsing, about 120 µs) was a quarter of a
        `/v2/authz` call's CPU time (docs/benchmarks.md, "Authorization over HTTP")."""
        seen = self._verified.get(token)
        if seen is not None and self._public.get(seen.kid) is seen.key:
            self._check_times(seen.exp, seen.iat, seen.nbf)
            return seen.principal
        return self.verify_signed(token)

    def _check_times(self, exp: int, iat: int, nbf: int | None) -> None:
        now = self._clock.now().timestamp()
        if exp <= now - self.settings.leeway:
            raise Unauthenticated("the access token has expired")
        if iat > now + self.settings.leeway:
            raise Unauthenticated("the access token was issued in the future")
        if nbf is not None and nbf > now + self.settings.leeway:
            raise Unauthenticated("the access token is not valid yet")

    def verify_signed(self, token: str) -> Principal:
        """`verify` without its cache of verified tokens: the signature is checked every time."""
        header = _header(token)
        kid = header.get("kid")
        if header.get("alg") != ALGORITHM or not isinstance(kid, str):
            raise Unauthenticated("the access token is not signed the way this server signs")
        key = self._public.get(kid)
        if key is None and time.monotonic() - self._missed_at > self._RELOAD_INTERVAL:
            # Another node may have rolled the key set over. Limited by the last miss, not the
            # last load, so a key made just after this node started is found at once.
            self._missed_at = time.monotonic()
            self._reload()
            key = self._public.get(kid)
        if key is None:
            raise Unauthenticated("the access token was signed by an unknown key")
        try:
            # Times are checked below against the injected clock, not PyJWT's wall clock.
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                issuer=self.settings.issuer,
                options={
                    "require": ["exp", "iat", "iss"],
                    # We issue no `aud`: with no audience given, PyJWT refuses any token that
                    # carries one (reliability.md T1, a wrong `aud`).
                    "verify_aud": True,
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except jwt.PyJWTError as exc:
            raise Unauthenticated("the access token is invalid") from exc
        exp, iat, nbf = claims["exp"], claims["iat"], claims.get("nbf")
        if not all(_is_time(t) for t in (exp, iat)) or not (nbf is None or _is_time(nbf)):
            raise Unauthenticated("the access token has non-integer times")
        self._check_times(exp, iat, nbf)
        principal = principal_from_claims(claims)
        if principal is None:
            raise Unauthenticated("the access token does not name an identity and account")
        with self._lock:
            if len(self._verified) >= VERIFIED_TOKENS:
                del self._verified[next(iter(self._verified))]  # the oldest
            self._verified[token] = _Verified(kid, key, exp, iat, nbf, principal)
        return principal

    # -- trusted-profile tokens (spec §3.1, §3.3; grants in tokens/profile_grants.py) -----------

    def issue_profile_token(self, subject: Subject, grant_type: str) -> TokenResponse:
        """An access token for a trusted profile; never a refresh token (`not_supported`)."""
        return self._issue(subject, grant_type, None, None, apikey_id="")
