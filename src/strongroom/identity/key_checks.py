"""API key values checked under the lockout and the per-key rate (reliability.md T4).

Two places take an API key value: the token endpoint's API-key grant and
`GET /v1/apikeys/details` (the `IAM-ApiKey` header). Both go through here:

- a locked subject gets the answer a wrong value gets, without the value being evaluated, so
  during a lockout a correct key cannot be told from a wrong one ("0 oracles");
- a value that finds no usable key counts a failure against the subject;
- a value that finds a key spends from that key's rate bucket (a leaked key used from many
  sources). Only keys that exist get a bucket: unknown values leave no per-value state.

The subject of the API-key grant is the source alone: a guessed value names no identity (values
are random and carry no key id), so there is no identity to count against until one matches.
`/v1/apikeys/details` has an authenticated caller, whose iam_id is the identity.
"""

from __future__ import annotations

from strongroom.authz import Guard
from strongroom.errors import NotFound, TooManyRequests
from strongroom.identity.lockout import Lockout, subject_of
from strongroom.identity.models import ApiKey
from strongroom.identity.service import IdentityService, key_value_not_found
from strongroom.ratelimit import RateLimiter
from strongroom.tokens.claims import Subject

APIKEY_GRANT_IDENTITY = "apikey-grant"


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

    def _spend(self, key: ApiKey) -> None:
        wait = self._per_key.take(key.id)
        if wait:
            raise TooManyRequests(
                f"too many requests with this API key; retry after {wait} s", retry_after=wait
            )
