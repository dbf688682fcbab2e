"""Resource Manager repositories of `store.ports` (spec §7): resource groups."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from strongroom.resources.models import ResourceGroup
from strongroom.store.sql import tables as t


def _values(group: ResourceGroup) -> dict[str, Any]:
    return {
        "id": group.id,
        "account_id": group.account_id,
        "name": group.name,
        "live_name": None if group.deleted else group.name.casefold(),
        "state": group.state,
        "is_default": group.default,
        "quota_id": group.quota_id,
        "created_at": group.created_at,
        "updated_at": group.updated_at,
        "deleted_at": group.deleted_at,
    }


def _model(row: Any) -> ResourceGroup:
    return ResourceGroup(
        id=row.id,
        account_id=row.account_id,
        name=row.name,
        state=row.state,
        default=row.is_default,
        quota_id=row.quota_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
        deleted_at=row.deleted_at,
    )


class SqlResourceGroups:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def add(self, group: ResourceGroup) -> bool:
        try:
            # A savepoint, so that a taken name leaves the outer transaction usable.
            with self.conn.begin_nested():
                self.conn.execute(t.resource_groups.insert().values(**_values(group)))
        except IntegrityError:
            return False
        return True

    def get(self, group_id: str) -> ResourceGroup | None:
        g = t.resource_groups
        row = self.conn.execute(sa.select(g).where(g.c.id == group_id)).first()
        return None if row is None else _model(row)

    def in_account(self, account_id: str) -> Sequence[ResourceGroup]:
        g = t.resource_groups
        stmt = sa.select(g).where(g.c.account_id == account_id).order_by(g.c.created_at, g.c.id)
        return [_model(r) for r in self.conn.execute(stmt)]

    def update(self, group: ResourceGroup) -> bool:
        g = t.resource_groups
        try:
            with self.conn.begin_nested():
                result = self.conn.execute(
                    g.update()
                    .where(g.c.id == group.id, g.c.state != "DELETED")
                    .values(**_values(group))
                )
        except IntegrityError:
            return False
        return result.rowcount == 1
