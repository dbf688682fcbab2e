"""Resource Manager objects (spec §7) as plain frozen dataclasses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

# Spec §7: `PATCH` sets `ACTIVE` or `SUSPENDED`. A deleted group keeps its row in state
# `DELETED` and is listed only with `include_deleted` (or a `date` on or before its deletion).
ACTIVE = "ACTIVE"
SUSPENDED = "SUSPENDED"
DELETED = "DELETED"
SETTABLE_STATES = (ACTIVE, SUSPENDED)
DEFAULT_GROUP_NAME = "Default"  # spec §7: a new account gets one default group named `Default`


@dataclass(frozen=True, slots=True)
class ResourceGroup:
    id: str  # 32 lowercase hex characters, like IBM's
    account_id: str
    name: str
    state: str
    default: bool
    quota_id: str
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None

    @property
    def crn(self) -> str:
        return (
            f"crn:v1:bluemix:public:resource-controller::a/{self.account_id}"
            f"::resource-group:{self.id}"
        )

    @property
    def deleted(self) -> bool:
        return self.state == DELETED


@dataclass(frozen=True, slots=True)
class ResourceQuota:
    """One limit inside a quota definition (spec §7 `resource_quotas[]`)."""

    id: str
    resource_id: str
    crn: str
    limit: float


@dataclass(frozen=True, slots=True)
class QuotaDefinition:
    """Spec §7 `QuotaDefinition`: the limits a resource group's quota names."""

    id: str
    name: str
    type: str
    number_of_apps: float
    number_of_service_instances: float
    default_number_of_instances_per_lite_plan: float
    instances_per_app: float
    instance_memory: str
    total_app_memory: str
    vsi_limit: float
    resource_quotas: tuple[ResourceQuota, ...]
    created_at: datetime
    updated_at: datetime
