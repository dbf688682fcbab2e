"""Service instances, resource keys and reclamations as the Resource Controller keeps them
(spec §8, §3.5 CRN formats). Frozen; changes are made with `dataclasses.replace`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from strongroom.crn import CRN, account_scope


class InstanceState(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    PENDING_RECLAMATION = "pending_reclamation"  # deleted, restorable until reclaimed
    REMOVED = "removed"  # reclaimed: readable, never listed by default (spec §8)


class KeyState(StrEnum):
    ACTIVE = "active"
    REMOVED = "removed"


class ReclamationState(StrEnum):
    SCHEDULED = "SCHEDULED"
    RESTORING = "RESTORING"
    RECLAIMING = "RECLAIMING"


@dataclass(frozen=True, slots=True)
class Stamp:
    """When and by whom (an iam_id) something happened."""

    at: datetime
    by: str


@dataclass(frozen=True, slots=True)
class Instance:
    guid: str
    account_id: str
    name: str
    resource_id: str  # the service, e.g. `kms`
    resource_plan_id: str
    region_id: str  # the location it was created in (`target`)
    resource_group_id: str
    resource_group_crn: str
    state: InstanceState
    locked: bool
    allow_cleanup: bool
    parameters: Mapping[str, Any]
    tags: tuple[str, ...]
    created: Stamp
    updated: Stamp
    last_operation: Mapping[str, Any]
    plan_history: tuple[Mapping[str, Any], ...] = ()
    deleted: Stamp | None = None
    restored: Stamp | None = None

    @property
    def crn(self) -> str:
        """`crn:v1:bluemix:public:<service>:<region>:a/<acct>:<guid>::` (spec §3.5)."""
        return instance_crn(self.resource_id, self.region_id, self.account_id, self.guid)


def instance_crn(service: str, region: str, account_id: str, guid: str) -> str:
    return str(
        CRN(
            service_name=service,
            location=region,
            scope=account_scope(account_id),
            service_instance=guid,
        )
    )


@dataclass(frozen=True, slots=True)
class ResourceKey:
    """Credentials for one instance: a service ID, one API key of it, and a policy granting the
    key's role on the instance, all made with the key and removed with it (spec §8)."""

    guid: str
    account_id: str
    name: str
    source_guid: str  # the instance
    source_crn: str
    resource_id: str
    resource_group_id: str
    role_crn: str
    service_id: str
    service_id_crn: str
    apikey_id: str
    apikey_name: str
    policy_id: str
    state: KeyState
    created: Stamp
    updated: Stamp
    deleted: Stamp | None = None

    @property
    def crn(self) -> str:
        base = CRN.parse(self.source_crn)
        return str(CRN(
            service_name=base.service_name,
            location=base.location,
            scope=base.scope,
            service_instance=base.service_instance,
            resource_type="resource-key",
            resource=self.guid,
        ))  # fmt: skip


@dataclass(frozen=True, slots=True)
class Reclamation:
    id: str
    account_id: str
    instance_guid: str
    instance_crn: str
    resource_group_id: str
    state: ReclamationState
    target_time: datetime
    created: Stamp
    updated: Stamp
    comment: str = ""
