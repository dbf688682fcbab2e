"""Role responses (spec §6.3): `RoleCollection` with all three lists always present, system and
service roles as `Role`, custom roles as `CustomRole`."""

from __future__ import annotations

from typing import Any

from strongroom.access.roles import RoleListing, RoleView
from strongroom.api.schemas.policies import ibm_time
from strongroom.store.ports import StoredRole


def role_view_out(role: RoleView) -> dict[str, Any]:
    return {
        "display_name": role.display_name,
        "description": role.description,
        "actions": list(role.actions),
        "crn": role.crn,
    }


def custom_role_out(role: StoredRole, base_url: str) -> dict[str, Any]:
    return {
        "id": role.id,
        "name": role.name,
        "display_name": role.display_name,
        "description": role.description,
        "account_id": role.account_id,
        "service_name": role.service_name,
        "actions": list(role.actions),
        "crn": role.crn,
        "created_at": ibm_time(role.created_at),
        "created_by_id": role.created_by_id,
        "last_modified_at": ibm_time(role.last_modified_at),
        "last_modified_by_id": role.last_modified_by_id,
        "href": f"{base_url}/v2/roles/{role.id}",
    }


def role_collection_out(listing: RoleListing, base_url: str) -> dict[str, Any]:
    return {
        "custom_roles": [custom_role_out(r, base_url) for r in listing.custom],
        "service_roles": [role_view_out(r) for r in listing.service],
        "system_roles": [role_view_out(r) for r in listing.system],
    }
