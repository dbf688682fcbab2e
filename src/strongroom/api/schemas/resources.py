"""Resource Manager responses (spec §7): `ResourceGroup`, the create answer `{id, crn}`,
`QuotaDefinition`, and the `{resources: [...]}` lists. Timestamps in the
`2019-01-01T12:00:00.000Z` style (spec §2.5)."""

from __future__ import annotations

from typing import Any

from strongroom.api.schemas.policies import ibm_time
from strongroom.resources.models import QuotaDefinition, ResourceGroup


def group_out(group: ResourceGroup) -> dict[str, Any]:
    # IBM also sends `payment_methods_url` and `teams_url`; strongroom serves neither
    # endpoint, so it sends neither link (both are optional in the SDK's model).
    return {
        "id": group.id,
        "crn": group.crn,
        "account_id": group.account_id,
        "name": group.name,
        "state": group.state,
        "default": group.default,
        "quota_id": group.quota_id,
        "quota_url": f"/v2/quota_definitions/{group.quota_id}",
        "resource_linkages": [],
        "created_at": ibm_time(group.created_at),
        "updated_at": ibm_time(group.updated_at),
    }


def created_out(group: ResourceGroup) -> dict[str, Any]:
    """Spec §1 fact 5: a create answers `{id, crn}` only."""
    return {"id": group.id, "crn": group.crn}


def quota_out(quota: QuotaDefinition) -> dict[str, Any]:
    return {
        "id": quota.id,
        "name": quota.name,
        "type": quota.type,
        "number_of_apps": quota.number_of_apps,
        "number_of_service_instances": quota.number_of_service_instances,
        "default_number_of_instances_per_lite_plan": (
            quota.default_number_of_instances_per_lite_plan
        ),
        "instances_per_app": quota.instances_per_app,
        "instance_memory": quota.instance_memory,
        "total_app_memory": quota.total_app_memory,
        "vsi_limit": quota.vsi_limit,
        "resource_quotas": [
            {"id": q.id, "resource_id": q.resource_id, "crn": q.crn, "limit": q.limit}
            for q in quota.resource_quotas
        ],
        "created_at": ibm_time(quota.created_at),
        "updated_at": ibm_time(quota.updated_at),
    }
