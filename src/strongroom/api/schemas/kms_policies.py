"""How key and instance policies look on the wire (spec kms-api.md §3.6, Appendix A)."""

from __future__ import annotations

from typing import Any

from strongroom.api.kms_wire import MediaType
from strongroom.api.schemas.kms import rfc3339
from strongroom.kms.models import InstancePolicy, Key, KeyPolicy


def key_policy_out(key: Key, policy: KeyPolicy) -> dict[str, Any]:
    """`{id, crn, type, creationDate, createdBy, lastUpdateDate, updatedBy, <kind>: {...}}`.
    The CRN is the key's instance CRN with `policy:<id>` as its resource (inferred: no client
    reads it)."""
    return {
        "id": policy.id,
        "crn": key.crn.rsplit(":key:", 1)[0] + f":policy:{policy.id}",
        "type": str(MediaType.POLICY),
        "creationDate": rfc3339(policy.created.at),
        "createdBy": policy.created.by,
        "lastUpdateDate": rfc3339(policy.updated.at),
        "updatedBy": policy.updated.by,
        policy.kind: dict(policy.data),
    }


def instance_policy_out(policy: InstancePolicy) -> dict[str, Any]:
    """`{policy_type, policy_data: {enabled, attributes?}, creationDate, createdBy, updatedBy,
    lastUpdated}` (not `lastUpdateDate`: spec §3.6)."""
    data: dict[str, Any] = {"enabled": policy.enabled}
    if policy.attributes:
        data["attributes"] = dict(policy.attributes)
    return {
        "policy_type": policy.kind,
        "policy_data": data,
        "creationDate": rfc3339(policy.created.at),
        "createdBy": policy.created.by,
        "updatedBy": policy.updated.by,
        "lastUpdated": rfc3339(policy.updated.at),
    }
