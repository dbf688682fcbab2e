"""Identity repositories of `store.ports` on one SQLAlchemy connection (the unit of work's
transaction): accounts, users and memberships, service IDs, API keys."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from strongroom.identity.models import (
    Account,
    AccountRole,
    ApiKey,
    HistoryRecord,
    LeakAction,
    Membership,
    OwnerKind,
    ServiceId,
    User,
    Versioned,
)
from strongroom.store.ports import ListQuery, Page
from strongroom.store.sql import tables as t
from strongroom.store.sql.filters import to_sql


def _utc_iso(when: datetime) -> str:
    if when.tzinfo is None:
        raise ValueError("naive datetime given to the store")
    return when.astimezone(UTC).isoformat()


def _history_out(history: tuple[HistoryRecord, ...]) -> list[dict[str, Any]]:
    return [
        {
            "timestamp": _utc_iso(r.timestamp),
            "iam_id": r.iam_id,
            "iam_id_account": r.iam_id_account,
            "action": r.action,
            "params": list(r.params),
            "message": r.message,
        }
        for r in history
    ]


def _history_in(rows: list[dict[str, Any]]) -> tuple[HistoryRecord, ...]:
    return tuple(
        HistoryRecord(
            timestamp=datetime.fromisoformat(r["timestamp"]),
            iam_id=r["iam_id"],
            iam_id_account=r["iam_id_account"],
            action=r["action"],
            params=tuple(r["params"]),
            message=r["message"],
        )
        for r in rows
    )


def _meta_out(meta: Versioned) -> dict[str, Any]:
    return {
        "created_at": meta.created_at,
        "modified_at": meta.modified_at,
        "created_by": meta.created_by,
        "entity_tag": meta.entity_tag,
        "history": _history_out(meta.history),
    }


def _meta_in(row: Any) -> Versioned:
    return Versioned(
        created_at=row.created_at,
        modified_at=row.modified_at,
        created_by=row.created_by,
        entity_tag=row.entity_tag,
        history=_history_in(row.history),
    )


def _page(
    conn: sa.Connection, stmt: sa.Select[Any], query: ListQuery, table: sa.Table
) -> tuple[list[Any], bool]:
    column: Any = table.c[query.sort]
    if conn.dialect.name == "postgresql" and isinstance(column.type, sa.String):
        column = column.collate("C")  # byte order, as SQLite sorts: pages agree across backends
    order = column.desc() if query.descending else column.asc()
    # The id breaks ties so that pages never overlap or skip.
    stmt = stmt.order_by(order, table.c.id.asc()).offset(query.offset).limit(query.limit + 1)
    rows = list(conn.execute(stmt))
    return rows[: query.limit], len(rows) > query.limit


class SqlAccounts:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def add(self, account: Account) -> None:
        self.conn.execute(
            t.accounts.insert().values(
                id=account.id,
                name=account.name,
                owner_iam_id=account.owner_iam_id,
                state=account.state,
                created_at=account.created_at,
            )
        )

    def get(self, account_id: str) -> Account | None:
        row = self.conn.execute(sa.select(t.accounts).where(t.accounts.c.id == account_id)).first()
        if row is None:
            return None
        return Account(row.id, row.name, row.owner_iam_id, row.created_at, row.state)

    def lock(self, account_id: str) -> Account | None:
        # PostgreSQL: FOR NO KEY UPDATE, which queues the account's other lockers but not the
        # foreign-key checks of inserts that reference the account (those take KEY SHARE).
        # SQLite ignores it: BEGIN IMMEDIATE already made this the only writer.
        stmt = (
            sa.select(t.accounts)
            .where(t.accounts.c.id == account_id)
            .with_for_update(key_share=True)
        )
        row = self.conn.execute(stmt).first()
        if row is None:
            return None
        return Account(row.id, row.name, row.owner_iam_id, row.created_at, row.state)

    def count(self) -> int:
        return int(
            self.conn.execute(sa.select(sa.func.count()).select_from(t.accounts)).scalar_one()
        )


class SqlUsers:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def add(self, user: User) -> None:
        self.conn.execute(
            t.users.insert().values(
                iam_id=user.iam_id,
                realm=user.realm,
                email=user.email,
                given_name=user.given_name,
                family_name=user.family_name,
                created_at=user.created_at,
            )
        )

    def get(self, iam_id: str) -> User | None:
        row = self.conn.execute(sa.select(t.users).where(t.users.c.iam_id == iam_id)).first()
        if row is None:
            return None
        return User(
            row.iam_id, row.email, row.given_name, row.family_name, row.created_at, row.realm
        )

    def add_membership(self, membership: Membership) -> None:
        self.conn.execute(
            t.memberships.insert().values(
                account_id=membership.account_id,
                iam_id=membership.iam_id,
                role=membership.role.value,
                state=membership.state,
                created_at=membership.created_at,
            )
        )

    def member(self, account_id: str, iam_id: str) -> tuple[User, Membership] | None:
        """The user and their membership of the account, in one round trip (the token
        exchange asks for both on every user key)."""
        u, m = t.users, t.memberships
        row = self.conn.execute(
            sa.select(u, m.c.role, m.c.state, m.c.created_at.label("joined_at"))
            .join(m, m.c.iam_id == u.c.iam_id)
            .where(m.c.account_id == account_id, u.c.iam_id == iam_id)
        ).first()
        if row is None:
            return None
        user = User(
            row.iam_id, row.email, row.given_name, row.family_name, row.created_at, row.realm
        )
        membership = Membership(
            account_id, row.iam_id, AccountRole(row.role), row.joined_at, row.state
        )
        return user, membership

    def membership(self, account_id: str, iam_id: str) -> Membership | None:
        m = t.memberships
        row = self.conn.execute(
            sa.select(m).where(m.c.account_id == account_id, m.c.iam_id == iam_id)
        ).first()
        if row is None:
            return None
        return Membership(
            row.account_id, row.iam_id, AccountRole(row.role), row.created_at, row.state
        )


class SqlServiceIds:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    @staticmethod
    def _values(sid: ServiceId) -> dict[str, Any]:
        return {
            "id": sid.id,
            "iam_id": sid.iam_id,
            "account_id": sid.account_id,
            "name": sid.name,
            "description": sid.description,
            "name_folded": sid.name.casefold(),
            "description_folded": sid.description.casefold(),
            "unique_instance_crns": list(sid.unique_instance_crns),
            "locked": sid.locked,
            **_meta_out(sid.meta),
        }

    @staticmethod
    def _model(row: Any) -> ServiceId:
        return ServiceId(
            id=row.id,
            iam_id=row.iam_id,
            account_id=row.account_id,
            name=row.name,
            description=row.description,
            unique_instance_crns=tuple(row.unique_instance_crns),
            locked=row.locked,
            meta=_meta_in(row),
        )

    def add(self, service_id: ServiceId) -> None:
        self.conn.execute(t.service_ids.insert().values(**self._values(service_id)))

    def get(self, service_id: str) -> ServiceId | None:
        row = self.conn.execute(
            sa.select(t.service_ids).where(t.service_ids.c.id == service_id)
        ).first()
        return None if row is None else self._model(row)

    def get_by_iam_id(self, iam_id: str) -> ServiceId | None:
        s = t.service_ids
        row = self.conn.execute(sa.select(s).where(s.c.iam_id == iam_id)).first()
        return None if row is None else self._model(row)

    def list(self, query: ListQuery) -> Page[ServiceId]:
        s = t.service_ids
        stmt = sa.select(s).where(s.c.account_id == query.account_id)
        if query.name is not None:
            stmt = stmt.where(s.c.name == query.name)
        if query.filter is not None:
            stmt = stmt.where(to_sql(query.filter, s.c))
        rows, more = _page(self.conn, stmt, query, s)
        return Page([self._model(r) for r in rows], more)

    def update(self, service_id: ServiceId, expected_tag: str) -> bool:
        s = t.service_ids
        result = self.conn.execute(
            s.update()
            .where(s.c.id == service_id.id, s.c.entity_tag == expected_tag)
            .values(**self._values(service_id))
        )
        return result.rowcount == 1

    def delete(self, service_id: str) -> bool:
        return (
            self.conn.execute(
                t.service_ids.delete().where(t.service_ids.c.id == service_id)
            ).rowcount
            == 1
        )

    def count(self, account_id: str) -> int:
        s = t.service_ids
        stmt = sa.select(sa.func.count()).select_from(s).where(s.c.account_id == account_id)
        return int(self.conn.execute(stmt).scalar_one())


class SqlApiKeys:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    @staticmethod
    def _values(key: ApiKey) -> dict[str, Any]:
        return {
            "id": key.id,
            "account_id": key.account_id,
            "iam_id": key.iam_id,
            "owner_kind": key.owner_kind.value,
            "name": key.name,
            "description": key.description,
            "name_folded": key.name.casefold(),
            "description_folded": key.description.casefold(),
            "value_digest": key.value_digest,
            "sealed_value": key.sealed_value,
            "locked": key.locked,
            "disabled": key.disabled,
            "leaked": key.leaked,
            "support_sessions": key.support_sessions,
            "action_when_leaked": key.action_when_leaked.value,
            "expires_at": key.expires_at,
            **_meta_out(key.meta),
        }

    @staticmethod
    def _model(row: Any) -> ApiKey:
        return ApiKey(
            id=row.id,
            account_id=row.account_id,
            iam_id=row.iam_id,
            owner_kind=OwnerKind(row.owner_kind),
            name=row.name,
            description=row.description,
            value_digest=row.value_digest,
            sealed_value=row.sealed_value,
            locked=row.locked,
            disabled=row.disabled,
            leaked=row.leaked,
            support_sessions=row.support_sessions,
            action_when_leaked=LeakAction(row.action_when_leaked),
            expires_at=row.expires_at,
            meta=_meta_in(row),
        )

    def add(self, key: ApiKey) -> None:
        self.conn.execute(t.api_keys.insert().values(**self._values(key)))

    def get(self, key_id: str) -> ApiKey | None:
        row = self.conn.execute(sa.select(t.api_keys).where(t.api_keys.c.id == key_id)).first()
        return None if row is None else self._model(row)

    def get_by_digest(self, digest: str) -> ApiKey | None:
        k = t.api_keys
        row = self.conn.execute(sa.select(k).where(k.c.value_digest == digest)).first()
        return None if row is None else self._model(row)

    def list(self, query: ListQuery) -> Page[ApiKey]:
        k = t.api_keys
        stmt = sa.select(k).where(k.c.account_id == query.account_id)
        if query.iam_id is not None:
            stmt = stmt.where(k.c.iam_id == query.iam_id)
        if query.owner_kind is not None:
            stmt = stmt.where(k.c.owner_kind == query.owner_kind)
        if query.name is not None:
            stmt = stmt.where(k.c.name == query.name)
        if query.filter is not None:
            stmt = stmt.where(to_sql(query.filter, k.c))
        rows, more = _page(self.conn, stmt, query, k)
        return Page([self._model(r) for r in rows], more)

    def update(self, key: ApiKey, expected_tag: str) -> bool:
        k = t.api_keys
        result = self.conn.execute(
            k.update()
            .where(k.c.id == key.id, k.c.entity_tag == expected_tag)
            .values(**self._values(key))
        )
        return result.rowcount == 1

    def delete(self, key_id: str) -> bool:
        return self.conn.execute(t.api_keys.delete().where(t.api_keys.c.id == key_id)).rowcount == 1

    def delete_owned_by(self, iam_id: str) -> int:
        return self.conn.execute(t.api_keys.delete().where(t.api_keys.c.iam_id == iam_id)).rowcount

    def count_owned_by(self, iam_id: str) -> int:
        k = t.api_keys
        stmt = sa.select(sa.func.count()).select_from(k).where(k.c.iam_id == iam_id)
        return int(self.conn.execute(stmt).scalar_one())
