"""Access-management account settings (spec §6.5): how identities of other accounts may interact
with this one, per identity type (`user`, `service_id`, `service`).

Each type has a `state` (`enabled`, `monitor` or `limited`) and the `external_allowed_accounts`
that `limited` lets in. An account that never set them has every type `enabled` with no list.
strongroom stores and returns them; its tokens already act only in the account they were issued
for, so no identity of another account reaches this one through a token whatever the state.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from strongroom import ids
from strongroom.authz import Guard, Resource
from strongroom.clock import Clock
from strongroom.errors import Conflict, Invalid, NotFound
from strongroom.identity.requests import check_if_match
from strongroom.store.ports import StoredAccessSettings, UnitOfWorkFactory

SERVICE = "iam-access-management"
IDENTITY_TYPES = ("user", "service_id", "service")
STATES = ("enabled", "monitor", "limited")
MAX_ALLOWED_ACCOUNTS = 100  # ours: the spec gives no bound
_ACCOUNT_ID = re.compile(r"^[0-9a-f]{32}$")
FIELD = "external_account_identity_interaction"


def default_settings() -> dict[str, Any]:
    kinds = {kind: {"state": "enabled", "external_allowed_accounts": []} for kind in IDENTITY_TYPES}
    return {"identity_types": kinds}


class AccessSettingsService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def get(self, guard: Guard, account_id: str) -> StoredAccessSettings:
        guard.require(
            Resource(account_id, SERVICE, "settings"), missing=NotFound("account", account_id)
        )
        with self._uow() as uow:
            return uow.access_settings.get(account_id) or self._first(account_id)

    def update(
        self, guard: Guard, account_id: str, if_match: str | None, body: object
    ) -> StoredAccessSettings:
        guard.require(
            Resource(account_id, SERVICE, "settings"), missing=NotFound("account", account_id)
        )
        patch = _patch(body)
        with self._uow(write=True) as uow:
            stored = uow.access_settings.get(account_id)
            current = stored or self._first(account_id)
            check_if_match(if_match, current.entity_tag)
            merged = _merged(current.settings, patch)
            updated = StoredAccessSettings(
                account_id=account_id,
                settings=merged,
                entity_tag=ids.new_entity_tag(ids.entity_tag_version(current.entity_tag) + 1),
                last_modified_at=self._clock.now(),
                last_modified_by_id=guard.principal.iam_id,
            )
            expected = None if stored is None else stored.entity_tag
            if not uow.access_settings.put(updated, expected):
                raise Conflict("the settings changed meanwhile; read them again")
        return updated

    def _first(self, account_id: str) -> StoredAccessSettings:
        """The settings of an account that never changed them. Their tag is fixed (version 1,
        derived from the account id) so that reads before the first write agree."""
        return StoredAccessSettings(
            account_id=account_id,
            settings={FIELD: default_settings()},
            entity_tag=f"1-{account_id}",
            last_modified_at=self._clock.now(),
            last_modified_by_id="",
        )


def _patch(body: object) -> dict[str, dict[str, Any]]:
    """The identity types a PATCH changes, each checked; Invalid names the bad field."""
    if not isinstance(body, Mapping):
        raise Invalid(f"the body must be an object with `{FIELD}`", field=FIELD)
    unknown = sorted(set(body) - {FIELD})
    if unknown:
        raise Invalid(f"unknown field `{unknown[0]}`", field=unknown[0])
    interaction = body.get(FIELD)
    if not isinstance(interaction, Mapping) or set(interaction) - {"identity_types"}:
        raise Invalid(f"`{FIELD}` must be an object with `identity_types`", field=FIELD)
    kinds = interaction.get("identity_types")
    where = f"{FIELD}.identity_types"
    if not isinstance(kinds, Mapping) or not kinds:
        raise Invalid(
            f"`{where}` must name at least one of {', '.join(IDENTITY_TYPES)}", field=where
        )
    patch: dict[str, dict[str, Any]] = {}
    for kind, value in kinds.items():
        if kind not in IDENTITY_TYPES:
            raise Invalid(f"`{where}.{kind}` is not an identity type", field=f"{where}.{kind}")
        patch[kind] = _identity_type(value, f"{where}.{kind}")
    return patch


def _identity_type(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, Mapping) or set(value) - {"state", "external_allowed_accounts"}:
        raise Invalid(
            f"`{where}` must be an object with `state` and `external_allowed_accounts`", field=where
        )
    out: dict[str, Any] = {}
    if "state" in value:
        if value["state"] not in STATES:
            raise Invalid(
                f"`{where}.state` must be one of {', '.join(STATES)}", field=f"{where}.state"
            )
        out["state"] = value["state"]
    if "external_allowed_accounts" in value:
        accounts = value["external_allowed_accounts"]
        field = f"{where}.external_allowed_accounts"
        if not isinstance(accounts, list) or len(accounts) > MAX_ALLOWED_ACCOUNTS:
            raise Invalid(f"`{field}` must be a list of at most 100 account ids", field=field)
        for i, account in enumerate(accounts):
            if not isinstance(account, str) or not _ACCOUNT_ID.match(account):
                raise Invalid(f"`{field}[{i}]` is not an account id (32 hex)", field=field)
        out["external_allowed_accounts"] = list(dict.fromkeys(accounts))
    return out


def _merged(current: Mapping[str, Any], patch: dict[str, dict[str, Any]]) -> dict[str, Any]:
    kinds = {k: dict(v) for k, v in current[FIELD]["identity_types"].items()}
    for kind, changes in patch.items():
        kinds[kind] = {**kinds[kind], **changes}
    return {FIELD: {"identity_types": kinds}}
