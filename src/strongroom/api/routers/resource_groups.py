"""Resource Manager (spec §7): `/v2/resource_groups` and `/v2/quota_definitions`.

Bodies go to the domain service raw: it checks the route's action before it reads them.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Response
from fastapi.responses import JSONResponse

from strongroom.api.actions import iam_action
from strongroom.api.deps import CurrentGuard, Services
from strongroom.api.schemas import resources as schema
from strongroom.resources.groups import GroupQuery

router = APIRouter()

JsonBody = Annotated[Any, Body()]
GROUP = "/v2/resource_groups/{id}"


@router.get("/v2/resource_groups", **iam_action("resource-controller.group.read"))
def list_resource_groups(
    guard: CurrentGuard,
    services: Services,
    account_id: str | None = None,
    date: str | None = None,
    name: str | None = None,
    default: bool | None = None,
    include_deleted: bool = False,
) -> dict[str, Any]:
    query = GroupQuery(account_id, name, default, include_deleted, date)
    groups = services.resource_groups.list_groups(guard, query)
    return {"resources": [schema.group_out(g) for g in groups]}


@router.post(
    "/v2/resource_groups", status_code=201, **iam_action("resource-controller.group.create")
)
def create_resource_group(
    guard: CurrentGuard, services: Services, body: JsonBody = None
) -> JSONResponse:
    group = services.resource_groups.create(guard, body)
    return JSONResponse(schema.created_out(group), 201)


@router.get(GROUP, **iam_action("resource-controller.group.read"))
def get_resource_group(id: str, guard: CurrentGuard, services: Services) -> dict[str, Any]:
    return schema.group_out(services.resource_groups.get(guard, id))


@router.patch(GROUP, **iam_action("resource-controller.group.update"))
def update_resource_group(
    id: str, guard: CurrentGuard, services: Services, body: JsonBody = None
) -> dict[str, Any]:
    return schema.group_out(services.resource_groups.update(guard, id, body))


@router.delete(GROUP, status_code=204, **iam_action("resource-controller.group.delete"))
def delete_resource_group(id: str, guard: CurrentGuard, services: Services) -> Response:
    services.resource_groups.delete(guard, id)
    return Response(status_code=204)


@router.get("/v2/quota_definitions", **iam_action("resource-controller.quota.read"))
def list_quota_definitions(guard: CurrentGuard, services: Services) -> dict[str, Any]:
    return {"resources": [schema.quota_out(q) for q in services.resource_groups.list_quotas(guard)]}


@router.get("/v2/quota_definitions/{id}", **iam_action("resource-controller.quota.read"))
def get_quota_definition(id: str, guard: CurrentGuard, services: Services) -> dict[str, Any]:
    return schema.quota_out(services.resource_groups.get_quota(guard, id))
