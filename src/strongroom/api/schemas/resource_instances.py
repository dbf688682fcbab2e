"""Resource Controller response bodies (spec §8 `ResourceInstance`, `ResourceKey`,
`Reclamation`, and the `{rows_count, next_url, resources}` lists)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from strongroom.resources.instance_models import Instance, Reclamation, ResourceKey, Stamp
from strongroom.resources.keys import CreatedKey

INSTANCES = "/v2/resource_instances"
KEYS = "/v2/resource_keys"


def rc_time(value: datetime | None) -> str | None:
    """`2019-01-01T12:00:00.000Z`: the platform APIs' timestamp style (spec §2.5)."""
    if value is None:
        return None
    millis = f"{value.microsecond // 1000:03d}"
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + millis + "Z"


def _stamp(prefix: str, stamp: Stamp | None) -> dict[str, Any]:
    return {
        f"{prefix}_at": rc_time(stamp.at) if stamp else None,
        f"{prefix}_by": stamp.by if stamp else None,
    }


def instance_out(i: Instance) -> dict[str, Any]:
    url = f"{INSTANCES}/{i.guid}"
    # The deployment the instance was placed with, in the global catalog's CRN form.
    deployment = f"{i.resource_plan_id}%3A{i.region_id}"
    target = f"crn:v1:bluemix:public:globalcatalog::::deployment:{deployment}"
    return {
        "id": i.crn,
        "guid": i.guid,
        "url": url,
        "crn": i.crn,
        "name": i.name,
        "region_id": i.region_id,
        "account_id": i.account_id,
        "resource_plan_id": i.resource_plan_id,
        "resource_group_id": i.resource_group_id,
        "resource_group_crn": i.resource_group_crn,
        "target_crn": target,
        "state": i.state.value,
        "type": "service_instance",
        "resource_id": i.resource_id,
        "dashboard_url": None,
        "last_operation": dict(i.last_operation),
        "resource_aliases_url": f"{url}/resource_aliases",
        "resource_bindings_url": f"{url}/resource_bindings",
        "resource_keys_url": f"{url}/resource_keys",
        "plan_history": [dict(h) for h in i.plan_history],
        "migrated": False,
        "allow_cleanup": i.allow_cleanup,
        "locked": i.locked,
        "parameters": dict(i.parameters),
        "extensions": {},
        "tags": list(i.tags),
        **_stamp("created", i.created),
        **_stamp("updated", i.updated),
        **_stamp("deleted", i.deleted),
        # A deleted instance is scheduled for reclamation when it is deleted (spec §8).
        **_stamp("scheduled_reclaim", i.deleted),
        **_stamp("restored", i.restored),
    }


def key_out(k: ResourceKey, *, apikey: str | None = None) -> dict[str, Any]:
    credentials: dict[str, Any] = {
        "iam_apikey_description": f"Auto-generated for resource key {k.guid}",
        "iam_apikey_name": k.apikey_name,
        "iam_role_crn": k.role_crn,
        "iam_serviceid_crn": k.service_id_crn,
    }
    if apikey is not None:
        credentials = {"apikey": apikey, **credentials}
    else:
        credentials = {"REDACTED": "REDACTED", **credentials}  # the value is shown once only
    return {
        "id": k.crn,
        "guid": k.guid,
        "url": f"{KEYS}/{k.guid}",
        "crn": k.crn,
        "name": k.name,
        "state": k.state.value,
        "account_id": k.account_id,
        "resource_group_id": k.resource_group_id,
        "resource_id": k.resource_id,
        "source_crn": k.source_crn,
        "resource_instance_url": f"{INSTANCES}/{k.source_guid}",
        "iam_compatible": True,
        "migrated": False,
        "onetime_credentials": False,
        "credentials": credentials,
        **_stamp("created", k.created),
        **_stamp("updated", k.updated),
        **_stamp("deleted", k.deleted),
    }


def created_key_out(created: CreatedKey) -> dict[str, Any]:
    return key_out(created.key, apikey=created.apikey)


def reclamation_out(r: Reclamation) -> dict[str, Any]:
    return {
        "id": r.id,
        "entity_id": r.instance_guid,
        "entity_type_id": "resource-instance",
        "entity_crn": r.instance_crn,
        "resource_instance_id": r.instance_guid,
        "resource_group_id": r.resource_group_id,
        "account_id": r.account_id,
        "state": r.state.value,
        "target_time": rc_time(r.target_time),
        "custom_properties": {"comment": r.comment} if r.comment else {},
        **_stamp("created", r.created),
        **_stamp("updated", r.updated),
    }


def listing(resources: list[dict[str, Any]], next_url: str | None) -> dict[str, Any]:
    return {"rows_count": len(resources), "next_url": next_url, "resources": resources}
