"""API key values checked under the lockout and the per-key rate (reliability.md T4).

Three places take an API key value: the token endpoint's API-key grant,
`GET /v1/apikeys/details` (the `IAM-ApiKey` header) and `POST /v1/apikeys` with a value of the
caller's choosing (409 when another key has it). All go through here:

- a locked subject gets the answer a wrong value gets, without the value being evaluated, so
  during a lockout a correct key cannot be told from a wrong one ("0 oracles");
- a value that finds no usable key counts a failure against the subject;
- a value that finds a key spends from that key's rate bucket (a leaked key used from many
  sources). Only keys that exist get a bucket: unknown values leave no per-value state.

The subject of the API-key grant is the source alone: a guessed value names no identity (values
are random and carry no key id), so there is no identity to count against until one matches.
The other two have an authenticated caller, whose iam_id is the identity.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from strongroom.authz import Guard
from strongroom.errors import NotFound, TooManyRequests
from strongroom.identity.lockout import Lockout, subject_of
from strongroom.identity.models import ApiKey
from strongroom.identity.service import IdentityService, KeyValueInUse, key_value_not_found
from strongroom.ratelimit import RateLimiter
from strongroom.tokens.claims import Subject

APIKEY_GRANT_IDENTITY = "apikey-grant"
T = TypeVar("T")


class KeyChecks:
    def __init__(self, identity: IdentityService, lockout: Lockout, per_key: RateLimiter) -> None:
        self._identity = identity
        self.lockout = lockout
        self._per_key = per_key

    def authenticate(self, value: str, source: str) -> tuple[ApiKey, Subject] | None:
        """The token endpoint's check: the key and its identity, or None (the caller answers
        None with the one wrong-key error, locked or not)."""
        subject = subject_of(APIKEY_GRANT_IDENTITY, source)
        if self.lockout.locked(subject):
            return None
        found = self._identity.authenticate(value)
        if found is None:
            self.lockout.failed(subject)
            return None
        self._spend(found[0])
        return found

    def key_by_value(self, guard: Guard, value: str, source: str) -> ApiKey:
        """`GET /v1/apikeys/details`: the key the value finds, if the caller may see it."""
        subject = subject_of(guard.principal.iam_id, source)
        if self.lockout.locked(subject):
            raise key_value_not_found()
        try:
            key = self._identity.get_api_key_by_value(guard, value)
        except NotFound:
            self.lockout.failed(subject)
            raise
        self._spend(key)
        return key

    def create_with_value(self, guard: Guard, source: str, create: Callable[[], T]) -> T:
        """`POST /v1/apikeys` with a chosen value: "already in use" says a value exists, so it
        counts as a failure, and during a lockout it is the answer whatever the value."""
        subject = subject_of(guard.principal.iam_id, source)
        if self.lockout.locked(subject):
            raise KeyValueInUse()
        try:
            return create()
        except KeyValueInUse:
            self.lockout.failed(subject)
            raise

    def _spend(self, key: ApiKey) -> None:
        wait = self._per_key.take(key.id)
        if wait:
            raise TooManyRequests(
                f"too many requests with this API key; retry after {wait} s", retry_after=wait
            )
