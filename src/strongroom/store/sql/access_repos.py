"""Access-management repositories of `store.ports`: policies, custom roles, account revisions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from strongroom.store.ports import (
    Page,
    PolicyQuery,
    StoredAccessSettings,
    StoredPolicy,
    StoredRole,
)
from strongroom.store.sql import tables as t
from strongroom.store.sql.notify import ACCESS_CHANNEL

POLICY_SORTS = frozenset(
    {
        "id",
        "type",
        "version",  # IBM's `sort=href`: /v1/... before /v2/..., then by id
        "created_at",
        "created_by_id",
        "last_modified_at",
        "last_modified_by_id",
        "state",
    }
)


class SqlPolicies:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    @staticmethod
    def _values(policy: StoredPolicy) -> dict[str, Any]:
        values = {name: getattr(policy, name) for name in StoredPolicy.__dataclass_fields__}
        values["document"] = dict(policy.document)
        return values

    @staticmethod
    def _model(row: Any) -> StoredPolicy:
        return StoredPolicy(
            **{name: getattr(row, name) for name in StoredPolicy.__dataclass_fields__}
        )

    def add(self, policy: StoredPolicy) -> None:
        self.conn.execute(t.policies.insert().values(**self._values(policy)))

    def get(self, policy_id: str) -> StoredPolicy | None:
        row = self.conn.execute(sa.select(t.policies).where(t.policies.c.id == policy_id)).first()
        return None if row is None else self._model(row)

    def update(self, policy: StoredPolicy, expected_tag: str) -> bool:
        p = t.policies
        result = self.conn.execute(
            p.update()
            .where(p.c.id == policy.id, p.c.entity_tag == expected_tag)
            .values(**self._values(policy))
        )
        return result.rowcount == 1

    def delete(self, policy_id: str) -> bool:
        return (
            self.conn.execute(t.policies.delete().where(t.policies.c.id == policy_id)).rowcount == 1
        )

    def list(self, query: PolicyQuery) -> Page[StoredPolicy]:
        p = t.policies
        stmt = sa.select(p).where(p.c.account_id == query.account_id)
        for column, value in (
            (p.c.subject_iam_id, query.iam_id),
            (p.c.subject_group_id, query.access_group_id),
            (p.c.type, query.type),
            (p.c.service_type, query.service_type),
            (p.c.service_name, query.service_name),
            (p.c.state, query.state),
        ):
            if value is not None:
                stmt = stmt.where(column == value)
        if query.sort not in POLICY_SORTS:
            raise ValueError(f"cannot sort policies by {query.sort}")
        column = p.c[query.sort]
        stmt = stmt.order_by(column.desc() if query.descending else column.asc(), p.c.id.asc())
        rows = list(self.conn.execute(stmt.offset(query.offset).limit(query.limit + 1)))
        return Page([self._model(r) for r in rows[: query.limit]], len(rows) > query.limit)

    def active_in(self, account_id: str) -> Sequence[StoredPolicy]:
        p = t.policies
        stmt = (
            sa.select(p).where(p.c.account_id == account_id, p.c.state == "active").order_by(p.c.id)
        )
        return [self._model(r) for r in self.conn.execute(stmt)]

    def count(self, account_id: str) -> int:
        p = t.policies
        stmt = sa.select(sa.func.count()).select_from(p).where(p.c.account_id == account_id)
        return int(self.conn.execute(stmt).scalar_one())

    def count_active(
        self, account_id: str, *, iam_id: str | None = None, group_id: str | None = None
    ) -> int:
        p = t.policies
        stmt = (
            sa.select(sa.func.count())
            .select_from(p)
            .where(p.c.account_id == account_id, p.c.state == "active")
        )
        if iam_id is not None:
            stmt = stmt.where(p.c.subject_iam_id == iam_id)
        if group_id is not None:
            stmt = stmt.where(p.c.subject_group_id == group_id)
        return int(self.conn.execute(stmt).scalar_one())


class SqlRoles:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    @staticmethod
    def _values(role: StoredRole) -> dict[str, Any]:
        values = {name: getattr(role, name) for name in StoredRole.__dataclass_fields__}
        values["actions"] = list(role.actions)
        return values

    @staticmethod
    def _model(row: Any) -> StoredRole:
        values = {name: getattr(row, name) for name in StoredRole.__dataclass_fields__}
        values["actions"] = tuple(values["actions"])
        return StoredRole(**values)

    def add(self, role: StoredRole) -> None:
        self.conn.execute(t.custom_roles.insert().values(**self._values(role)))

    def get(self, role_id: str) -> StoredRole | None:
        row = self.conn.execute(
            sa.select(t.custom_roles).where(t.custom_roles.c.id == role_id)
        ).first()
        return None if row is None else self._model(row)

    def get_by_name(self, account_id: str, name: str) -> StoredRole | None:
        r = t.custom_roles
        row = self.conn.execute(
            sa.select(r).where(r.c.account_id == account_id, r.c.name == name)
        ).first()
        return None if row is None else self._model(row)

    def update(self, role: StoredRole, expected_tag: str) -> bool:
        r = t.custom_roles
        result = self.conn.execute(
            r.update()
            .where(r.c.id == role.id, r.c.entity_tag == expected_tag)
            .values(**self._values(role))
        )
        return result.rowcount == 1

    def delete(self, role_id: str) -> bool:
        return (
            self.conn.execute(
                t.custom_roles.delete().where(t.custom_roles.c.id == role_id)
            ).rowcount
            == 1
        )

    def list(self, account_id: str, service_name: str | None = None) -> Sequence[StoredRole]:
        r = t.custom_roles
        stmt = sa.select(r).where(r.c.account_id == account_id)
        if service_name is not None:
            stmt = stmt.where(r.c.service_name == service_name)
        return [self._model(row) for row in self.conn.execute(stmt.order_by(r.c.name))]


class SqlRevisions:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def current(self, account_id: str) -> int:
        r = t.account_revisions
        value = self.conn.execute(
            sa.select(r.c.revision).where(r.c.account_id == account_id)
        ).scalar()
        return int(value or 0)

    def bump(self, account_id: str) -> int:
        r = t.account_revisions
        for _ in range(2):
            # The conditional increment holds the row lock until commit: bumps serialise.
            updated = self.conn.execute(
                r.update()
                .where(r.c.account_id == account_id)
                .values(revision=r.c.revision + 1)
                .returning(r.c.revision)
            ).scalar()
            if updated is not None:
                self._notify(account_id)
                return int(updated)
            try:
                with self.conn.begin_nested():
                    self.conn.execute(r.insert().values(account_id=account_id, revision=1))
                self._notify(account_id)
                return 1
            except IntegrityError:
                continue  # another writer made the row first: increment it instead
        raise RuntimeError(f"could not bump the revision of account {account_id}")

    def _notify(self, account_id: str) -> None:
        """Tell the other nodes (store/sql/notify.py); PostgreSQL delivers it at commit, and
        not at all on rollback. SQLite has one process, whose writers invalidate themselves."""
        if self.conn.dialect.name == "postgresql":
            self.conn.execute(sa.select(sa.func.pg_notify(ACCESS_CHANNEL, account_id)))


class SqlAccessSettings:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def get(self, account_id: str) -> StoredAccessSettings | None:
        a = t.access_management_settings
        row = self.conn.execute(sa.select(a).where(a.c.account_id == account_id)).first()
        if row is None:
            return None
        return StoredAccessSettings(
            account_id=row.account_id,
            settings=row.settings,
            entity_tag=row.entity_tag,
            last_modified_at=row.last_modified_at,
            last_modified_by_id=row.last_modified_by_id,
        )

    def put(self, settings: StoredAccessSettings, expected_tag: str | None) -> bool:
        a = t.access_management_settings
        values = {
            "settings": dict(settings.settings),
            "entity_tag": settings.entity_tag,
            "last_modified_at": settings.last_modified_at,
            "last_modified_by_id": settings.last_modified_by_id,
        }
        if expected_tag is None:
            try:
                with self.conn.begin_nested():
                    self.conn.execute(a.insert().values(account_id=settings.account_id, **values))
            except IntegrityError:
                return False  # another writer stored the first settings meanwhile
            return True
        updated = self.conn.execute(
            a.update()
            .where(a.c.account_id == settings.account_id, a.c.entity_tag == expected_tag)
            .values(**values)
        )
        return updated.rowcount == 1
