"""Repositories of `store.ports` for enterprises (spec §9), on the unit of work's connection."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from strongroom.resources.enterprise_models import (
    DELETED,
    AccountGroup,
    Changed,
    Enterprise,
    EnterpriseAccount,
    NodeQuery,
    Origin,
)
from strongroom.store.ports import Page
from strongroom.store.sql import tables as t


def _changed_out(changed: Changed) -> dict[str, Any]:
    return {
        "created_at": changed.created_at,
        "created_by": changed.created_by,
        "updated_at": changed.updated_at,
        "updated_by": changed.updated_by,
    }


def _changed_in(row: Any) -> Changed:
    return Changed(row.created_at, row.created_by, row.updated_at, row.updated_by)


def _page(conn: sa.Connection, table: sa.Table, key: str, query: NodeQuery) -> tuple[Any, bool]:
    """One page of an enterprise's nodes whose parent is one of `query.parents`."""
    c = table.c
    stmt = sa.select(table).where(c.enterprise_id == query.enterprise_id)
    if query.parents is not None:
        named = [p for p in query.parents if p is not None]
        either = [c.parent_group_id.in_(named)] if named else []
        if None in query.parents:
            either.append(c.parent_group_id.is_(None))
        stmt = stmt.where(sa.or_(*either) if either else sa.false())
    if not query.include_deleted:
        stmt = stmt.where(c.state != DELETED)
    stmt = stmt.order_by(c.created_at, c[key]).offset(query.offset).limit(query.limit + 1)
    rows = list(conn.execute(stmt))
    return rows[: query.limit], len(rows) > query.limit


class SqlEnterprises:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    @staticmethod
    def _row(e: Enterprise) -> dict[str, Any]:
        return {
            "id": e.id,
            "account_id": e.account_id,
            "name": e.name,
            "domain": e.domain,
            "state": e.state,
            "primary_contact_iam_id": e.primary_contact_iam_id,
            "primary_contact_email": e.primary_contact_email,
            "source_account_id": e.source_account_id,
            **_changed_out(e.changed),
        }

    @staticmethod
    def _out(row: Any) -> Enterprise:
        return Enterprise(
            id=row.id,
            account_id=row.account_id,
            name=row.name,
            domain=row.domain,
            state=row.state,
            primary_contact_iam_id=row.primary_contact_iam_id,
            primary_contact_email=row.primary_contact_email,
            source_account_id=row.source_account_id,
            changed=_changed_in(row),
        )

    def add(self, enterprise: Enterprise) -> None:
        self.conn.execute(t.enterprises.insert().values(**self._row(enterprise)))

    def get(self, enterprise_id: str) -> Enterprise | None:
        e = t.enterprises
        row = self.conn.execute(sa.select(e).where(e.c.id == enterprise_id)).first()
        return None if row is None else self._out(row)

    def get_by_account(self, enterprise_account_id: str) -> Enterprise | None:
        e = t.enterprises
        row = self.conn.execute(sa.select(e).where(e.c.account_id == enterprise_account_id)).first()
        return None if row is None else self._out(row)

    def update(self, enterprise: Enterprise) -> bool:
        e = t.enterprises
        values = self._row(enterprise)
        del values["id"]
        result = self.conn.execute(e.update().where(e.c.id == enterprise.id).values(**values))
        return result.rowcount == 1


class SqlAccountGroups:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    @staticmethod
    def _row(g: AccountGroup) -> dict[str, Any]:
        return {
            "id": g.id,
            "enterprise_id": g.enterprise_id,
            "parent_group_id": g.parent_group_id,
            "name": g.name,
            "state": g.state,
            "primary_contact_iam_id": g.primary_contact_iam_id,
            "primary_contact_email": g.primary_contact_email,
            **_changed_out(g.changed),
        }

    def _out(self, row: Any) -> AccountGroup:
        return AccountGroup(
            id=row.id,
            enterprise_id=row.enterprise_id,
            enterprise_account_id=self._enterprise_account(row.enterprise_id),
            parent_group_id=row.parent_group_id,
            name=row.name,
            state=row.state,
            primary_contact_iam_id=row.primary_contact_iam_id,
            primary_contact_email=row.primary_contact_email,
            changed=_changed_in(row),
        )

    def _enterprise_account(self, enterprise_id: str) -> str:
        e = t.enterprises
        return str(
            self.conn.execute(sa.select(e.c.account_id).where(e.c.id == enterprise_id)).scalar_one()
        )

    def add(self, group: AccountGroup) -> None:
        self.conn.execute(t.enterprise_account_groups.insert().values(**self._row(group)))

    def get(self, group_id: str) -> AccountGroup | None:
        g = t.enterprise_account_groups
        row = self.conn.execute(sa.select(g).where(g.c.id == group_id)).first()
        return None if row is None else self._out(row)

    def update(self, group: AccountGroup) -> bool:
        g = t.enterprise_account_groups
        values = self._row(group)
        del values["id"], values["enterprise_id"]
        result = self.conn.execute(g.update().where(g.c.id == group.id).values(**values))
        return result.rowcount == 1

    def in_enterprise(self, enterprise_id: str) -> Sequence[AccountGroup]:
        g = t.enterprise_account_groups
        rows = self.conn.execute(
            sa.select(g).where(g.c.enterprise_id == enterprise_id).order_by(g.c.created_at, g.c.id)
        )
        return [self._out(r) for r in rows]

    def list(self, query: NodeQuery) -> Page[AccountGroup]:
        rows, more = _page(self.conn, t.enterprise_account_groups, "id", query)
        return Page([self._out(r) for r in rows], more)


class SqlEnterpriseAccounts:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    @staticmethod
    def _row(a: EnterpriseAccount) -> dict[str, Any]:
        return {
            "account_id": a.account_id,
            "enterprise_id": a.enterprise_id,
            "parent_group_id": a.parent_group_id,
            "origin": a.origin.value,
            "state": a.state,
            **_changed_out(a.changed),
        }

    def _out(self, row: Any) -> EnterpriseAccount:
        e = t.enterprises
        enterprise_account = self.conn.execute(
            sa.select(e.c.account_id).where(e.c.id == row.enterprise_id)
        ).scalar_one()
        return EnterpriseAccount(
            account_id=row.account_id,
            enterprise_id=row.enterprise_id,
            enterprise_account_id=enterprise_account,
            parent_group_id=row.parent_group_id,
            origin=Origin(row.origin),
            state=row.state,
            changed=_changed_in(row),
        )

    def add(self, account: EnterpriseAccount) -> None:
        self.conn.execute(t.enterprise_accounts.insert().values(**self._row(account)))

    def get(self, account_id: str) -> EnterpriseAccount | None:
        a = t.enterprise_accounts
        row = self.conn.execute(sa.select(a).where(a.c.account_id == account_id)).first()
        return None if row is None else self._out(row)

    def update(self, account: EnterpriseAccount) -> bool:
        a = t.enterprise_accounts
        values = self._row(account)
        del values["account_id"], values["enterprise_id"]
        result = self.conn.execute(
            a.update().where(a.c.account_id == account.account_id).values(**values)
        )
        return result.rowcount == 1

    def list(self, query: NodeQuery) -> Page[EnterpriseAccount]:
        rows, more = _page(self.conn, t.enterprise_accounts, "account_id", query)
        return Page([self._out(r) for r in rows], more)

    def count_under(self, enterprise_id: str, parent_group_id: str) -> int:
        a = t.enterprise_accounts
        stmt = (
            sa.select(sa.func.count())
            .select_from(a)
            .where(
                a.c.enterprise_id == enterprise_id,
                a.c.parent_group_id == parent_group_id,
                a.c.state != DELETED,
            )
        )
        return int(self.conn.execute(stmt).scalar_one())

    def set_account_state(self, account_id: str, state: str) -> bool:
        c = t.accounts
        result = self.conn.execute(c.update().where(c.c.id == account_id).values(state=state))
        return result.rowcount == 1
