"""Identity account settings use cases (spec §4.4): read, update with If-Match, the effective
settings, and what other services ask of them (token lifetimes, creation restrictions).

Enforced: `restrict_create_service_id` and `restrict_create_platform_apikey` (in
`IdentityService`, through `member_may_create`), and the two token lifetimes (the token service
asks `token_lifetimes`). `mfa`, the session settings, `allowed_ip_addresses` and the user
domain and visibility settings are stored and returned, not enforced (docs/user-guide.md).
"""

from __future__ import annotations

import time
from dataclasses import replace

from strongroom.authz import Guard, Resource
from strongroom.clock import Clock
from strongroom.errors import NotFound, PreconditionFailed
from strongroom.identity.models import HistoryRecord, first_version, next_version
from strongroom.identity.requests import check_if_match
from strongroom.identity.settings_rules import (
    IdentitySettings,
    check_update,
    defaults_for,
)
from strongroom.identity.user_models import MemberState
from strongroom.store.ports import UnitOfWork, UnitOfWorkFactory
from strongroom.tokens.claims import Principal

SERVICE = "iam-identity"
ACCESS_TTL = "system_access_token_expiration_in_seconds"
REFRESH_TTL = "system_refresh_token_expiration_in_seconds"


def settings_in(uow: UnitOfWork, account_id: str) -> IdentitySettings:
    return uow.identity_settings.get(account_id) or defaults_for(account_id)


MAX_CACHED_ACCOUNTS = 10_000


class AccountSettingsService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, *, staleness: float = 1.0) -> None:
        self._uow = uow
        self._clock = clock
        # Token lifetimes are read on every token exchange: kept up to `staleness` seconds (the
        # authorizer's bound for other nodes, docs/architecture.md); an update on this node
        # drops its account's entry once it commits.
        self._staleness = staleness
        self._lifetimes: dict[str, tuple[float, tuple[int | None, int | None]]] = {}

    def get(self, guard: Guard, account_id: str) -> IdentitySettings:
        guard.require(Resource(account_id, SERVICE), missing=NotFound("account", account_id))
        with self._uow() as uow:
            if uow.accounts.get(account_id) is None:
                raise NotFound("account", account_id)
            return settings_in(uow, account_id)

    def update(
        self, guard: Guard, account_id: str, if_match: str | None, body: object
    ) -> IdentitySettings:
        guard.require(Resource(account_id, SERVICE), missing=NotFound("account", account_id))
        changes = check_update(body)
        now = self._clock.now()
        by = guard.principal
        record = HistoryRecord(
            now, by.iam_id, by.account_id, "update", tuple(sorted(changes)), "Updated settings"
        )
        with self._uow(write=True) as uow:
            if uow.accounts.get(account_id) is None:
                raise NotFound("account", account_id)
            current = settings_in(uow, account_id)
            check_if_match(if_match, current.entity_tag)
            values = {**current.values, **changes}
            if current.meta is None:
                updated = replace(
                    current, values=values, meta=first_version(now, by.iam_id, record)
                )
                stored = uow.identity_settings.add(updated)
            else:
                updated = replace(
                    current, values=values, meta=next_version(current.meta, now, record)
                )
                stored = uow.identity_settings.update(updated, current.meta.entity_tag)
            if not stored:
                raise PreconditionFailed(
                    f"the identity settings of account `{account_id}` changed meanwhile;"
                    " read them again"
                )
        self._lifetimes.pop(account_id, None)
        return updated

    # -- what other use cases ask -----------------------------------------------------------------

    def token_lifetimes(self, account_id: str) -> tuple[int | None, int | None]:
        """The account's access- and refresh-token lifetimes in seconds (None: server default)."""
        now = time.monotonic()
        cached = self._lifetimes.get(account_id)
        if cached is not None and now - cached[0] < self._staleness:
            return cached[1]
        with self._uow() as uow:
            found = settings_in(uow, account_id)
        lifetimes = (found.seconds(ACCESS_TTL), found.seconds(REFRESH_TTL))
        if len(self._lifetimes) >= MAX_CACHED_ACCOUNTS:
            self._lifetimes.clear()  # a bound, not an LRU: refilled at one read per account
        self._lifetimes[account_id] = (now, lifetimes)
        return lifetimes


def member_may_create(uow: UnitOfWork, principal: Principal, account_id: str, setting: str) -> bool:
    """Spec §4.4 (SDK enum text): with `restrict_create_service_id` /
    `restrict_create_platform_apikey` NOT_RESTRICTED or NOT_SET, every member of the account may
    create service IDs / their own API keys; RESTRICTED leaves it to policies alone. A member
    here is a user whose membership is ACTIVE, in the account the token is for."""
    if principal.account_id != account_id:
        return False
    if settings_in(uow, account_id).restricted(setting):
        return False
    membership = uow.users.membership(account_id, principal.iam_id)
    return membership is not None and membership.state == MemberState.ACTIVE
