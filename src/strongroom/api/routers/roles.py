"""IAM Policy Management roles (spec §6.3): list system, service and custom roles; custom role
CRUD. As for policies, bodies go to the domain service raw, after its guard check."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Response
from fastapi.responses import JSONResponse

from strongroom.access.roles import RoleFilters
from strongroom.api.actions import iam_action
from strongroom.api.deps import CurrentGuard, Services
from strongroom.api.schemas.roles import custom_role_out, role_collection_out
from strongroom.store.ports import StoredRole

router = APIRouter()

JsonBody = Annotated[Any, Body()]
IfMatch = Annotated[str | None, Header(alias="If-Match")]


def _out(services: Services, role: StoredRole, status: int = 200) -> JSONResponse:
    body = custom_role_out(role, services.settings.resolved_public_url())
    return JSONResponse(body, status_code=status, headers={"ETag": role.entity_tag})


@router.get("/v2/roles", **iam_action("iam-access-management.roles.read"))
def list_roles(
    guard: CurrentGuard,
    services: Services,
    account_id: str | None = None,
    service_name: str | None = None,
    source_service_name: str | None = None,
    policy_type: str | None = None,
    service_group_id: str | None = None,
) -> dict[str, Any]:
    filters = RoleFilters(
        account_id=account_id,
        service_name=service_name,
        source_service_name=source_service_name,
        policy_type=policy_type,
        service_group_id=service_group_id,
    )
    listing = services.roles.list_roles(guard, filters)
    return role_collection_out(listing, services.settings.resolved_public_url())


@router.post("/v2/roles", status_code=201, **iam_action("iam-access-management.roles.create"))
def create_role(guard: CurrentGuard, services: Services, body: JsonBody = None) -> JSONResponse:
    return _out(services, services.roles.create(guard, body), 201)


@router.get("/v2/roles/{role_id}", **iam_action("iam-access-management.roles.read"))
def get_role(role_id: str, guard: CurrentGuard, services: Services) -> JSONResponse:
    return _out(services, services.roles.get(guard, role_id))


@router.put("/v2/roles/{role_id}", **iam_action("iam-access-management.roles.update"))
def replace_role(
    role_id: str,
    guard: CurrentGuard,
    services: Services,
    if_match: IfMatch = None,
    body: JsonBody = None,
) -> JSONResponse:
    return _out(services, services.roles.replace(guard, role_id, if_match, body))


@router.delete(
    "/v2/roles/{role_id}", status_code=204, **iam_action("iam-access-management.roles.delete")
)
def delete_role(role_id: str, guard: CurrentGuard, services: Services) -> Response:
    services.roles.delete(guard, role_id)
    return Response(status_code=204)
