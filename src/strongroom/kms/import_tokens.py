"""Import tokens (spec kms-api.md §3.7, §3 rows 27-28): `POST /import_token` makes an
instance's one token (a new one replaces it), `GET /import_token` hands out its public key and
nonce, once per retrieval.

A token is an RSA-4096 transport key (its private half sealed under the instance's master key,
bound to the instance by `import_token_context`), a 12-byte nonce, an expiry of 300 to 86,400
seconds (default 600) and a budget of 1 to 500 retrievals (default 1). The budget limits GET
alone: the secure-import tutorial (kpdocs) makes a one-retrieval token, retrieves it once, then
imports with it, so an import needs only an unexpired token (kms/secure_import.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from strongroom.authz import Guard
from strongroom.clock import Clock
from strongroom.kms.crypto import transport
from strongroom.kms.crypto.backend import CryptoBackend
from strongroom.kms.crypto.context import import_token_context
from strongroom.kms.errors import KmsError
from strongroom.kms.models import ImportToken
from strongroom.kms.new_key import field_error
from strongroom.kms.scope import open_scope, require
from strongroom.store.ports import UnitOfWorkFactory

CREATE_WHAT = "Import token could not be created"
READ_WHAT = "Import token could not be retrieved"
EXPIRATION_DEFAULT, EXPIRATION_MIN, EXPIRATION_MAX = 600, 300, 86_400  # seconds
RETRIEVALS_DEFAULT, RETRIEVALS_MAX = 1, 500  # 500: redstone's documented maximum
FIELDS = ("expiration", "maxAllowedRetrievals")


@dataclass(frozen=True, slots=True)
class TokenRequest:
    expiration: int  # seconds from creation
    max_retrievals: int


def parse_token_request(body: Mapping[str, Any]) -> TokenRequest:
    """`{expiration?, maxAllowedRetrievals?}`. go omits a zero value (`omitempty`) and py3 an
    unset one, so an absent member takes its default; a member sent must be in range."""
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise KmsError(
            "BAD_BODY_ERR",
            f"invalid body data was passed: unknown member `{unknown[0][:64]}`; an import token"
            " takes `expiration` and `maxAllowedRetrievals`",
            what=CREATE_WHAT,
        )
    return TokenRequest(
        _whole(body, "expiration", EXPIRATION_DEFAULT, EXPIRATION_MIN, EXPIRATION_MAX),
        _whole(body, "maxAllowedRetrievals", RETRIEVALS_DEFAULT, 1, RETRIEVALS_MAX),
    )


def _whole(body: Mapping[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = body.get(name)
    if value is None:
        return default
    # py3 types both as float: 600.0 is 600, 600.5 is no whole number of anything.
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise field_error(
            name, f"`{name}` must be a whole number from {low} to {high}", CREATE_WHAT
        )
    return value


def expired(token: ImportToken, now: datetime) -> bool:
    return now >= token.expires_at


def expired_error(what: str, detail: str = "the import token has expired") -> KmsError:
    return KmsError(
        "IMPORT_TOKEN_EXPIRED_ERR",
        f"{detail}: create a new one with `POST /api/v2/import_token`",
        what=what,
    )


def not_found(instance_id: str, what: str) -> KmsError:
    return KmsError(
        "IMPORT_TOKEN_NOT_FOUND_ERR",
        f"instance `{instance_id}` has no import token: create one with"
        " `POST /api/v2/import_token`",
        what=what,
    )


class ImportTokenService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        backend: CryptoBackend,
        new_transport_key: Callable[[], tuple[bytes, bytes]] = transport.new_transport_key,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._backend = backend
        self._new_transport_key = new_transport_key

    def create(self, guard: Guard, instance_id: str, body: Mapping[str, Any]) -> ImportToken:
        """A new token for the instance, replacing any other (spec §3.7)."""
        request = parse_token_request(body)
        # The caller's right first: a refused request never costs a key generation.
        with self._uow(write=True) as uow:
            scope = open_scope(uow, guard, instance_id, self._backend)
            require(guard, scope, scope.resource())
        # RSA-4096 takes about a second: made outside any transaction, so no writer waits.
        private_der, public_pem = self._new_transport_key()
        with self._uow(write=True) as uow:
            scope = open_scope(uow, guard, instance_id, self._backend)
            require(guard, scope, scope.resource())  # still allowed a second later
            now = self._clock.now()
            token = ImportToken(
                instance_id=scope.id,
                created_at=now,
                expires_at=now + timedelta(seconds=request.expiration),
                max_retrievals=request.max_retrievals,
                remaining_retrievals=request.max_retrievals,
                public_key_pem=public_pem,
                private_key=self._backend.seal_private(
                    scope.kms.master_key, import_token_context(scope.id), private_der
                ),
                nonce=transport.new_nonce(),
                created_by=guard.principal.iam_id,
            )
            uow.import_tokens.put(token)
        return token

    def retrieve(self, guard: Guard, instance_id: str) -> ImportToken:
        """The token, with one retrieval taken (its public key and nonce go to the caller)."""
        now = self._clock.now()
        with self._uow(write=True) as uow:
            scope = open_scope(uow, guard, instance_id, self._backend)
            require(guard, scope, scope.resource())
            token = uow.import_tokens.get(scope.id)
            if token is None:
                raise not_found(scope.id, READ_WHAT)
            if expired(token, now):
                raise expired_error(READ_WHAT)
            if not uow.import_tokens.use(scope.id):  # atomic: two callers never share the last
                raise expired_error(
                    READ_WHAT,
                    f"the import token has been retrieved {token.max_retrievals} times, all its"
                    " `maxAllowedRetrievals`",
                )
            used = uow.import_tokens.get(scope.id)
            assert used is not None
        return used
