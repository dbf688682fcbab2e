"""The unit of work: one transaction, the repositories bound to it, commit or roll back on exit.

A unit of work opened while another is open on the same thread joins it: same connection, same
transaction, and the outer one alone commits or rolls back. That is what a use case needs when it
asks the authorizer, which reads policies, from inside its own transaction; a second connection
would wait on the first's lock (SQLite) or, with one shared connection (in-memory SQLite), fail.
"""

from __future__ import annotations

from contextlib import ExitStack
from types import TracebackType
from typing import Self

from sqlalchemy import Connection

from strongroom.audit import context as audit_context
from strongroom.store.sql import (
    access_repos,
    audit_repos,
    enterprise_repos,
    group_repos,
    instance_repos,
    kms_key_repos,
    kms_repos,
    profile_repos,
    repos,
    resource_repos,
    server_repos,
    user_repos,
)
from strongroom.store.sql.engine import Database


class SqlUnitOfWork:
    accounts: repos.SqlAccounts
    users: repos.SqlUsers
    service_ids: repos.SqlServiceIds
    api_keys: repos.SqlApiKeys
    signing_keys: server_repos.SqlSigningKeys
    refresh_tokens: server_repos.SqlRefreshTokens
    meta: server_repos.SqlMeta
    auth_failures: server_repos.SqlAuthFailures
    policies: access_repos.SqlPolicies
    roles: access_repos.SqlRoles
    revisions: access_repos.SqlRevisions
    access_settings: access_repos.SqlAccessSettings
    # trusted profiles
    profiles: profile_repos.SqlProfiles
    profile_rules: profile_repos.SqlClaimRules
    profile_links: profile_repos.SqlProfileLinks
    profile_identities: profile_repos.SqlProfileIdentities
    # IAM Access Groups
    access_groups: group_repos.SqlAccessGroups
    group_members: group_repos.SqlGroupMembers
    group_rules: group_repos.SqlGroupRules
    group_settings: group_repos.SqlGroupSettings
    federated_logins: group_repos.SqlFederatedLogins
    # users: account memberships and identity settings
    account_users: user_repos.SqlAccountUsers
    identity_settings: user_repos.SqlIdentitySettings
    # enterprises
    enterprises: enterprise_repos.SqlEnterprises
    account_groups: enterprise_repos.SqlAccountGroups
    enterprise_accounts: enterprise_repos.SqlEnterpriseAccounts
    # resource groups (spec §7)
    resource_groups: resource_repos.SqlResourceGroups
    # Resource Controller (spec §8)
    resource_instances: instance_repos.SqlInstances
    resource_keys: instance_repos.SqlResourceKeys
    reclamations: instance_repos.SqlReclamations
    # key management (spec kms-api.md)
    kms_instances: kms_repos.SqlKmsInstances
    kms_keys: kms_key_repos.SqlKmsKeys
    key_versions: kms_key_repos.SqlKeyVersions
    key_rings: kms_repos.SqlKeyRings
    key_aliases: kms_key_repos.SqlAliases
    instance_policies: kms_repos.SqlInstancePolicies
    import_tokens: kms_repos.SqlImportTokens
    registrations: kms_key_repos.SqlRegistrations
    # the audit trail (reliability.md A3)
    audit_log: audit_repos.SqlAuditLog

    def __init__(self, database: Database, *, write: bool) -> None:
        self._database = database
        self._write = write
        self._stack = ExitStack()

    def __enter__(self) -> Self:
        db = self._database
        outer: SqlUnitOfWork | None = getattr(db.active, "uow", None)
        if outer is not None:
            if self._write and not outer._write:
                raise RuntimeError("a write unit of work cannot open inside a read-only one")
            self._joined = True
            self._bind(outer._conn)
            return self
        self._joined = False
        lock = db.write_lock if (self._write or db.serialize_all) else None
        if lock is not None:
            self._stack.enter_context(lock)
        try:
            conn = self._stack.enter_context(db.engine.connect())
            if self._write:
                conn = conn.execution_options(strongroom_write=True)
            self._tx = conn.begin()
        except BaseException:
            self._stack.close()
            raise
        db.active.uow = self
        self._bind(conn)
        return self

    def _bind(self, conn: Connection) -> None:
        self._conn = conn
        self.accounts = repos.SqlAccounts(conn)
        self.users = repos.SqlUsers(conn)
        self.service_ids = repos.SqlServiceIds(conn)
        self.api_keys = repos.SqlApiKeys(conn)
        self.signing_keys = server_repos.SqlSigningKeys(conn)
        self.refresh_tokens = server_repos.SqlRefreshTokens(conn)
        self.meta = server_repos.SqlMeta(conn)
        self.auth_failures = server_repos.SqlAuthFailures(conn)
        self.policies = access_repos.SqlPolicies(conn)
        self.roles = access_repos.SqlRoles(conn)
        self.revisions = access_repos.SqlRevisions(conn)
        self.access_settings = access_repos.SqlAccessSettings(conn)
        # trusted profiles
        self.profiles = profile_repos.SqlProfiles(conn)
        self.profile_rules = profile_repos.SqlClaimRules(conn)
        self.profile_links = profile_repos.SqlProfileLinks(conn)
        self.profile_identities = profile_repos.SqlProfileIdentities(conn)
        # IAM Access Groups
        self.access_groups = group_repos.SqlAccessGroups(conn)
        self.group_members = group_repos.SqlGroupMembers(conn)
        self.group_rules = group_repos.SqlGroupRules(conn)
        self.group_settings = group_repos.SqlGroupSettings(conn)
        self.federated_logins = group_repos.SqlFederatedLogins(conn)
        # users: account memberships and identity settings
        self.account_users = user_repos.SqlAccountUsers(conn)
        self.identity_settings = user_repos.SqlIdentitySettings(conn)
        # enterprises
        self.enterprises = enterprise_repos.SqlEnterprises(conn)
        self.account_groups = enterprise_repos.SqlAccountGroups(conn)
        self.enterprise_accounts = enterprise_repos.SqlEnterpriseAccounts(conn)
        # resource groups (spec §7)
        self.resource_groups = resource_repos.SqlResourceGroups(conn)
        # Resource Controller (spec §8)
        self.resource_instances = instance_repos.SqlInstances(conn)
        self.resource_keys = instance_repos.SqlResourceKeys(conn)
        self.reclamations = instance_repos.SqlReclamations(conn)
        # key management (spec kms-api.md)
        self.kms_instances = kms_repos.SqlKmsInstances(conn)
        self.kms_keys = kms_key_repos.SqlKmsKeys(conn)
        self.key_versions = kms_key_repos.SqlKeyVersions(conn)
        self.key_rings = kms_repos.SqlKeyRings(conn)
        self.key_aliases = kms_key_repos.SqlAliases(conn)
        self.instance_policies = kms_repos.SqlInstancePolicies(conn)
        self.import_tokens = kms_repos.SqlImportTokens(conn)
        self.registrations = kms_key_repos.SqlRegistrations(conn)
        # the audit trail (reliability.md A3)
        self.audit_log = audit_repos.SqlAuditLog(conn)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._joined:
            return  # the outer unit of work commits or rolls back
        self._database.active.uow = None
        try:
            if exc_type is None:
                record = audit_context.active() if self._write else None
                if record is not None and record.wants_commit_event():
                    self._commit_with_event(record)
                else:
                    self._tx.commit()
            else:
                self._tx.rollback()
        finally:
            self._stack.close()

    def _commit_with_event(self, record: audit_context.RequestAudit) -> None:
        """The request's one audit event, appended last in its mutation's transaction: both
        commit or neither does (reliability.md A3 b, "0 mutations persisted without their
        event"). With other sinks (audit/writer.py) the mutation commits while at least one
        sink took its event. Failing open, a failed append is rolled back to its savepoint alone
        and the middleware tries again once the call has answered."""
        writer = record.writer
        if writer is None:  # the middleware always sets it: never commit a change unaudited
            self._tx.rollback()
            raise RuntimeError("the request's audit record has no writer")
        account, at, event = record.event(record.success_status)
        cause: Exception | None = None
        try:
            taken = writer.append(audit_repos.SqlAuditLog(self._conn), account, at, event)
        except Exception as exc:
            taken, cause = 0, exc
        if taken == 0 and record.fail_closed:
            record.failed = True
            self._tx.rollback()
            raise audit_context.AuditUnavailable(
                "the audit trail cannot record this call, so nothing was changed"
            ) from cause
        self._tx.commit()
        record.written = taken > 0


class SqlUnitOfWorkFactory:
    def __init__(self, database: Database) -> None:
        self.database = database

    def __call__(self, *, write: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.database, write=write)
