"""Registrations (spec kms-api.md §3 rows 29-32, §3.8): which cloud resources a root key
protects, and the acknowledgement of key events by the services that registered them.

Anyone with the list actions may read registrations; only a service (kms/calling_service.py)
creates, replaces, updates or deletes them, and only for resources of its own instance. A
registration records the key version current when it is made or replaced, and `preventKeyDeletion`
makes the key undeletable until the registration goes (keys.py `delete`). The service-only
`registrationMetadata` is shown to services alone.

Key states (s2sdoc "Key states and service actions on a registration"): create, replace and
update need an Active key; delete works while the key is not Destroyed (deleting a key removes
its registrations anyway).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from strongroom.authz import Guard
from strongroom.clock import Clock
from strongroom.crn import CRN
from strongroom.kms import names
from strongroom.kms.calling_service import CallingService, calling_service, require_service
from strongroom.kms.crn_query import CrnQuery, parse_crn_query
from strongroom.kms.crypto.backend import CryptoBackend
from strongroom.kms.errors import KmsError
from strongroom.kms.keys import KeyLoader
from strongroom.kms.models import Key, KeyRing, KeyState, Registration, Stamp
from strongroom.kms.paging import Page
from strongroom.kms.ring_access import listable_rings
from strongroom.kms.scope import DEFAULT_RING, require
from strongroom.store.kms_ports import KmsKeyQuery
from strongroom.store.ports import UnitOfWork, UnitOfWorkFactory

CRN_MAX = 1024  # the stored column's width
METADATA_MAX = 4096  # ours: Key Protect documents no limit
WHAT = {
    "create": "Registration could not be created",
    "write": "Registration could not be replaced",
    "merge": "Registration could not be updated",
    "delete": "Registration could not be deleted",
}
ACTIVE_ONLY = frozenset({KeyState.ACTIVE})
NOT_DESTROYED = frozenset({KeyState.ACTIVE, KeyState.SUSPENDED, KeyState.DEACTIVATED})


@dataclass(frozen=True, slots=True)
class RegistrationQuery:
    page: Page
    crn: CrnQuery | None = None
    prevent_key_deletion: bool | None = None

    @classmethod
    def parse(
        cls,
        page: Page,
        crn_query: str | None,
        prevent_key_deletion: bool | None,
        *,
        all_keys: bool,
    ) -> RegistrationQuery:
        crn = None
        if crn_query:
            what = "Registrations could not be listed"
            crn = parse_crn_query(crn_query, all_keys=all_keys, what=what)
        return cls(page, crn, prevent_key_deletion)

    def matches(self, registration: Registration) -> bool:
        if self.crn is not None and not self.crn.matches(registration.resource_crn):
            return False
        wanted = self.prevent_key_deletion
        return wanted is None or registration.prevent_key_deletion is wanted


@dataclass(frozen=True, slots=True)
class RegistrationView:
    registration: Registration
    key_name: str
    to_service: bool  # `registrationMetadata` is shown to services only (spec §3.8)


@dataclass(frozen=True, slots=True)
class RegistrationPage:
    registrations: Sequence[RegistrationView]
    total: int


@dataclass(frozen=True, slots=True)
class Fields:
    """The `registration_input` resource (s2sdoc): what was sent, None for what was not."""

    description: str | None = None
    metadata: str | None = None
    prevent_key_deletion: bool | None = None


def parse_fields(resource: Mapping[str, Any] | None, *, what: str) -> Fields:
    if resource is None:
        return Fields()
    metadata = resource.get("registrationMetadata")
    if metadata is not None and (not isinstance(metadata, str) or len(metadata) > METADATA_MAX):
        raise KmsError(
            "INVALID_FIELD_ERR",
            f"`registrationMetadata` must be a string of at most {METADATA_MAX} characters",
            what=what,
            target="registrationMetadata",
        )
    prevent = resource.get("preventKeyDeletion")
    if prevent is not None and not isinstance(prevent, bool):
        raise KmsError(
            "INVALID_FIELD_ERR",
            "`preventKeyDeletion` must be true or false",
            what=what,
            target="preventKeyDeletion",
        )
    description = resource.get("description")
    if description is not None:
        description = names.description(description, what=what)
    return Fields(description, metadata, prevent)


class RegistrationService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, backend: CryptoBackend) -> None:
        self._uow = uow
        self._clock = clock
        self._load = KeyLoader(clock, backend)

    # -- lists (anyone with the list actions) ---------------------------------------------------

    def list_for_key(
        self, guard: Guard, instance_id: str, ref: str, query: RegistrationQuery
    ) -> RegistrationPage:
        """`GET /keys/{id}/registrations`: checked on the key."""
        with self._uow() as uow:
            _, key = self._load.authorized(uow, guard, instance_id, ref)
            found = [r for r in uow.registrations.of_key(key.id) if query.matches(r)]
            to_service = calling_service(uow, guard.principal) is not None
        views = [RegistrationView(r, key.name, to_service) for r in found]
        return RegistrationPage(query.page.cut(views), len(views))

    def list_all(
        self, guard: Guard, instance_id: str, ring: str | None, query: RegistrationQuery
    ) -> RegistrationPage:
        """`GET /keys/registrations`: those of the keys in the rings the caller may list."""
        with self._uow() as uow:
            scope = self._load.scope(uow, guard, instance_id)
            rings = [KeyRing(scope.id, DEFAULT_RING, None), *uow.key_rings.list(scope.id)]
            allowed = listable_rings(guard, scope, [r.id for r in rings], ring)
            keys = {k.id: k for k in uow.kms_keys.list(KmsKeyQuery(scope.id))}
            found = [
                r
                for r in uow.registrations.of_instance(scope.id)
                if r.key_id in keys and keys[r.key_id].key_ring_id in allowed and query.matches(r)
            ]
            to_service = calling_service(uow, guard.principal) is not None
        views = [RegistrationView(r, keys[r.key_id].name, to_service) for r in found]
        return RegistrationPage(query.page.cut(views), len(views))

    # -- changes (services only) ----------------------------------------------------------------

    def create(
        self, guard: Guard, instance_id: str, ref: str, crn: str, fields: Fields
    ) -> RegistrationView:
        now = self._clock.now()
        stamp = Stamp(now, guard.principal.iam_id)
        with self._uow(write=True) as uow:
            key = self._service_key(uow, guard, instance_id, ref, crn, "create")
            registration = Registration(
                key_id=key.id,
                instance_id=key.instance_id,
                resource_crn=crn,
                description=fields.description or "",
                prevent_key_deletion=bool(fields.prevent_key_deletion),
                metadata=fields.metadata or "",
                key_version_id=key.version_id,
                key_version_created_at=key.version_created_at,
                created=stamp,
                updated=stamp,
            )
            if not uow.registrations.add(registration):
                raise KmsError(
                    "REGISTRATION_ALREADY_EXISTS_ERR",
                    f"key `{key.id}` already has a registration for `{crn}`",
                    what=WHAT["create"],
                )
        return RegistrationView(registration, key.name, True)

    def change(
        self, guard: Guard, instance_id: str, ref: str, crn: str, fields: Fields, *, merge: bool
    ) -> RegistrationView:
        """PUT (`merge` False) replaces every field and records the key's current version;
        PATCH (`merge` True) changes only the fields it sends."""
        action = "merge" if merge else "write"
        stamp = Stamp(self._clock.now(), guard.principal.iam_id)
        with self._uow(write=True) as uow:
            key = self._service_key(uow, guard, instance_id, ref, crn, action)
            current = self._existing(uow, key, crn, action)
            if merge:
                changed = replace(
                    current,
                    description=_given(fields.description, current.description),
                    metadata=_given(fields.metadata, current.metadata),
                    prevent_key_deletion=_given(
                        fields.prevent_key_deletion, current.prevent_key_deletion
                    ),
                    updated=stamp,
                )
            else:
                changed = replace(
                    current,
                    description=fields.description or "",
                    metadata=fields.metadata or "",
                    prevent_key_deletion=bool(fields.prevent_key_deletion),
                    key_version_id=key.version_id,
                    key_version_created_at=key.version_created_at,
                    updated=stamp,
                )
            uow.registrations.update(changed)
        return RegistrationView(changed, key.name, True)

    def delete(self, guard: Guard, instance_id: str, ref: str, crn: str) -> None:
        with self._uow(write=True) as uow:
            key = self._service_key(uow, guard, instance_id, ref, crn, "delete")
            self._existing(uow, key, crn, "delete")
            uow.registrations.remove(key.id, crn)

    def _service_key(
        self, uow: UnitOfWork, guard: Guard, instance_id: str, ref: str, crn: str, action: str
    ) -> Key:
        """The key, once the route's action is permitted on it, the caller is a service that
        owns `crn`, the key is a root key and its state allows `action`."""
        what = WHAT[action]
        _, key = self._load.authorized(uow, guard, instance_id, ref)
        service = require_service(uow, guard.principal, what=what)
        _check_resource(service, crn, what)
        if not key.is_root:
            raise KmsError(
                "KEY_ROOT_REQ_REG_ERR",
                f"key `{key.id}` is a standard key; resources are registered with root keys only",
                what=what,
            )
        if key.state not in (NOT_DESTROYED if action == "delete" else ACTIVE_ONLY):
            if key.state is KeyState.DESTROYED:
                raise KmsError("KEY_DELETED_ERR", f"key `{key.id}` has been deleted", what=what)
            raise KmsError(
                "KEY_INVALID_STATE_ERR",
                f"key `{key.id}` is in state {int(key.state)}; registrations are made and changed"
                " with an active key",
                what=what,
            )
        return key

    @staticmethod
    def _existing(uow: UnitOfWork, key: Key, crn: str, action: str) -> Registration:
        found = uow.registrations.get(key.id, crn)
        if found is None:
            raise KmsError(
                "REGISTRATION_NOT_FOUND_ERR",
                f"key `{key.id}` has no registration for `{crn}`",
                what=WHAT[action],
            )
        return found

    # -- event acknowledgement (spec §3.8 "Hyperwarp") ------------------------------------------

    def acknowledge(
        self, guard: Guard, instance_id: str, ring: str | None, events: Sequence[Mapping[str, Any]]
    ) -> None:
        """`POST /event_ack`: a registered service confirms it acted on a key event. strongroom
        sends no key events yet, so an acknowledgement is checked and answered, not stored."""
        what = "Event acknowledgement could not be created"
        for event in events:
            _check_event(event, what)
        with self._uow() as uow:
            scope = self._load.scope(uow, guard, instance_id)
            require(guard, scope, scope.resource(ring))
            require_service(uow, guard.principal, what=what)


def _given(value: Any, current: Any) -> Any:
    return current if value is None else value


def _check_resource(service: CallingService, crn: str, what: str) -> None:
    try:
        CRN.parse(crn)
    except ValueError:
        raise KmsError(
            "INVALID_FIELD_ERR",
            f"`{crn}` is not a CRN: the path names the resource as a URL-encoded"
            " crn:v1:<cname>:<ctype>:<service>:<location>:<scope>:<instance>:<type>:<resource>",
            what=what,
        ) from None
    if len(crn) > CRN_MAX:
        raise KmsError(
            "INVALID_FIELD_ERR", f"a resource CRN has at most {CRN_MAX} characters", what=what
        )
    if not service.owns(crn):
        raise KmsError(
            "RESOURCE_OWNER_ERR",
            f"`{crn}` is not a resource of the calling service instance `{service.instance_crn}`",
            what=what,
        )


def _check_event(event: Mapping[str, Any], what: str) -> None:
    """An `event_acknowledge` resource: `eventId`, `adopterKeyState` and an RFC 3339
    `timestamp` are required; `keyStateData.rewrappedKeyVersion` is a version id if given."""
    for name in ("eventId", "adopterKeyState"):
        value = event.get(name)
        if not isinstance(value, str) or not value:
            raise KmsError(
                "INVALID_FIELD_ERR", f"`{name}` is required: a string", what=what, target=name
            )
    stamp = event.get("timestamp")
    if not isinstance(stamp, str) or names.parse_rfc3339(stamp) is None:
        raise KmsError(
            "INVALID_FIELD_ERR",
            "`timestamp` is required: an RFC 3339 date such as 2030-01-01T00:00:00Z",
            what=what,
            target="timestamp",
        )
    data = event.get("keyStateData")
    version = data.get("rewrappedKeyVersion") if isinstance(data, dict) else None
    if (data is not None and not isinstance(data, dict)) or (
        version is not None and not isinstance(version, str)
    ):
        raise KmsError(
            "INVALID_FIELD_ERR",
            "`keyStateData` must be an object whose `rewrappedKeyVersion` is a key version id",
            what=what,
            target="keyStateData",
        )
