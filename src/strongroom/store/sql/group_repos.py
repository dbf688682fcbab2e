"""IAM Access Groups repositories of `store.ports` (spec §5.1): groups, static members, dynamic
rules, access-group settings and federated logins, on the unit of work's connection."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from strongroom.access.group_models import (
    AccessGroup,
    FederatedLogin,
    GroupMember,
    GroupRule,
    GroupSettings,
)
from strongroom.store.sql import tables as t


def _fields(obj: Any, cls: Any) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in fields(cls)}


class SqlAccessGroups:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    @staticmethod
    def _values(group: AccessGroup) -> dict[str, Any]:
        return {**_fields(group, AccessGroup), "name_folded": group.name.casefold()}

    @staticmethod
    def _model(row: Any) -> AccessGroup:
        return AccessGroup(**_fields(row, AccessGroup))

    def add(self, group: AccessGroup) -> None:
        self.conn.execute(t.access_groups.insert().values(**self._values(group)))

    def get(self, group_id: str) -> AccessGroup | None:
        g = t.access_groups
        row = self.conn.execute(sa.select(g).where(g.c.id == group_id)).first()
        return None if row is None else self._model(row)

    def in_account(self, account_id: str) -> Sequence[AccessGroup]:
        g = t.access_groups
        stmt = sa.select(g).where(g.c.account_id == account_id).order_by(g.c.id)
        return [self._model(r) for r in self.conn.execute(stmt)]

    def update(self, group: AccessGroup, expected_tag: str) -> bool:
        g = t.access_groups
        result = self.conn.execute(
            g.update()
            .where(g.c.id == group.id, g.c.entity_tag == expected_tag)
            .values(**self._values(group))
        )
        return result.rowcount == 1

    def delete(self, group_id: str) -> bool:
        g = t.access_groups
        return self.conn.execute(g.delete().where(g.c.id == group_id)).rowcount == 1

    def count(self, account_id: str) -> int:
        g = t.access_groups
        stmt = sa.select(sa.func.count()).select_from(g).where(g.c.account_id == account_id)
        return int(self.conn.execute(stmt).scalar_one())


class SqlGroupMembers:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    @staticmethod
    def _model(row: Any) -> GroupMember:
        return GroupMember(**_fields(row, GroupMember))

    def _select(self, *where: sa.ColumnElement[bool]) -> Sequence[GroupMember]:
        m = t.access_group_members
        stmt = sa.select(m).where(*where).order_by(m.c.group_id, m.c.iam_id)
        return [self._model(r) for r in self.conn.execute(stmt)]

    def add(self, member: GroupMember) -> None:
        self.conn.execute(t.access_group_members.insert().values(**_fields(member, GroupMember)))

    def get(self, group_id: str, iam_id: str) -> GroupMember | None:
        m = t.access_group_members
        found = self._select(m.c.group_id == group_id, m.c.iam_id == iam_id)
        return found[0] if found else None

    def of_group(self, group_id: str) -> Sequence[GroupMember]:
        return self._select(t.access_group_members.c.group_id == group_id)

    def of_iam_id(self, account_id: str, iam_id: str) -> Sequence[GroupMember]:
        m = t.access_group_members
        return self._select(m.c.account_id == account_id, m.c.iam_id == iam_id)

    def in_account(self, account_id: str) -> Sequence[GroupMember]:
        return self._select(t.access_group_members.c.account_id == account_id)

    def delete(self, group_id: str, iam_id: str) -> bool:
        m = t.access_group_members
        stmt = m.delete().where(m.c.group_id == group_id, m.c.iam_id == iam_id)
        return self.conn.execute(stmt).rowcount == 1

    def delete_group(self, group_id: str) -> int:
        m = t.access_group_members
        return int(self.conn.execute(m.delete().where(m.c.group_id == group_id)).rowcount)


class SqlGroupRules:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    @staticmethod
    def _values(rule: GroupRule) -> dict[str, Any]:
        values = _fields(rule, GroupRule)
        values["conditions"] = [dict(c) for c in rule.conditions]
        return values

    @staticmethod
    def _model(row: Any) -> GroupRule:
        values = _fields(row, GroupRule)
        values["conditions"] = tuple(dict(c) for c in values["conditions"])
        return GroupRule(**values)

    def _select(self, *where: sa.ColumnElement[bool]) -> Sequence[GroupRule]:
        r = t.access_group_rules
        stmt = sa.select(r).where(*where).order_by(r.c.created_at, r.c.id)
        return [self._model(row) for row in self.conn.execute(stmt)]

    def add(self, rule: GroupRule) -> None:
        self.conn.execute(t.access_group_rules.insert().values(**self._values(rule)))

    def get(self, rule_id: str) -> GroupRule | None:
        found = self._select(t.access_group_rules.c.id == rule_id)
        return found[0] if found else None

    def of_group(self, group_id: str) -> Sequence[GroupRule]:
        return self._select(t.access_group_rules.c.group_id == group_id)

    def in_account(self, account_id: str) -> Sequence[GroupRule]:
        return self._select(t.access_group_rules.c.account_id == account_id)

    def update(self, rule: GroupRule, expected_tag: str) -> bool:
        r = t.access_group_rules
        result = self.conn.execute(
            r.update()
            .where(r.c.id == rule.id, r.c.entity_tag == expected_tag)
            .values(**self._values(rule))
        )
        return result.rowcount == 1

    def delete(self, rule_id: str) -> bool:
        r = t.access_group_rules
        return self.conn.execute(r.delete().where(r.c.id == rule_id)).rowcount == 1

    def delete_group(self, group_id: str) -> int:
        r = t.access_group_rules
        return int(self.conn.execute(r.delete().where(r.c.group_id == group_id)).rowcount)


class SqlGroupSettings:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def get(self, account_id: str) -> GroupSettings:
        s = t.access_group_settings
        row = self.conn.execute(sa.select(s).where(s.c.account_id == account_id)).first()
        if row is None:
            return GroupSettings(account_id)
        return GroupSettings(**_fields(row, GroupSettings))

    def put(self, settings: GroupSettings) -> None:
        s = t.access_group_settings
        values = _fields(settings, GroupSettings)
        updated = self.conn.execute(
            s.update().where(s.c.account_id == settings.account_id).values(**values)
        )
        if updated.rowcount == 0:
            self.conn.execute(s.insert().values(**values))


class SqlFederatedLogins:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def put(self, login: FederatedLogin) -> None:
        """The latest login per (account, user, realm) replaces the one before."""
        f = t.federated_logins
        values = {**_fields(login, FederatedLogin), "claims": dict(login.claims)}
        key = (
            f.c.account_id == login.account_id,
            f.c.iam_id == login.iam_id,
            f.c.realm_name == login.realm_name,
        )
        updated = self.conn.execute(f.update().where(*key).values(**values))
        if updated.rowcount == 0:
            self.conn.execute(f.insert().values(**values))

    def in_account(self, account_id: str) -> Sequence[FederatedLogin]:
        f = t.federated_logins
        stmt = sa.select(f).where(f.c.account_id == account_id).order_by(f.c.iam_id, f.c.realm_name)
        return [FederatedLogin(**_fields(r, FederatedLogin)) for r in self.conn.execute(stmt)]

    def delete_before(self, account_id: str, before: datetime) -> int:
        f = t.federated_logins
        stmt = f.delete().where(f.c.account_id == account_id, f.c.logged_in_at < before)
        return int(self.conn.execute(stmt).rowcount)
