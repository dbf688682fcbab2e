"""IAM Identity use cases (spec §4.1 API keys, §4.2 service IDs) and API-key authentication.

Every use case that a route calls takes that route's `Guard` and checks it against the resource
before it reads or writes anything a caller could learn from. Each runs in one unit of work, so
a refused request writes nothing.

Limits (limits.yaml; reliability.md §4, C7): service IDs per account and API keys per identity
are counted under the account's row lock (`accounts.lock`), taken before the insert in the same
unit of work, so concurrent creates never pass them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from strongroom import ids
from strongroom.authz import Guard, Resource
from strongroom.clock import Clock
from strongroom.errors import (
    Conflict,
    Forbidden,
    Invalid,
    Locked,
    NotFound,
    PreconditionFailed,
    QuotaExceeded,
)
from strongroom.identity import apikeys
from strongroom.identity.account_settings import member_may_create
from strongroom.identity.models import (
    Account,
    AccountRole,
    ApiKey,
    HistoryRecord,
    Membership,
    OwnerKind,
    ServiceId,
    User,
    first_version,
    next_version,
)
from strongroom.identity.requests import (
    ApiKeyChanges,
    CreatedApiKey,
    NewAccount,
    NewApiKey,
    ServiceIdChanges,
    check_crns,
    check_description,
    check_if_match,
    check_name,
)
from strongroom.identity.user_models import INVITED_STATES, MemberState
from strongroom.limits import Limits, load_limits
from strongroom.rootkey import Pepper, Sealer
from strongroom.store.ports import ListQuery, Page, UnitOfWork, UnitOfWorkFactory
from strongroom.tokens.claims import Subject

SERVICE = "iam-identity"

AccountHook = Callable[[UnitOfWork, Account, User], None]


def key_value_not_found() -> NotFound:
    """The one answer for an API key value that finds no key the caller may see (also given
    during a lockout, identity/key_checks.py, so the two cannot be told apart)."""
    return NotFound("API key", "given in the IAM-ApiKey header")


class KeyValueInUse(Conflict):
    """A caller-chosen API key value another key already has: an answer about a value, so it
    is also the answer during a lockout (identity/key_checks.py)."""

    def __init__(self) -> None:
        super().__init__("that API key value is already in use; choose another")


class IdentityService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        pepper: Pepper,
        sealer: Sealer,
        *,
        on_account_created: Sequence[AccountHook] = (),
        limits: Limits | None = None,
    ) -> None:
        self._limits = limits or load_limits()
        self._uow = uow
        self._clock = clock
        self._pepper = pepper
        self._sealer = sealer
        # Run inside the unit of work that creates an account (e.g. the owner's policies).
        self._on_account_created = tuple(on_account_created)

    # -- accounts -------------------------------------------------------------------------------

    def create_account(
        self, name: str, owner_email: str, owner_key_value: str | None, *, first: bool = False
    ) -> NewAccount | None:
        """A new account with its owner user and the owner's first API key (seed 003 table 1).

        With `first=True` this is the server's first start: the account is made only if no other
        node has made the first account already (None then), decided inside the transaction.
        """
        now = self._clock.now()
        given, _, family = owner_email.partition("@")[0].partition(".")
        owner = User(ids.new_user_iam_id(), owner_email, given.title(), family.title(), now)
        account = Account(ids.new_account_id(), name, owner.iam_id, now)
        with self._uow(write=True) as uow:
            if first and not uow.meta.put_new("first_account", account.id):
                return None
            uow.accounts.add(account)
            uow.users.add(owner)
            uow.users.add_membership(Membership(account.id, owner.iam_id, AccountRole.OWNER, now))
            for hook in self._on_account_created:
                hook(uow, account, owner)
            record = self._record(owner.iam_id, account.id, "create", "Created API key", ["name"])
            created = self._new_key(
                uow,
                account_id=account.id,
                iam_id=owner.iam_id,
                kind=OwnerKind.USER,
                spec=NewApiKey(
                    name="owner", description="created at first start", value=owner_key_value
                ),
                created_by=owner.iam_id,
                record=record,
            )
        return NewAccount(account, owner, created)

    def add_admin_service_id(
        self, uow: UnitOfWork, *, account_id: str, name: str, by: str
    ) -> tuple[ServiceId, CreatedApiKey]:
        """A service ID with one API key (value shown once), in the caller's unit of work: what an
        enterprise makes in a new account on request (spec §9). The caller grants its policies."""
        now = self._clock.now()
        record = self._record(by, account_id, "create", "Created service ID", ["name"])
        sid_id = ids.new_service_id()
        service_id = ServiceId(
            id=sid_id,
            iam_id=ids.service_id_iam_id(sid_id),
            account_id=account_id,
            name=check_name(name, "service ID"),
            description="",
            unique_instance_crns=(),
            locked=False,
            meta=first_version(now, by, record),
        )
        uow.service_ids.add(service_id)
        created = self._new_key(
            uow,
            account_id=account_id,
            iam_id=service_id.iam_id,
            kind=OwnerKind.SERVICE_ID,
            spec=NewApiKey(name=name, description=""),
            created_by=by,
            record=self._record(by, account_id, "create", "Created API key", ["name"]),
        )
        return service_id, created

    def account_count(self) -> int:
        with self._uow() as uow:
            return uow.accounts.count()

    # -- authentication -------------------------------------------------------------------------

    def authenticate(self, value: str) -> tuple[ApiKey, Subject] | None:
        """The key and its identity if `value` is a usable API key, else None.

        Unknown, disabled and expired keys, and keys whose owner is gone, all answer None:
        the token endpoint then gives one answer for all of them.
        """
        digest = self._pepper.digest(value)
        now = self._clock.now()
        with self._uow() as uow:
            key = uow.api_keys.get_by_digest(digest)
            if key is None or not self._pepper.matches(value, key.value_digest):
                return None
            if key.disabled or key.expired(now):
                return None
            subject = self._subject(uow, key)
        return None if subject is None else (key, subject)

    def subject_for_key(self, uow: UnitOfWork, key_id: str) -> Subject | None:
        """The identity behind a still-usable API key, read in the caller's unit of work
        (the refresh grant re-checks the key inside its own transaction)."""
        key = uow.api_keys.get(key_id)
        if key is None or key.disabled or key.expired(self._clock.now()):
            return None
        return self._subject(uow, key)

    @staticmethod
    def _subject(uow: UnitOfWork, key: ApiKey) -> Subject | None:
        account = uow.accounts.get(key.account_id)
        if account is None or account.state != "ACTIVE":
            return None  # a deleted account's keys give no token (spec §9 delete_account)
        if key.owner_kind is OwnerKind.SERVICE_ID:
            sid = uow.service_ids.get_by_iam_id(key.iam_id)
            if sid is None:
                return None
            return Subject(
                iam_id=sid.iam_id,
                account_id=sid.account_id,
                realm="iam",
                identifier=sid.id,
                sub=sid.id,
                sub_type="ServiceId",
                name=sid.name,
            )
        found = uow.users.member(key.account_id, key.iam_id)
        # A removed user gets no token. An invited one does, so that they can accept (spec §10);
        # the authorizer lets a PENDING member do nothing else.
        usable = {MemberState.ACTIVE.value, *INVITED_STATES}
        if found is None or found[1].state not in usable:
            return None
        user = found[0]
        return Subject(
            iam_id=user.iam_id,
            account_id=key.account_id,
            realm=user.realm,
            identifier=user.iam_id.removeprefix(f"{user.realm}-"),
            sub=user.email,
            sub_type=None,
            name=user.name,
            given_name=user.given_name,
            family_name=user.family_name,
            email=user.email,
        )

    # -- service IDs ----------------------------------------------------------------------------

    def create_service_id(
        self,
        guard: Guard,
        *,
        account_id: str,
        name: str,
        description: str = "",
        unique_instance_crns: tuple[str, ...] = (),
        locked: bool = False,
        apikey: NewApiKey | None = None,
    ) -> tuple[ServiceId, CreatedApiKey | None]:
        self._require_create(
            guard, Resource(account_id, SERVICE, "serviceid"), "restrict_create_service_id"
        )
        with self._uow(write=True) as uow:
            return self.add_service_id_in(
                uow,
                account_id=account_id,
                name=name,
                by=guard.principal.iam_id,
                by_account=guard.principal.account_id,
                description=description,
                unique_instance_crns=unique_instance_crns,
                locked=locked,
                apikey=apikey,
            )

    def add_service_id_in(
        self,
        uow: UnitOfWork,
        *,
        account_id: str,
        name: str,
        by: str,
        by_account: str,
        description: str = "",
        unique_instance_crns: tuple[str, ...] = (),
        locked: bool = False,
        apikey: NewApiKey | None = None,
    ) -> tuple[ServiceId, CreatedApiKey | None]:
        """A service ID (and its first API key) in the caller's unit of work, with no check of
        who asks: `create_service_id` is this after its guard; a resource key (spec §8) makes
        its service ID on the platform's authority, as IBM's resource controller does."""
        check_name(name, "service ID")
        check_description(description)
        check_crns(unique_instance_crns)
        now = self._clock.now()
        sid_id = ids.new_service_id()
        service_id = ServiceId(
            id=sid_id,
            iam_id=ids.service_id_iam_id(sid_id),
            account_id=account_id,
            name=name,
            description=description,
            unique_instance_crns=unique_instance_crns,
            locked=locked,
            meta=first_version(
                now, by, self._record(by, by_account, "create", "Created service ID", ["name"])
            ),
        )
        self._lock_account(uow, account_id)
        most = self._limits.service_ids_per_account
        if uow.service_ids.count(account_id) >= most:
            raise QuotaExceeded(
                f"account `{account_id}` already has {most} service IDs, the most allowed"
                " (limit `service_ids_per_account`); delete one first"
            )
        uow.service_ids.add(service_id)
        created = None
        if apikey is not None:
            created = self._new_key(
                uow,
                account_id=account_id,
                iam_id=service_id.iam_id,
                kind=OwnerKind.SERVICE_ID,
                spec=apikey,
                created_by=by,
                record=self._record(by, by_account, "create", "Created API key", ["name"]),
            )
        return service_id, created

    def list_service_ids(self, guard: Guard, query: ListQuery) -> Page[ServiceId]:
        guard.require(Resource(query.account_id, SERVICE, "serviceid"))
        with self._uow() as uow:
            return uow.service_ids.list(query)

    def get_service_id(self, guard: Guard, service_id: str) -> ServiceId:
        with self._uow() as uow:
            return self._load_service_id(uow, guard, service_id)

    def update_service_id(
        self, guard: Guard, service_id: str, if_match: str | None, changes: ServiceIdChanges
    ) -> ServiceId:
        with self._uow(write=True) as uow:
            current = self._load_service_id(uow, guard, service_id)
            check_if_match(if_match, current.meta.entity_tag)
            if current.locked:
                raise Locked("service ID", service_id)
            params = [
                n
                for n in ("name", "description", "unique_instance_crns")
                if getattr(changes, n) is not None
            ]
            updated = replace(
                current,
                name=check_name(changes.name, "service ID")
                if changes.name is not None
                else current.name,
                description=(
                    check_description(changes.description)
                    if changes.description is not None
                    else current.description
                ),
                unique_instance_crns=(
                    check_crns(changes.unique_instance_crns)
                    if changes.unique_instance_crns is not None
                    else current.unique_instance_crns
                ),
                meta=next_version(
                    current.meta,
                    self._clock.now(),
                    self._record_for(guard, "update", "Updated service ID", params),
                ),
            )
            if not uow.service_ids.update(updated, expected_tag=current.meta.entity_tag):
                raise PreconditionFailed(
                    f"service ID `{service_id}` changed meanwhile; read it again"
                )
            return updated

    def delete_service_id(self, guard: Guard, service_id: str) -> None:
        """Deletes the service ID and, first, its API keys (spec §4.2)."""
        with self._uow(write=True) as uow:
            current = self._load_service_id(uow, guard, service_id)
            self.remove_service_id_in(uow, current)

    @staticmethod
    def remove_service_id_in(uow: UnitOfWork, current: ServiceId) -> None:
        """Delete a service ID and its API keys in the caller's unit of work, refusing while it
        or one of its keys is locked (`delete_service_id` after its guard; a resource key's
        delete, spec §8)."""
        if current.locked:
            raise Locked("service ID", current.id)
        page = uow.api_keys.list(
            ListQuery(account_id=current.account_id, iam_id=current.iam_id, limit=10_000)
        )
        locked = [k.id for k in page.items if k.locked]
        if locked:
            raise Conflict(
                f"service ID `{current.id}` has locked API keys ({', '.join(locked)});"
                " unlock them first"
            )
        uow.api_keys.delete_owned_by(current.iam_id)
        uow.service_ids.delete(current.id)

    def set_service_id_lock(self, guard: Guard, service_id: str, locked: bool) -> None:
        with self._uow(write=True) as uow:
            current = self._load_service_id(uow, guard, service_id)
            if current.locked == locked:
                return
            action = "lock" if locked else "unlock"
            updated = replace(
                current,
                locked=locked,
                meta=next_version(
                    current.meta,
                    self._clock.now(),
                    self._record_for(guard, action, f"{action.title()}ed service ID", []),
                ),
            )
            if not uow.service_ids.update(updated, expected_tag=current.meta.entity_tag):
                raise PreconditionFailed(f"service ID `{service_id}` changed meanwhile; try again")

    def _load_service_id(self, uow: UnitOfWork, guard: Guard, service_id: str) -> ServiceId:
        missing = NotFound("service ID", service_id)
        found = uow.service_ids.get(service_id)
        if found is None:
            raise missing
        guard.require(Resource(found.account_id, SERVICE, "serviceid", found.id), missing=missing)
        return found

    # -- API keys -------------------------------------------------------------------------------

    def create_api_key(
        self, guard: Guard, *, iam_id: str, account_id: str, spec: NewApiKey
    ) -> CreatedApiKey:
        resource = Resource(account_id, SERVICE, "apikey", attributes={"iam_id": iam_id})
        if iam_id == guard.principal.iam_id:
            self._require_create(guard, resource, "restrict_create_platform_apikey")
        else:
            guard.require(resource)
        with self._uow(write=True) as uow:
            self._lock_account(uow, account_id)
            kind = self._owner_kind(uow, account_id, iam_id)
            most = self._limits.api_keys_per_identity
            if uow.api_keys.count_owned_by(iam_id) >= most:
                raise QuotaExceeded(
                    f"`{iam_id}` already has {most} API keys, the most allowed (limit"
                    " `api_keys_per_identity`); delete one first"
                )
            return self._new_key(
                uow,
                account_id=account_id,
                iam_id=iam_id,
                kind=kind,
                spec=spec,
                created_by=guard.principal.iam_id,
                record=self._record_for(guard, "create", "Created API key", ["name"]),
            )

    def list_api_keys(self, guard: Guard, query: ListQuery) -> Page[ApiKey]:
        attributes = {"iam_id": query.iam_id} if query.iam_id else {}
        guard.require(Resource(query.account_id, SERVICE, "apikey", attributes=attributes))
        with self._uow() as uow:
            return uow.api_keys.list(query)

    def get_api_key(self, guard: Guard, key_id: str) -> ApiKey:
        with self._uow() as uow:
            return self._load_key(uow, guard, key_id)

    def get_api_key_by_value(self, guard: Guard, value: str) -> ApiKey:
        """`GET /v1/apikeys/details` with the `IAM-ApiKey` header: the value finds the key."""
        missing = key_value_not_found()
        with self._uow() as uow:
            key = uow.api_keys.get_by_digest(self._pepper.digest(value))
            if key is None or not self._pepper.matches(value, key.value_digest):
                raise missing
            guard.require(Resource(key.account_id, SERVICE, "apikey", key.id), missing=missing)
            return key

    def reveal(self, key: ApiKey) -> str | None:
        """The value of a retrievable (stored) service-ID key; None for every other key."""
        if key.sealed_value is None:
            return None
        return self._sealer.open(key.sealed_value, aad=key.id.encode()).decode()

    def update_api_key(
        self, guard: Guard, key_id: str, if_match: str | None, changes: ApiKeyChanges
    ) -> ApiKey:
        with self._uow(write=True) as uow:
            current = self._load_key(uow, guard, key_id)
            check_if_match(if_match, current.meta.entity_tag)
            if current.locked:
                raise Locked("API key", key_id)
            fields = ("name", "description", "support_sessions", "action_when_leaked", "expires_at")
            params = [n for n in fields if getattr(changes, n) is not None]
            updated = replace(
                current,
                name=check_name(changes.name, "API key")
                if changes.name is not None
                else current.name,
                description=(
                    check_description(changes.description)
                    if changes.description is not None
                    else current.description
                ),
                support_sessions=(
                    changes.support_sessions
                    if changes.support_sessions is not None
                    else current.support_sessions
                ),
                action_when_leaked=changes.action_when_leaked or current.action_when_leaked,
                expires_at=changes.expires_at
                if changes.expires_at is not None
                else current.expires_at,
                meta=next_version(
                    current.meta,
                    self._clock.now(),
                    self._record_for(guard, "update", "Updated API key", params),
                ),
            )
            if not uow.api_keys.update(updated, expected_tag=current.meta.entity_tag):
                raise PreconditionFailed(f"API key `{key_id}` changed meanwhile; read it again")
            return updated

    def delete_api_key(self, guard: Guard, key_id: str) -> None:
        with self._uow(write=True) as uow:
            current = self._load_key(uow, guard, key_id)
            if current.locked:
                raise Locked("API key", key_id)
            uow.api_keys.delete(key_id)

    def set_api_key_flag(
        self, guard: Guard, key_id: str, *, locked: bool | None = None, disabled: bool | None = None
    ) -> None:
        """Lock/unlock (`locked`) or disable/enable (`disabled`); repeating a state is a no-op."""
        with self._uow(write=True) as uow:
            current = self._load_key(uow, guard, key_id)
            if locked is not None and locked != current.locked:
                action = "lock" if locked else "unlock"
                changed = replace(current, locked=locked)
            elif disabled is not None and disabled != current.disabled:
                action = "disable" if disabled else "enable"
                changed = replace(current, disabled=disabled)
            else:
                return
            updated = replace(
                changed,
                meta=next_version(
                    current.meta,
                    self._clock.now(),
                    self._record_for(guard, action, f"{action.title()}d API key", []),
                ),
            )
            if not uow.api_keys.update(updated, expected_tag=current.meta.entity_tag):
                raise PreconditionFailed(f"API key `{key_id}` changed meanwhile; try again")

    def _require_create(self, guard: Guard, resource: Resource, setting: str) -> None:
        """Creating a service ID, or an API key for oneself: policies decide first; when they
        refuse, an ACTIVE member may still create unless the account's identity setting
        `setting` is RESTRICTED (spec §4.4; docs/user-guide.md "Identity account settings")."""
        try:
            guard.require(resource)
        except Forbidden:
            with self._uow() as uow:
                allowed = member_may_create(uow, guard.principal, resource.account_id, setting)
            if not allowed:
                raise

    def _load_key(self, uow: UnitOfWork, guard: Guard, key_id: str) -> ApiKey:
        missing = NotFound("API key", key_id)
        key = uow.api_keys.get(key_id)
        if key is None:
            raise missing
        resource = Resource(key.account_id, SERVICE, "apikey", key.id, {"iam_id": key.iam_id})
        guard.require(resource, missing=missing)
        return key

    def _owner_kind(self, uow: UnitOfWork, account_id: str, iam_id: str) -> OwnerKind:
        sid = uow.service_ids.get_by_iam_id(iam_id)
        if sid is not None and sid.account_id == account_id:
            return OwnerKind.SERVICE_ID
        if uow.users.membership(account_id, iam_id) is not None:
            return OwnerKind.USER
        raise NotFound("IAM ID", iam_id)

    def _new_key(
        self,
        uow: UnitOfWork,
        *,
        account_id: str,
        iam_id: str,
        kind: OwnerKind,
        spec: NewApiKey,
        created_by: str,
        record: HistoryRecord,
    ) -> CreatedApiKey:
        check_name(spec.name, "API key")
        check_description(spec.description)
        if spec.value is not None and (problem := apikeys.caller_value_problem(spec.value)):
            raise Invalid(problem, field="apikey")
        if spec.store_value and kind is OwnerKind.USER:
            raise Invalid(
                "user API keys cannot be stored; store_value must be false", field="store_value"
            )
        now = self._clock.now()
        if spec.expires_at is not None and spec.expires_at <= now:
            raise Invalid("expires_at must lie in the future", field="expires_at")
        value = spec.value if spec.value is not None else apikeys.generate()
        digest = self._pepper.digest(value)
        if uow.api_keys.get_by_digest(digest) is not None:
            raise KeyValueInUse()
        key_id = ids.new_api_key_id()
        key = ApiKey(
            id=key_id,
            account_id=account_id,
            iam_id=iam_id,
            owner_kind=kind,
            name=spec.name,
            description=spec.description,
            value_digest=digest,
            sealed_value=self._sealer.seal(value.encode(), aad=key_id.encode())
            if spec.store_value
            else None,
            locked=spec.locked,
            disabled=spec.disabled,
            leaked=False,
            support_sessions=spec.support_sessions,
            action_when_leaked=spec.action_when_leaked,
            expires_at=spec.expires_at,
            meta=first_version(now, created_by, record),
        )
        uow.api_keys.add(key)
        return CreatedApiKey(key, value)

    @staticmethod
    def _lock_account(uow: UnitOfWork, account_id: str) -> None:
        """The account must exist; its row lock serialises this account's counted creates."""
        if uow.accounts.lock(account_id) is None:
            raise Invalid(f"account `{account_id}` does not exist", field="account_id")

    def _record(
        self, iam_id: str, account_id: str, action: str, message: str, params: list[str]
    ) -> HistoryRecord:
        return HistoryRecord(self._clock.now(), iam_id, account_id, action, tuple(params), message)

    def _record_for(
        self, guard: Guard, action: str, message: str, params: list[str]
    ) -> HistoryRecord:
        return self._record(
            guard.principal.iam_id, guard.principal.account_id, action, message, params
        )
