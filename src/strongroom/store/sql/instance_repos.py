"""Repositories of `store.ports` for the Resource Controller (spec §8): service instances,
resource keys and reclamations, on the unit of work's connection."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from strongroom.resources.instance_models import (
    Instance,
    InstanceState,
    KeyState,
    Reclamation,
    ReclamationState,
    ResourceKey,
    Stamp,
)
from strongroom.store.ports import InstanceQuery, KeyQuery
from strongroom.store.sql import tables as t


def _stamp_in(prefix: str, stamp: Stamp | None) -> dict[str, Any]:
    if stamp is None:
        return {f"{prefix}_at": None, f"{prefix}_by": None}
    return {f"{prefix}_at": stamp.at, f"{prefix}_by": stamp.by}


def _stamp_out(row: Any, prefix: str) -> Stamp | None:
    at = getattr(row, f"{prefix}_at")
    return None if at is None else Stamp(at, getattr(row, f"{prefix}_by"))


def _required(row: Any, prefix: str) -> Stamp:
    return Stamp(getattr(row, f"{prefix}_at"), getattr(row, f"{prefix}_by"))


def _updated_between(
    column: sa.ColumnElement[datetime], start: datetime | None, end: datetime | None
) -> list[sa.ColumnElement[bool]]:
    found = []
    if start is not None:
        found.append(column >= start)
    if end is not None:
        found.append(column <= end)
    return found


class SqlInstances:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    @staticmethod
    def _row(i: Instance) -> dict[str, Any]:
        return {
            "guid": i.guid,
            "account_id": i.account_id,
            "name": i.name,
            "resource_id": i.resource_id,
            "resource_plan_id": i.resource_plan_id,
            "region_id": i.region_id,
            "resource_group_id": i.resource_group_id,
            "resource_group_crn": i.resource_group_crn,
            "state": i.state.value,
            "locked": i.locked,
            "allow_cleanup": i.allow_cleanup,
            "parameters": dict(i.parameters),
            "tags": list(i.tags),
            "last_operation": dict(i.last_operation),
            "plan_history": [dict(h) for h in i.plan_history],
            **_stamp_in("created", i.created),
            **_stamp_in("updated", i.updated),
            **_stamp_in("deleted", i.deleted),
            **_stamp_in("restored", i.restored),
        }

    @staticmethod
    def _instance(row: Any) -> Instance:
        return Instance(
            guid=row.guid,
            account_id=row.account_id,
            name=row.name,
            resource_id=row.resource_id,
            resource_plan_id=row.resource_plan_id,
            region_id=row.region_id,
            resource_group_id=row.resource_group_id,
            resource_group_crn=row.resource_group_crn,
            state=InstanceState(row.state),
            locked=row.locked,
            allow_cleanup=row.allow_cleanup,
            parameters=row.parameters,
            tags=tuple(row.tags),
            last_operation=row.last_operation,
            plan_history=tuple(row.plan_history),
            created=_required(row, "created"),
            updated=_required(row, "updated"),
            deleted=_stamp_out(row, "deleted"),
            restored=_stamp_out(row, "restored"),
        )

    def add(self, instance: Instance) -> None:
        self.conn.execute(t.resource_instances.insert().values(**self._row(instance)))

    _GET = sa.select(t.resource_instances).where(
        t.resource_instances.c.guid == sa.bindparam("guid")
    )

    def get(self, guid: str) -> Instance | None:
        row = self.conn.execute(self._GET, {"guid": guid}).first()
        return None if row is None else self._instance(row)

    def list(self, query: InstanceQuery) -> Sequence[Instance]:
        r = t.resource_instances
        where: list[sa.ColumnElement[bool]] = [r.c.account_id == query.account_id]
        for column, value in (
            (r.c.guid, query.guid),
            (r.c.name, query.name),
            (r.c.resource_group_id, query.resource_group_id),
            (r.c.resource_id, query.resource_id),
            (r.c.resource_plan_id, query.resource_plan_id),
        ):
            if value is not None:
                where.append(column == value)
        if query.states is not None:
            where.append(r.c.state.in_(query.states))
        where += _updated_between(r.c.updated_at, query.updated_from, query.updated_to)
        rows = self.conn.execute(sa.select(r).where(*where).order_by(r.c.created_at, r.c.guid))
        return [self._instance(row) for row in rows]

    def update(self, instance: Instance, expected_updated_at: datetime) -> bool:
        r = t.resource_instances
        result = self.conn.execute(
            r.update()
            .where(r.c.guid == instance.guid, r.c.updated_at == expected_updated_at)
            .values(**self._row(instance))
        )
        return result.rowcount == 1

    def any_in_group(self, group_id: str) -> bool:
        r = t.resource_instances
        found = self.conn.execute(
            sa.select(r.c.guid)
            .where(r.c.resource_group_id == group_id, r.c.state != InstanceState.REMOVED.value)
            .limit(1)
        ).first()
        return found is not None


class SqlResourceKeys:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    @staticmethod
    def _row(k: ResourceKey) -> dict[str, Any]:
        return {
            "guid": k.guid,
            "account_id": k.account_id,
            "name": k.name,
            "source_guid": k.source_guid,
            "source_crn": k.source_crn,
            "resource_id": k.resource_id,
            "resource_group_id": k.resource_group_id,
            "role_crn": k.role_crn,
            "service_id": k.service_id,
            "service_id_crn": k.service_id_crn,
            "apikey_id": k.apikey_id,
            "apikey_name": k.apikey_name,
            "policy_id": k.policy_id,
            "state": k.state.value,
            **_stamp_in("created", k.created),
            **_stamp_in("updated", k.updated),
            **_stamp_in("deleted", k.deleted),
        }

    @staticmethod
    def _key(row: Any) -> ResourceKey:
        return ResourceKey(
            guid=row.guid,
            account_id=row.account_id,
            name=row.name,
            source_guid=row.source_guid,
            source_crn=row.source_crn,
            resource_id=row.resource_id,
            resource_group_id=row.resource_group_id,
            role_crn=row.role_crn,
            service_id=row.service_id,
            service_id_crn=row.service_id_crn,
            apikey_id=row.apikey_id,
            apikey_name=row.apikey_name,
            policy_id=row.policy_id,
            state=KeyState(row.state),
            created=_required(row, "created"),
            updated=_required(row, "updated"),
            deleted=_stamp_out(row, "deleted"),
        )

    def add(self, key: ResourceKey) -> None:
        self.conn.execute(t.resource_keys.insert().values(**self._row(key)))

    def get(self, guid: str) -> ResourceKey | None:
        k = t.resource_keys
        row = self.conn.execute(sa.select(k).where(k.c.guid == guid)).first()
        return None if row is None else self._key(row)

    def list(self, query: KeyQuery) -> Sequence[ResourceKey]:
        k = t.resource_keys
        where: list[sa.ColumnElement[bool]] = [k.c.account_id == query.account_id]
        for column, value in (
            (k.c.source_guid, query.source_guid),
            (k.c.guid, query.guid),
            (k.c.name, query.name),
            (k.c.resource_group_id, query.resource_group_id),
            (k.c.resource_id, query.resource_id),
        ):
            if value is not None:
                where.append(column == value)
        if query.states is not None:
            where.append(k.c.state.in_(query.states))
        where += _updated_between(k.c.updated_at, query.updated_from, query.updated_to)
        rows = self.conn.execute(sa.select(k).where(*where).order_by(k.c.created_at, k.c.guid))
        return [self._key(row) for row in rows]

    def update(self, key: ResourceKey) -> bool:
        k = t.resource_keys
        result = self.conn.execute(k.update().where(k.c.guid == key.guid).values(**self._row(key)))
        return result.rowcount == 1


class SqlReclamations:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    @staticmethod
    def _row(r: Reclamation) -> dict[str, Any]:
        return {
            "id": r.id,
            "account_id": r.account_id,
            "instance_guid": r.instance_guid,
            "instance_crn": r.instance_crn,
            "resource_group_id": r.resource_group_id,
            "state": r.state.value,
            "target_time": r.target_time,
            "comment": r.comment,
            **_stamp_in("created", r.created),
            **_stamp_in("updated", r.updated),
        }

    @staticmethod
    def _reclamation(row: Any) -> Reclamation:
        return Reclamation(
            id=row.id,
            account_id=row.account_id,
            instance_guid=row.instance_guid,
            instance_crn=row.instance_crn,
            resource_group_id=row.resource_group_id,
            state=ReclamationState(row.state),
            target_time=row.target_time,
            created=_required(row, "created"),
            updated=_required(row, "updated"),
            comment=row.comment,
        )

    def add(self, reclamation: Reclamation) -> None:
        self.conn.execute(t.reclamations.insert().values(**self._row(reclamation)))

    def get(self, reclamation_id: str) -> Reclamation | None:
        r = t.reclamations
        row = self.conn.execute(sa.select(r).where(r.c.id == reclamation_id)).first()
        return None if row is None else self._reclamation(row)

    def list(
        self,
        account_id: str,
        *,
        instance_guid: str | None = None,
        resource_group_id: str | None = None,
        states: tuple[str, ...] = (ReclamationState.SCHEDULED.value,),
    ) -> Sequence[Reclamation]:
        r = t.reclamations
        where = [r.c.account_id == account_id, r.c.state.in_(states)]
        if instance_guid is not None:
            where.append(r.c.instance_guid == instance_guid)
        if resource_group_id is not None:
            where.append(r.c.resource_group_id == resource_group_id)
        rows = self.conn.execute(sa.select(r).where(*where).order_by(r.c.created_at, r.c.id))
        return [self._reclamation(row) for row in rows]

    def update(self, reclamation: Reclamation) -> bool:
        r = t.reclamations
        result = self.conn.execute(
            r.update().where(r.c.id == reclamation.id).values(**self._row(reclamation))
        )
        return result.rowcount == 1
