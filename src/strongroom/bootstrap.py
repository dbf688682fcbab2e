"""The only module that picks concrete classes and wires them: Settings -> root key -> database
(migrated) -> unit of work -> services -> authorizer -> app."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import timedelta

from fastapi import FastAPI

from strongroom import rootkey
from strongroom.access.decisions import DecisionPoint
from strongroom.access.group_members import join_groups, leave_all_groups
from strongroom.access.groups import GroupService
from strongroom.access.owner import grant_owner
from strongroom.access.policies import PolicyService
from strongroom.access.roles import RoleService
from strongroom.access.settings import AccessSettingsService
from strongroom.api.app import create_app
from strongroom.api.container import Container
from strongroom.audit import salt as audit_salt
from strongroom.audit.chain import HeadSigner
from strongroom.audit.coalesce import DenialCoalescer
from strongroom.audit.hashing import AuditHasher
from strongroom.audit.service import AuditService
from strongroom.audit.sinks import FileSink, Sink
from strongroom.audit.writer import AuditWriter
from strongroom.authz import LocalAuthorizer
from strongroom.clock import Clock, SystemClock
from strongroom.config import Settings
from strongroom.errors import ConfigurationError
from strongroom.identity.account_settings import AccountSettingsService
from strongroom.identity.key_checks import KeyChecks
from strongroom.identity.lockout import Lockout, LockoutPolicy
from strongroom.identity.profile_parts import ProfilePartService
from strongroom.identity.profiles import ProfileHook, ProfileService
from strongroom.identity.requests import NewAccount
from strongroom.identity.service import AccountHook, IdentityService
from strongroom.identity.users import UserService
from strongroom.kms.aliases import AliasService
from strongroom.kms.crypto.software import SoftwareBackend
from strongroom.kms.import_tokens import ImportTokenService
from strongroom.kms.key_rings import KeyRingService
from strongroom.kms.keys import KmsKeyService
from strongroom.kms.policies import KmsPolicyService, policies_for_new_key
from strongroom.kms.registrations import RegistrationService
from strongroom.kms.sweep import KmsSweep
from strongroom.kms.wrapping import WrapService
from strongroom.limits import LimitsError, load_limits
from strongroom.periodic import Periodic
from strongroom.policy import load_catalog
from strongroom.ratelimit import RateLimiter
from strongroom.resources.account_groups import AccountGroupService
from strongroom.resources.enterprises import EnterpriseService
from strongroom.resources.groups import GroupInUse, ResourceGroupService, find_resource_group
from strongroom.resources.instances import InstanceService
from strongroom.resources.instances import group_in_use as instances_in_group
from strongroom.resources.keys import KeyService
from strongroom.resources.plans import load_plans
from strongroom.resources.quotas import load_quotas
from strongroom.resources.reclamations import ReclamationService
from strongroom.store.sql import migrate
from strongroom.store.sql.engine import Database, create_database
from strongroom.store.sql.notify import AccessListener
from strongroom.store.sql.uow import SqlUnitOfWorkFactory
from strongroom.tokens.cr_tokens import CrTokenVerifier, IssuerConfigError, parse_issuers
from strongroom.tokens.profile_grants import ProfileGrants
from strongroom.tokens.service import TokenService, TokenSettings

# The IBM CLI's public client (spec §3.1): HTTP Basic `bx:bx` asks for a real refresh token.
PUBLIC_CLIENTS = {"bx": "bx"}


@dataclass
class Runtime:
    settings: Settings
    database: Database
    uow: SqlUnitOfWorkFactory
    container: Container
    app: FastAPI
    first_start: NewAccount | None  # set when this start created the first account
    background: list[Periodic] = field(default_factory=list)
    # Change notices from the other nodes (PostgreSQL, cached mode; store/sql/notify.py).
    listener: AccessListener | None = None

    def start_background(self) -> None:
        """Start the housekeeping threads (`strongroom serve` does; tests call the tasks
        themselves): the key-management sweep every `kms_sweep_seconds`, unless 0."""
        if self.background:
            return
        every = self.settings.kms_sweep_seconds
        if every > 0:
            self.background.append(Periodic("kms-sweep", every, self.container.kms_sweep.sweep))
        window = self.settings.audit_denial_window_seconds
        if window > 0:
            # The counts of repeated 401s, written once their window has ended (A3).
            audit = self.container.audit
            self.background.append(
                Periodic("audit-flush", window, lambda: audit.flush_denials(audit.clock.now()))
            )
        for task in self.background:
            task.start()

    def close(self) -> None:
        for task in self.background:
            task.stop()
        self.container.audit.flush_denials()  # no counted 401 is lost on a clean shutdown
        if self.listener is not None:
            self.listener.stop()
        self.database.dispose()


def build(
    settings: Settings, clock: Clock | None = None, kms_clock: Clock | None = None
) -> Runtime:
    """`kms_clock`: the clock of the key-management timing rules alone (spec kms-api.md §2.2),
    so a test can move key lifecycles by hours while tokens keep real time."""
    clock = clock or SystemClock()
    kms_clock = kms_clock or clock
    try:
        # IBM's account limits with the operator's overrides (docs/user-guide.md "Limits"),
        # checked before anything is opened or written.
        limits = load_limits(settings.limits)
    except LimitsError as exc:
        raise ConfigurationError(f"STRONGROOM_LIMITS: {exc}") from exc
    configured = settings.root_key.get_secret_value() if settings.root_key else None
    try:
        root = rootkey.load_or_create(settings.resolved_root_key_file(), configured)
    except rootkey.RootKeyError as exc:
        raise ConfigurationError(str(exc)) from exc
    database = create_database(
        settings.resolved_database_url(), synchronous=settings.sqlite_synchronous
    )
    try:
        migrate.upgrade(database)
        uow = SqlUnitOfWorkFactory(database)
        with uow(write=True) as unit:
            check = root.check_value()
            stored = unit.meta.get("root_key_check") or ""
            # compare_digest: a check value is derived from the root key (reliability.md T5).
            if not unit.meta.put_new("root_key_check", check) and not hmac.compare_digest(
                stored.encode(), check.encode()
            ):
                raise ConfigurationError(
                    "the root key does not belong to this database; "
                    "start with the root key it was created with"
                )
        audit_writer = _audit_writer(settings, root, uow)
        catalog = load_catalog()
        # Resource Manager (spec §7). A group is deleted only while every check here says it
        # holds nothing (service instances add theirs); every account gets a `Default` group.
        # A group holding instances is not deleted (spec §7).
        group_in_use: list[GroupInUse] = [instances_in_group]
        resource_groups = ResourceGroupService(uow, clock, load_quotas(), group_in_use=group_in_use)
        # Run inside the unit of work that creates any account (first start, enterprises).
        account_created: list[AccountHook] = [grant_owner, resource_groups.add_default_group]
        identity = IdentityService(
            uow,
            clock,
            root.pepper("apikey"),
            root.sealer("apikey"),
            on_account_created=account_created,
            limits=limits,
        )
        token_settings = TokenSettings(
            issuer=f"{settings.resolved_public_url()}/identity",
            access_ttl=settings.access_token_ttl,
            refresh_ttl=settings.refresh_token_ttl,
            rotation_after=timedelta(days=settings.signing_key_rotation_days),
            leeway=settings.clock_skew_seconds,
            clients=dict(PUBLIC_CLIENTS),
        )
        account_settings = AccountSettingsService(uow, clock)
        tokens = TokenService(
            uow,
            clock,
            identity,
            root.sealer("signing-key"),
            root.pepper("refresh-token"),
            token_settings,
            account_lifetimes=account_settings.token_lifetimes,  # spec §4.4
        )
        tokens.start()
        first = None
        if identity.account_count() == 0:
            value = (
                settings.bootstrap_apikey.get_secret_value() if settings.bootstrap_apikey else None
            )
            first = identity.create_account(
                settings.account_name, settings.owner_email, value, first=True
            )
        authorizer = LocalAuthorizer(
            uow,
            catalog,
            clock,
            max_staleness=settings.max_staleness,
            strong=settings.consistency == "strong",
            max_accounts=settings.policy_cache_accounts,
        )
        # Run inside a profile's delete: the profile leaves its access groups with it.
        on_profile_deleted: list[ProfileHook] = [
            lambda unit, profile: leave_all_groups(unit, profile.account_id, profile.iam_id)
        ]
        profiles = ProfileService(
            uow,
            clock,
            on_change=authorizer.invalidate,
            on_profile_deleted=on_profile_deleted,
            limits=limits,
        )
        cr_tokens = _cr_token_verifier(settings, clock)
        policies = PolicyService(
            uow, clock, catalog, on_change=authorizer.invalidate, limits=limits
        )
        # Membership changes drop the account's cached set like policy changes. An invitation
        # adds the user to its access groups; a removed user leaves them (spec §10).
        users = UserService(
            uow,
            clock,
            policies,
            on_change=authorizer.invalidate,
            add_to_groups=lambda unit, account, iam_id, groups, actor: join_groups(
                unit, account, iam_id, groups, actor, clock.now(), limits.access_groups_per_member
            ),
            on_user_removed=[leave_all_groups],
        )
        # Resource Controller (spec §8). A key's policy changes access: the authorizer drops
        # the account's cached set once the key's unit of work commits.
        keys = KeyService(uow, clock, catalog, identity, policies, on_change=authorizer.invalidate)
        instances = InstanceService(
            uow,
            clock,
            load_plans(),
            find_resource_group=find_resource_group,
            remove_keys=keys.remove_all_in,
            on_change=authorizer.invalidate,
        )
        # Key management (spec kms-api.md): key material sealed under per-instance master
        # keys, which the server root key seals. The software backend is not an HSM.
        backend = SoftwareBackend(root)
        audit = AuditService(
            uow,
            clock,
            audit_writer,
            DenialCoalescer(settings.audit_denial_window_seconds),
        )
        container = Container(
            settings=settings,
            identity=identity,
            tokens=tokens,
            key_checks=KeyChecks(
                identity,
                Lockout(uow, clock, _lockout_policy(settings)),
                RateLimiter(settings.rate_limit_per_apikey, clock),
            ),
            source_limits=RateLimiter(settings.rate_limit_per_source, clock),
            authorizer=authorizer,
            # Same LocalAuthorizer, so /v2/authz decides from the same cached policy sets.
            decisions=DecisionPoint(authorizer, clock),
            # Policy and role writes drop the account's compiled set once they commit, so the
            # next check on this node sees them; seed 003 table 4 asks the same authorizer.
            policies=policies,
            roles=RoleService(uow, clock, catalog, on_change=authorizer.invalidate, limits=limits),
            access_settings=AccessSettingsService(uow, clock),
            profiles=profiles,
            profile_parts=ProfilePartService(uow, clock),
            profile_grants=ProfileGrants(tokens, profiles, cr_tokens),
            # IAM Access Groups: membership changes drop the account's cached memberships too.
            groups=GroupService(uow, clock, on_change=authorizer.invalidate, limits=limits),
            users=users,
            account_settings=account_settings,
            # Enterprise Management: new accounts get their owner's policies and a Default
            # resource group like any account (the same hooks as IdentityService), and are live
            # on this node at once.
            enterprises=EnterpriseService(
                uow,
                clock,
                identity,
                on_account_created=account_created,
                on_change=authorizer.invalidate,
            ),
            account_groups=AccountGroupService(uow, clock),
            resource_groups=resource_groups,
            instances=instances,
            keys=keys,
            reclamations=ReclamationService(uow, clock),
            kms_clock=kms_clock,
            # Instance policies decide whether a key may be created or imported and give new
            # keys their dual authorization and rotation policy (spec kms-api.md §3.1).
            kms_keys=KmsKeyService(uow, kms_clock, backend, new_key_policies=policies_for_new_key),
            kms_wrap=WrapService(uow, kms_clock, backend),
            kms_import_tokens=ImportTokenService(uow, kms_clock, backend),
            kms_rings=KeyRingService(uow, kms_clock, backend),
            kms_aliases=AliasService(uow, kms_clock, backend),
            kms_registrations=RegistrationService(uow, kms_clock, backend),
            kms_policies=KmsPolicyService(
                uow,
                kms_clock,
                backend,
                private_endpoint_port=settings.kms_private_endpoint_port or settings.port,
            ),
            kms_sweep=KmsSweep(uow, kms_clock, backend, audit=audit),
            # Every mutation, denial and key operation leaves one event (reliability.md A3).
            audit=audit,
        )
        runtime = Runtime(settings, database, uow, container, create_app(container), first)
        if database.dialect == "postgresql" and settings.consistency == "cached":
            # Part of the cache's correctness, not housekeeping: started with every runtime.
            # Should LISTEN be slow to take effect, the revision check still bounds staleness.
            runtime.listener = AccessListener(
                settings.resolved_database_url(), authorizer.invalidate, authorizer.invalidate_all
            )
            runtime.listener.start()
        return runtime
    except BaseException:
        database.dispose()
        raise


def _audit_writer(
    settings: Settings, root: rootkey.RootKey, uow: SqlUnitOfWorkFactory
) -> AuditWriter:
    """The audit trail's sinks and secrets (reliability.md A3): the per-deployment salt of
    hashed fields, made on first start and stored sealed; the chain heads' signing key,
    derived from the root key and never stored; the database and an optional file sink."""
    signer = HeadSigner(root.derive("audit chain head v1"))
    with uow(write=True) as unit:
        salt = audit_salt.load_or_create(unit.meta, root.sealer("audit-salt"))
        # Heads stored before they were signed (migration 0013): signed once, as they stand.
        if unit.meta.put_new("audit_heads_signed", "1"):
            unit.audit_log.sign_unsigned_heads(signer)
    sinks: list[Sink] = []
    if settings.audit_file is not None:
        try:
            settings.audit_file.parent.mkdir(parents=True, exist_ok=True)
            FileSink(settings.audit_file).check()
        except OSError as exc:
            raise ConfigurationError(
                f"STRONGROOM_AUDIT_FILE: cannot append to {settings.audit_file}: {exc}"
            ) from exc
        sinks.append(FileSink(settings.audit_file))
    return AuditWriter(AuditHasher(salt), signer, sinks, fail_closed=settings.audit_fail_closed)


def _lockout_policy(settings: Settings) -> LockoutPolicy:
    return LockoutPolicy(
        failures=settings.lockout_failures,
        window=settings.lockout_window_seconds,
        wait=settings.lockout_wait_seconds,
        max_wait=max(settings.lockout_max_wait_seconds, settings.lockout_wait_seconds),
        reset=settings.lockout_reset_seconds,
    )


def _cr_token_verifier(settings: Settings, clock: Clock) -> CrTokenVerifier | None:
    """The trusted compute-resource issuers (STRONGROOM_CR_TOKEN_ISSUERS), if configured."""
    path = settings.cr_token_issuers
    if path is None:
        return None
    try:
        issuers = parse_issuers(path.read_text())
    except OSError as exc:
        raise ConfigurationError(f"cannot read the CR token issuers file {path}: {exc}") from exc
    except IssuerConfigError as exc:
        raise ConfigurationError(f"{path}: {exc}") from exc
    return CrTokenVerifier(issuers, clock, settings.clock_skew_seconds)
