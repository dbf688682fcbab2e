"""Repositories of `store.kms_ports` for keys and what hangs off a key (spec kms-api.md §2-§3):
keys, their versions, aliases and registrations, on the unit of work's connection. A purge
removes the versions, aliases and registrations, then the key, in one unit of work."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from strongroom.kms.models import (
    Alias,
    DualAuth,
    Key,
    KeyPolicy,
    KeyState,
    KeyVersion,
    Registration,
    Stamp,
)
from strongroom.store.kms_ports import KmsKeyQuery
from strongroom.store.sql import tables as t
from strongroom.store.sql.instance_repos import _required, _stamp_in, _stamp_out
from strongroom.store.sql.kms_repos import _count, _insert_new
from strongroom.store.sql.repos import _utc_iso

# Bound parameters per IN list: well under SQLite's limit on variables in one statement.
_IN_CHUNK = 500


def _policy_out(policy: KeyPolicy) -> dict[str, Any]:
    return {
        "id": policy.id,
        "data": dict(policy.data),
        "created": {"at": _utc_iso(policy.created.at), "by": policy.created.by},
        "updated": {"at": _utc_iso(policy.updated.at), "by": policy.updated.by},
    }


def _policy_in(kind: str, doc: dict[str, Any]) -> KeyPolicy:
    def stamp(s: dict[str, str]) -> Stamp:
        return Stamp(datetime.fromisoformat(s["at"]), s["by"])

    return KeyPolicy(doc["id"], kind, doc["data"], stamp(doc["created"]), stamp(doc["updated"]))


class SqlKmsKeys:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    @staticmethod
    def _row(k: Key) -> dict[str, Any]:
        return {
            "id": k.id,
            "instance_id": k.instance_id,
            "account_id": k.account_id,
            "service": k.service,
            "region": k.region,
            "name": k.name,
            "description": k.description,
            "tags": list(k.tags),
            "extractable": k.extractable,
            "imported": k.imported,
            "imported_with_token": k.imported_with_token,
            "key_ring_id": k.key_ring_id,
            "state": int(k.state),
            "nonactive_state_reason": k.nonactive_state_reason,
            **_stamp_in("created", k.created),
            "last_update_at": k.last_update_at,
            "last_rotate_at": k.last_rotate_at,
            "last_action_at": k.last_action_at,
            "last_sync_at": k.last_sync_at,
            "expiration_date": k.expiration_date,
            "version_id": k.version_id,
            "version_created_at": k.version_created_at,
            "dual_auth_enabled": k.dual_auth.enabled,
            **_stamp_in("dual_auth_set", k.dual_auth.set_for_deletion),
            "dual_auth_expires_at": k.dual_auth.expires_at,
            "policies": {kind: _policy_out(p) for kind, p in k.policies.items()},
            **_stamp_in("deleted", k.deleted),
            **_stamp_in("restored", k.restored),
        }

    @staticmethod
    def _key(row: Any) -> Key:
        return Key(
            id=row.id,
            instance_id=row.instance_id,
            account_id=row.account_id,
            service=row.service,
            region=row.region,
            name=row.name,
            description=row.description,
            tags=tuple(row.tags),
            extractable=row.extractable,
            imported=row.imported,
            key_ring_id=row.key_ring_id,
            state=KeyState(row.state),
            created=_required(row, "created"),
            last_update_at=row.last_update_at,
            last_rotate_at=row.last_rotate_at,
            expiration_date=row.expiration_date,
            version_id=row.version_id,
            version_created_at=row.version_created_at,
            last_action_at=row.last_action_at,
            dual_auth=DualAuth(
                row.dual_auth_enabled, _stamp_out(row, "dual_auth_set"), row.dual_auth_expires_at
            ),
            policies={kind: _policy_in(kind, doc) for kind, doc in row.policies.items()},
            deleted=_stamp_out(row, "deleted"),
            restored=_stamp_out(row, "restored"),
            last_sync_at=row.last_sync_at,
            nonactive_state_reason=row.nonactive_state_reason,
            imported_with_token=row.imported_with_token,
        )

    def _select(self, *where: sa.ColumnElement[bool]) -> list[Key]:
        k = t.kms_keys
        rows = self.conn.execute(sa.select(k).where(*where).order_by(k.c.created_at, k.c.id))
        return [self._key(row) for row in rows]

    def add(self, key: Key) -> None:
        self.conn.execute(t.kms_keys.insert().values(**self._row(key)))

    _GET = sa.select(t.kms_keys).where(
        t.kms_keys.c.id == sa.bindparam("key"), t.kms_keys.c.instance_id == sa.bindparam("instance")
    )

    def get(self, instance_id: str, key_id: str) -> Key | None:
        row = self.conn.execute(self._GET, {"key": key_id, "instance": instance_id}).first()
        return None if row is None else self._key(row)

    def update(self, key: Key) -> None:
        k = t.kms_keys
        self.conn.execute(
            k.update()
            .where(k.c.id == key.id, k.c.instance_id == key.instance_id)
            .values(**self._row(key))
        )

    def remove(self, instance_id: str, key_id: str) -> None:
        k = t.kms_keys
        self.conn.execute(k.delete().where(k.c.id == key_id, k.c.instance_id == instance_id))

    def list(self, query: KmsKeyQuery) -> Sequence[Key]:
        k = t.kms_keys
        where: list[sa.ColumnElement[bool]] = [k.c.instance_id == query.instance_id]
        if query.states is not None:
            where.append(k.c.state.in_(sorted(int(s) for s in query.states)))
        if query.extractable is not None:
            where.append(k.c.extractable == query.extractable)
        if query.key_ring_id is not None:
            where.append(k.c.key_ring_id == query.key_ring_id)
        return self._select(*where)

    def count(self, instance_id: str) -> int:
        return _count(self.conn, t.kms_keys, t.kms_keys.c.instance_id == instance_id)

    def due_for_purge(self, before: datetime) -> Sequence[Key]:
        k = t.kms_keys
        return self._select(k.c.state == int(KeyState.DESTROYED), k.c.deleted_at < before)

    def due_for_expiry(self, now: datetime) -> Sequence[Key]:
        k = t.kms_keys
        live = (int(KeyState.ACTIVE), int(KeyState.SUSPENDED))
        return self._select(k.c.state.in_(live), k.c.expiration_date < now)

    def rotation_candidates(self) -> Sequence[Key]:
        k = t.kms_keys
        enabled = k.c.policies["rotation"]["data"]["enabled"].as_boolean()
        return self._select(
            k.c.state == int(KeyState.ACTIVE),
            k.c.extractable.is_(False),
            k.c.imported.is_(False),
            enabled.is_(True),
        )


class SqlKeyVersions:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    @staticmethod
    def _version(row: Any) -> KeyVersion:
        return KeyVersion(row.id, row.key_id, row.seq, row.created_at, row.material)

    def add(self, version: KeyVersion) -> None:
        self.conn.execute(
            t.kms_key_versions.insert().values(
                id=version.id,
                key_id=version.key_id,
                seq=version.seq,
                created_at=version.created_at,
                material=version.material,
            )
        )

    _GET = sa.select(t.kms_key_versions).where(
        t.kms_key_versions.c.id == sa.bindparam("version"),
        t.kms_key_versions.c.key_id == sa.bindparam("key"),
    )

    def get(self, key_id: str, version_id: str) -> KeyVersion | None:
        row = self.conn.execute(self._GET, {"version": version_id, "key": key_id}).first()
        return None if row is None else self._version(row)

    def _newest_first(self, key_id: str) -> sa.Select[Any]:
        # Reads the unique (key_id, seq) index backwards: no scan, no sort.
        v = t.kms_key_versions
        return sa.select(v).where(v.c.key_id == key_id).order_by(v.c.seq.desc())

    def newest(self, key_id: str) -> KeyVersion | None:
        row = self.conn.execute(self._newest_first(key_id).limit(1)).first()
        return None if row is None else self._version(row)

    def list(self, key_id: str, offset: int, limit: int) -> Sequence[KeyVersion]:
        rows = self.conn.execute(self._newest_first(key_id).offset(offset).limit(limit))
        return [self._version(row) for row in rows]

    def count(self, key_id: str) -> int:
        return _count(self.conn, t.kms_key_versions, t.kms_key_versions.c.key_id == key_id)

    def erase(self, key_id: str) -> None:
        v = t.kms_key_versions
        self.conn.execute(v.delete().where(v.c.key_id == key_id))


class SqlAliases:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    @staticmethod
    def _alias(row: Any) -> Alias:
        return Alias(row.instance_id, row.alias, row.key_id, _required(row, "created"))

    def _select(self, *where: sa.ColumnElement[bool]) -> list[Alias]:
        a = t.kms_aliases
        rows = self.conn.execute(sa.select(a).where(*where).order_by(a.c.created_at, a.c.alias))
        return [self._alias(row) for row in rows]

    def add(self, alias: Alias) -> bool:
        insert = t.kms_aliases.insert().values(
            instance_id=alias.instance_id,
            alias=alias.alias,
            key_id=alias.key_id,
            **_stamp_in("created", alias.created),
        )
        return _insert_new(
            self.conn, insert, lambda: self.get(alias.instance_id, alias.alias) is not None
        )

    def get(self, instance_id: str, alias: str) -> Alias | None:
        a = t.kms_aliases
        found = self._select(a.c.instance_id == instance_id, a.c.alias == alias)
        return found[0] if found else None

    def of_key(self, instance_id: str, key_id: str) -> Sequence[Alias]:
        a = t.kms_aliases
        return self._select(a.c.instance_id == instance_id, a.c.key_id == key_id)

    def of_keys(self, instance_id: str, key_ids: Sequence[str]) -> dict[str, list[Alias]]:
        """Every key asked about has an entry, an empty list when it has no alias."""
        a = t.kms_aliases
        found: dict[str, list[Alias]] = {key_id: [] for key_id in key_ids}
        wanted = list(found)
        for start in range(0, len(wanted), _IN_CHUNK):
            chunk = wanted[start : start + _IN_CHUNK]
            for alias in self._select(a.c.instance_id == instance_id, a.c.key_id.in_(chunk)):
                found[alias.key_id].append(alias)
        return found

    def count(self, instance_id: str) -> int:
        return _count(self.conn, t.kms_aliases, t.kms_aliases.c.instance_id == instance_id)

    def remove(self, instance_id: str, alias: str) -> None:
        a = t.kms_aliases
        self.conn.execute(a.delete().where(a.c.instance_id == instance_id, a.c.alias == alias))

    def remove_for_key(self, instance_id: str, key_id: str) -> None:
        a = t.kms_aliases
        self.conn.execute(a.delete().where(a.c.instance_id == instance_id, a.c.key_id == key_id))


class SqlRegistrations:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    @staticmethod
    def _row(r: Registration) -> dict[str, Any]:
        return {
            "key_id": r.key_id,
            "resource_crn": r.resource_crn,
            "instance_id": r.instance_id,
            "description": r.description,
            "prevent_key_deletion": r.prevent_key_deletion,
            "registration_metadata": r.metadata,
            "key_version_id": r.key_version_id,
            "key_version_created_at": r.key_version_created_at,
            **_stamp_in("created", r.created),
            **_stamp_in("updated", r.updated),
        }

    @staticmethod
    def _registration(row: Any) -> Registration:
        return Registration(
            key_id=row.key_id,
            instance_id=row.instance_id,
            resource_crn=row.resource_crn,
            description=row.description,
            prevent_key_deletion=row.prevent_key_deletion,
            metadata=row.registration_metadata,
            key_version_id=row.key_version_id,
            key_version_created_at=row.key_version_created_at,
            created=_required(row, "created"),
            updated=_required(row, "updated"),
        )

    def _select(self, *where: sa.ColumnElement[bool]) -> list[Registration]:
        r = t.kms_registrations
        rows = self.conn.execute(
            sa.select(r).where(*where).order_by(r.c.created_at, r.c.key_id, r.c.resource_crn)
        )
        return [self._registration(row) for row in rows]

    def _where(self, key_id: str, resource_crn: str) -> list[sa.ColumnElement[bool]]:
        r = t.kms_registrations
        return [r.c.key_id == key_id, r.c.resource_crn == resource_crn]

    def add(self, registration: Registration) -> bool:
        insert = t.kms_registrations.insert().values(**self._row(registration))
        return _insert_new(
            self.conn,
            insert,
            lambda: self.get(registration.key_id, registration.resource_crn) is not None,
        )

    def get(self, key_id: str, resource_crn: str) -> Registration | None:
        found = self._select(*self._where(key_id, resource_crn))
        return found[0] if found else None

    def update(self, registration: Registration) -> None:
        where = self._where(registration.key_id, registration.resource_crn)
        self.conn.execute(
            t.kms_registrations.update().where(*where).values(**self._row(registration))
        )

    def remove(self, key_id: str, resource_crn: str) -> None:
        self.conn.execute(t.kms_registrations.delete().where(*self._where(key_id, resource_crn)))

    def of_key(self, key_id: str) -> Sequence[Registration]:
        return self._select(t.kms_registrations.c.key_id == key_id)

    def of_instance(self, instance_id: str) -> Sequence[Registration]:
        return self._select(t.kms_registrations.c.instance_id == instance_id)

    def remove_for_key(self, key_id: str) -> None:
        r = t.kms_registrations
        self.conn.execute(r.delete().where(r.c.key_id == key_id))
