"""Resource Controller resource keys (spec §8) at IBM's paths: `/v2/resource_keys`, a key
addressed by GUID or URL-encoded CRN."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response

from strongroom.api.actions import iam_action
from strongroom.api.deps import CurrentGuard, Services
from strongroom.api.routers.resource_instances import next_url, page_window
from strongroom.api.schemas.resource_instances import created_key_out, key_out, listing
from strongroom.resources.keys import KeyFilters
from strongroom.resources.requests import check_time

router = APIRouter()

JsonBody = Annotated[Any, Body()]
KEYS = "/v2/resource_keys"
KEY = KEYS + "/{id:path}"


@router.post(KEYS, status_code=201, **iam_action("resource-controller.key.create"))
def create_resource_key(
    guard: CurrentGuard, services: Services, body: JsonBody = None
) -> dict[str, Any]:
    return created_key_out(services.keys.create(guard, body))


@router.get(KEYS, **iam_action("resource-controller.key.read"))
def list_resource_keys(
    request: Request,
    guard: CurrentGuard,
    services: Services,
    guid: str | None = None,
    name: str | None = None,
    resource_group_id: str | None = None,
    resource_id: str | None = None,
    limit: int | None = None,
    start: str | None = None,
    updated_from: str | None = None,
    updated_to: str | None = None,
) -> dict[str, Any]:
    size, offset = page_window(limit, start)
    filters = KeyFilters(
        guid=guid,
        name=name,
        resource_group_id=resource_group_id,
        resource_id=resource_id,
        updated_from=check_time(updated_from, "updated_from"),
        updated_to=check_time(updated_to, "updated_to"),
    )
    keys = services.keys.list_keys(guard, filters)
    page, more = keys[offset : offset + size], len(keys) > offset + size
    return listing([key_out(k) for k in page], next_url(request, offset, size, more))


@router.get(KEY, **iam_action("resource-controller.key.read"))
def get_resource_key(id: str, guard: CurrentGuard, services: Services) -> dict[str, Any]:
    return key_out(services.keys.get(guard, id))


@router.patch(KEY, **iam_action("resource-controller.key.update"))
def update_resource_key(
    id: str, guard: CurrentGuard, services: Services, body: JsonBody = None
) -> dict[str, Any]:
    return key_out(services.keys.rename(guard, id, body))


@router.delete(KEY, status_code=204, **iam_action("resource-controller.key.delete"))
def delete_resource_key(id: str, guard: CurrentGuard, services: Services) -> Response:
    services.keys.delete(guard, id)
    return Response(status_code=204)
