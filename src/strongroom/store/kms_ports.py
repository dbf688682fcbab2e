"""The key management service's repositories (spec kms-api.md §2-§3), part of the one unit of
work (`store.ports.UnitOfWork`): a key, its versions, aliases and registrations change in one
transaction with the rest.

Every repository is scoped by instance: an id of another instance finds nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from strongroom.kms.models import (
    Alias,
    ImportToken,
    InstancePolicy,
    Key,
    KeyRing,
    KeyState,
    KeyVersion,
    KmsInstance,
    Registration,
)


@dataclass(frozen=True, slots=True)
class KmsKeyQuery:
    """Which keys of an instance a list reads. Search, filter and sort are applied by the
    service over the instance's keys (an instance holds at most a few thousand)."""

    instance_id: str
    states: frozenset[KeyState] | None = None  # None: every state
    extractable: bool | None = None
    key_ring_id: str | None = None


class KmsInstanceRepo(Protocol):
    def add(self, instance: KmsInstance) -> bool:
        """False (nothing written) when the instance already has its master key."""
        ...

    def get(self, instance_id: str) -> KmsInstance | None: ...


class KmsKeyRepo(Protocol):
    def add(self, key: Key) -> None: ...
    def get(self, instance_id: str, key_id: str) -> Key | None: ...
    def update(self, key: Key) -> None: ...
    def remove(self, instance_id: str, key_id: str) -> None:
        """Purge: the key row goes (its versions, aliases and registrations go with their own
        repositories, in the same unit of work)."""
        ...

    def list(self, query: KmsKeyQuery) -> Sequence[Key]: ...
    def count(self, instance_id: str) -> int: ...
    def due_for_purge(self, before: datetime) -> Sequence[Key]:
        """Destroyed keys deleted before `before` (automatic purge at 90 days)."""
        ...

    def due_for_expiry(self, now: datetime) -> Sequence[Key]:
        """Active or suspended keys whose expiration date has passed."""
        ...

    def rotation_candidates(self) -> Sequence[Key]:
        """Active root keys of generated material whose rotation policy is enabled, across
        instances: automatic rotation (kms/sweep.py) rotates those that are due."""
        ...


class KeyVersionRepo(Protocol):
    def add(self, version: KeyVersion) -> None: ...
    def get(self, key_id: str, version_id: str) -> KeyVersion | None: ...
    def newest(self, key_id: str) -> KeyVersion | None: ...
    def list(self, key_id: str, offset: int, limit: int) -> Sequence[KeyVersion]:
        """Newest first."""
        ...

    def count(self, key_id: str) -> int: ...
    def erase(self, key_id: str) -> None:
        """Purge: every version's sealed material is deleted, not kept."""
        ...


class KeyRingRepo(Protocol):
    def add(self, ring: KeyRing) -> bool:
        """False (nothing written) when the instance has a ring of that id."""
        ...

    def get(self, instance_id: str, ring_id: str) -> KeyRing | None: ...
    def list(self, instance_id: str) -> Sequence[KeyRing]:
        """The instance's own rings, oldest first (not `default`, which is implicit)."""
        ...

    def remove(self, instance_id: str, ring_id: str) -> None: ...


class AliasRepo(Protocol):
    def add(self, alias: Alias) -> bool:
        """False (nothing written) when the instance already has that alias."""
        ...

    def get(self, instance_id: str, alias: str) -> Alias | None: ...
    def of_key(self, instance_id: str, key_id: str) -> Sequence[Alias]: ...
    def of_keys(self, instance_id: str, key_ids: Sequence[str]) -> dict[str, list[Alias]]: ...
    def count(self, instance_id: str) -> int: ...
    def remove(self, instance_id: str, alias: str) -> None: ...
    def remove_for_key(self, instance_id: str, key_id: str) -> None: ...


class InstancePolicyRepo(Protocol):
    def list(self, instance_id: str) -> Sequence[InstancePolicy]: ...
    def put(self, policy: InstancePolicy) -> None:
        """Insert or replace the instance's policy of that kind."""
        ...


class ImportTokenRepo(Protocol):
    def get(self, instance_id: str) -> ImportToken | None: ...
    def put(self, token: ImportToken) -> None:
        """Insert or replace the instance's one token."""
        ...

    def use(self, instance_id: str) -> bool:
        """Take one retrieval: False when none is left (atomic: a conditional update)."""
        ...


class RegistrationRepo(Protocol):
    def add(self, registration: Registration) -> bool:
        """False when the key already has a registration for that CRN."""
        ...

    def get(self, key_id: str, resource_crn: str) -> Registration | None: ...
    def update(self, registration: Registration) -> None: ...
    def remove(self, key_id: str, resource_crn: str) -> None: ...
    def of_key(self, key_id: str) -> Sequence[Registration]: ...
    def of_instance(self, instance_id: str) -> Sequence[Registration]: ...
    def remove_for_key(self, key_id: str) -> None: ...
