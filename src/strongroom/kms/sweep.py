"""What happens to keys with the passing of time alone (spec kms-api.md §2.2, §3.3, §3.6):

- a root key whose enabled rotation policy is due is rotated (a new version, as a manual
  rotation makes: `wrapping.rotate_key`), `interval_month` times 30 days after its last rotation or
  its creation (kms/key_policies.rotation_due; a key overdue by several intervals rotates once);
- a key whose expiration date has passed is stored Deactivated (state 3; reads already show it
  so, kms/lifecycle.effective, and lists filter on the stored state);
- a key deleted 90 days ago is purged: its material is erased, not only hidden.

`strongroom serve` runs the sweep every `STRONGROOM_KMS_SWEEP_SECONDS` (bootstrap.Runtime); tests
call `sweep()` after moving the key-management clock. Each rotation is its own unit of work,
re-read and re-checked there, so a user's rotation or another node's sweep in between is not
repeated (two nodes racing on PostgreSQL collide on the version's unique sequence number, and
one rolls back); one key that fails does not hold up the others.

Each change is audited in its own unit of work (reliability.md A3): one event per rotated,
deactivated or purged key, `<service>.secrets.rotate|expire|purge`, initiated by the service
itself (audit/events.py `SERVICE_INITIATOR`). An event that cannot be stored rolls its change
back, to be made again at the next sweep.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from strongroom.clock import Clock
from strongroom.kms import lifecycle
from strongroom.kms.crypto.backend import CryptoBackend
from strongroom.kms.key_policies import rotation_due
from strongroom.kms.keys import erase
from strongroom.kms.models import Key
from strongroom.kms.scope import Scope
from strongroom.kms.wrapping import rotate_key
from strongroom.resources.instance_models import InstanceState
from strongroom.store.ports import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger("strongroom.kms")


class SweepAudit(Protocol):
    def service_change(
        self,
        unit: UnitOfWork,
        *,
        account_id: str,
        service: str,
        instance_id: str,
        key_id: str,
        verb: str,
        at: datetime,
    ) -> None:
        """Store the event of a change the service made, in the change's unit of work."""
        ...


@dataclass(frozen=True, slots=True)
class SweepReport:
    """The ids of the keys one sweep changed, and of those it could not rotate."""

    rotated: tuple[str, ...] = ()
    expired: tuple[str, ...] = ()
    purged: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()


class KmsSweep:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        backend: CryptoBackend,
        audit: SweepAudit | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._backend = backend
        self._audit = audit

    def sweep(self, now: datetime | None = None) -> SweepReport:
        now = now or self._clock.now()
        with self._uow() as uow:
            due = [k for k in uow.kms_keys.rotation_candidates() if rotation_due(k, now)]
        rotated: list[str] = []
        failed: list[str] = []
        for key in due:
            try:
                if self._rotate(key, now):
                    rotated.append(key.id)
            except Exception:  # one key's failure must not stop the others' rotation
                log.exception("automatic rotation of key %s failed", key.id)
                failed.append(key.id)
        try:
            with self._uow(write=True) as uow:
                expired = self._expire(uow, now)
                purged = self._purge(uow, now)
        except Exception:  # an audit sink down, say: rolled back, and tried at the next sweep
            log.exception("expiring and purging keys failed")
            expired = purged = ()
        return SweepReport(tuple(rotated), expired, purged, tuple(failed))

    def _rotate(self, candidate: Key, now: datetime) -> bool:
        with self._uow(write=True) as uow:
            key = uow.kms_keys.get(candidate.instance_id, candidate.id)
            if key is None or not rotation_due(lifecycle.effective(key, now), now):
                return False  # purged, rotated, disabled or expired meanwhile
            instance = uow.resource_instances.get(key.instance_id)
            kms = uow.kms_instances.get(key.instance_id)
            if instance is None or kms is None or instance.state is not InstanceState.ACTIVE:
                return False  # a suspended or reclaimed instance's keys wait, like its users
            rotate_key(uow, self._backend, Scope(instance, kms), key, now)
            self._audited(uow, key, "rotate", now)
        return True

    def _expire(self, uow: UnitOfWork, now: datetime) -> tuple[str, ...]:
        found = uow.kms_keys.due_for_expiry(now)
        for key in found:
            uow.kms_keys.update(lifecycle.effective(key, now))
            self._audited(uow, key, "expire", now)
        return tuple(k.id for k in found)

    def _purge(self, uow: UnitOfWork, now: datetime) -> tuple[str, ...]:
        found = uow.kms_keys.due_for_purge(now - lifecycle.AUTO_PURGE_AFTER)
        for key in found:
            self._audited(uow, key, "purge", now)
            erase(uow, key.instance_id, key.id)
        return tuple(k.id for k in found)

    def _audited(self, uow: UnitOfWork, key: Key, verb: str, now: datetime) -> None:
        if self._audit is None:
            return
        instance = uow.resource_instances.get(key.instance_id)
        self._audit.service_change(
            uow,
            account_id=instance.account_id if instance else "",
            service=instance.resource_id if instance else "kms",
            instance_id=key.instance_id,
            key_id=key.id,
            verb=verb,
            at=now,
        )
