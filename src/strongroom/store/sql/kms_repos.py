"""Repositories of `store.kms_ports` for what a key management instance keeps beside its keys
(spec kms-api.md §3): its sealed master key, key rings, instance policies and import token, on the
unit of work's connection; and the helpers the key repositories (kms_key_repos.py) share."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from strongroom.kms.models import (
    ImportToken,
    InstancePolicy,
    KeyRing,
    KmsInstance,
)
from strongroom.store.sql import tables as t
from strongroom.store.sql.instance_repos import _required, _stamp_in, _stamp_out


def _insert_new(conn: sa.Connection, insert: sa.Insert, exists: Callable[[], bool]) -> bool:
    """Insert, or False (nothing written) when the row is already there. A savepoint keeps the
    duplicate from poisoning the surrounding transaction (PostgreSQL); any other integrity
    error, such as a missing key, still raises."""
    try:
        with conn.begin_nested():
            conn.execute(insert)
    except IntegrityError:
        if exists():
            return False
        raise
    return True


def _put(conn: sa.Connection, table: sa.Table, key: dict[str, Any], values: dict[str, Any]) -> None:
    """Insert or replace the row of that primary key, on both dialects."""
    where = [table.c[name] == value for name, value in key.items()]
    if conn.execute(table.update().where(*where).values(**values)).rowcount == 1:
        return
    try:
        with conn.begin_nested():
            conn.execute(table.insert().values(**values))
    except IntegrityError:
        # Another writer inserted it first (PostgreSQL): replace what it wrote.
        if conn.execute(table.update().where(*where).values(**values)).rowcount != 1:
            raise


def _count(conn: sa.Connection, table: sa.Table, *where: sa.ColumnElement[bool]) -> int:
    return int(
        conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one()
    )


class SqlKmsInstances:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def add(self, instance: KmsInstance) -> bool:
        insert = t.kms_instances.insert().values(
            instance_id=instance.instance_id,
            account_id=instance.account_id,
            service=instance.service,
            region=instance.region,
            master_key=instance.master_key,
            created_at=instance.created_at,
        )
        return _insert_new(self.conn, insert, lambda: self.get(instance.instance_id) is not None)

    _GET = sa.select(t.kms_instances).where(t.kms_instances.c.instance_id == sa.bindparam("id"))

    def get(self, instance_id: str) -> KmsInstance | None:
        row = self.conn.execute(self._GET, {"id": instance_id}).first()
        if row is None:
            return None
        return KmsInstance(
            row.instance_id, row.account_id, row.service, row.region, row.master_key, row.created_at
        )


class SqlKeyRings:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    @staticmethod
    def _ring(row: Any) -> KeyRing:
        return KeyRing(row.instance_id, row.id, _stamp_out(row, "created"))

    def add(self, ring: KeyRing) -> bool:
        insert = t.kms_key_rings.insert().values(
            instance_id=ring.instance_id, id=ring.id, **_stamp_in("created", ring.created)
        )
        return _insert_new(
            self.conn, insert, lambda: self.get(ring.instance_id, ring.id) is not None
        )

    def get(self, instance_id: str, ring_id: str) -> KeyRing | None:
        r = t.kms_key_rings
        row = self.conn.execute(
            sa.select(r).where(r.c.instance_id == instance_id, r.c.id == ring_id)
        ).first()
        return None if row is None else self._ring(row)

    def list(self, instance_id: str) -> Sequence[KeyRing]:
        r = t.kms_key_rings
        rows = self.conn.execute(
            sa.select(r).where(r.c.instance_id == instance_id).order_by(r.c.created_at, r.c.id)
        )
        return [self._ring(row) for row in rows]

    def remove(self, instance_id: str, ring_id: str) -> None:
        r = t.kms_key_rings
        self.conn.execute(r.delete().where(r.c.instance_id == instance_id, r.c.id == ring_id))


class SqlInstancePolicies:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    _LIST = (
        sa.select(t.kms_instance_policies)
        .where(t.kms_instance_policies.c.instance_id == sa.bindparam("id"))
        .order_by(t.kms_instance_policies.c.kind)
    )

    def list(self, instance_id: str) -> Sequence[InstancePolicy]:
        rows = self.conn.execute(self._LIST, {"id": instance_id})
        return [
            InstancePolicy(
                instance_id=row.instance_id,
                kind=row.kind,
                enabled=row.enabled,
                attributes=row.attributes,
                created=_required(row, "created"),
                updated=_required(row, "updated"),
            )
            for row in rows
        ]

    def put(self, policy: InstancePolicy) -> None:
        values = {
            "instance_id": policy.instance_id,
            "kind": policy.kind,
            "enabled": policy.enabled,
            "attributes": dict(policy.attributes),
            **_stamp_in("created", policy.created),
            **_stamp_in("updated", policy.updated),
        }
        key = {"instance_id": policy.instance_id, "kind": policy.kind}
        _put(self.conn, t.kms_instance_policies, key, values)


class SqlImportTokens:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def get(self, instance_id: str) -> ImportToken | None:
        i = t.kms_import_tokens
        row = self.conn.execute(sa.select(i).where(i.c.instance_id == instance_id)).first()
        if row is None:
            return None
        return ImportToken(
            instance_id=row.instance_id,
            created_at=row.created_at,
            expires_at=row.expires_at,
            max_retrievals=row.max_retrievals,
            remaining_retrievals=row.remaining_retrievals,
            public_key_pem=row.public_key_pem,
            private_key=row.private_key,
            nonce=row.nonce,
            created_by=row.created_by,
        )

    def put(self, token: ImportToken) -> None:
        values = {
            "instance_id": token.instance_id,
            "created_at": token.created_at,
            "created_by": token.created_by,
            "expires_at": token.expires_at,
            "max_retrievals": token.max_retrievals,
            "remaining_retrievals": token.remaining_retrievals,
            "public_key_pem": token.public_key_pem,
            "private_key": token.private_key,
            "nonce": token.nonce,
        }
        _put(self.conn, t.kms_import_tokens, {"instance_id": token.instance_id}, values)

    def use(self, instance_id: str) -> bool:
        # One conditional UPDATE: two concurrent retrievals can never both take the last one.
        i = t.kms_import_tokens
        result = self.conn.execute(
            i.update()
            .where(i.c.instance_id == instance_id, i.c.remaining_retrievals > 0)
            .values(remaining_retrievals=i.c.remaining_retrievals - 1)
        )
        return result.rowcount == 1
