"""Resource Controller service instances and reclamations (spec §8) at IBM's paths.

An instance is addressed by GUID or by its URL-encoded CRN; a CRN holds `a/<account>`, so the
id is a `path` parameter and the routes for its sub-resources come before the plain one.
Bodies are taken as raw JSON and checked by the use case after its guard.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response

from strongroom.api import pagination
from strongroom.api.actions import iam_action
from strongroom.api.deps import CurrentGuard, Services
from strongroom.api.schemas.resource_instances import (
    instance_out,
    key_out,
    listing,
    reclamation_out,
)
from strongroom.errors import Invalid
from strongroom.resources.instances import InstanceFilters
from strongroom.resources.requests import check_time

router = APIRouter()

JsonBody = Annotated[Any, Body()]
INSTANCES = "/v2/resource_instances"
INSTANCE = INSTANCES + "/{id:path}"
MAX_LIMIT = 100


def page_window(limit: int | None, start: str | None) -> tuple[int, int]:
    """`limit` (1-100, default 100) and the offset in `start` (spec §8 lists)."""
    return (
        pagination.limit_of(limit, default=MAX_LIMIT, maximum=MAX_LIMIT),
        pagination.decode_token(start, "start"),
    )


def next_url(request: Request, offset: int, limit: int, has_more: bool) -> str | None:
    """Spec §2.6: a relative URL whose `start` query parameter the SDK's pager reads."""
    if not has_more:
        return None
    url = request.url.remove_query_params("start").include_query_params(
        start=pagination.encode_token(offset + limit)
    )
    return f"{url.path}?{url.query}"


@router.post(INSTANCES, status_code=201, **iam_action("resource-controller.instance.create"))
def create_resource_instance(
    guard: CurrentGuard, services: Services, body: JsonBody = None
) -> dict[str, Any]:
    return instance_out(services.instances.create(guard, body))


@router.get(INSTANCES, **iam_action("resource-controller.instance.read"))
def list_resource_instances(
    request: Request,
    guard: CurrentGuard,
    services: Services,
    guid: str | None = None,
    name: str | None = None,
    resource_group_id: str | None = None,
    resource_id: str | None = None,
    resource_plan_id: str | None = None,
    type: str | None = None,
    sub_type: str | None = None,
    limit: int | None = None,
    start: str | None = None,
    state: str | None = None,
    updated_from: str | None = None,
    updated_to: str | None = None,
) -> dict[str, Any]:
    size, offset = page_window(limit, start)
    filters = InstanceFilters(
        guid=guid,
        name=name,
        resource_group_id=resource_group_id,
        resource_id=resource_id,
        resource_plan_id=resource_plan_id,
        type=type,
        state=state,
        updated_from=check_time(updated_from, "updated_from"),
        updated_to=check_time(updated_to, "updated_to"),
    )
    page = services.instances.list_instances(guard, filters, offset=offset, limit=size)
    return listing(
        [instance_out(i) for i in page.items], next_url(request, offset, size, page.has_more)
    )


@router.post(f"{INSTANCE}/lock", **iam_action("resource-controller.instance.lock"))
def lock_resource_instance(id: str, guard: CurrentGuard, services: Services) -> dict[str, Any]:
    return instance_out(services.instances.set_lock(guard, id, True))


@router.delete(f"{INSTANCE}/lock", **iam_action("resource-controller.instance.unlock"))
def unlock_resource_instance(id: str, guard: CurrentGuard, services: Services) -> dict[str, Any]:
    return instance_out(services.instances.set_lock(guard, id, False))


@router.delete(f"{INSTANCE}/last_operation", **iam_action("resource-controller.instance.update"))
def cancel_lastop_resource_instance(
    id: str, guard: CurrentGuard, services: Services
) -> dict[str, Any]:
    return instance_out(services.instances.cancel_last_operation(guard, id))


@router.get(f"{INSTANCE}/resource_keys", **iam_action("resource-controller.key.read"))
def list_resource_keys_for_instance(
    id: str,
    request: Request,
    guard: CurrentGuard,
    services: Services,
    limit: int | None = None,
    start: str | None = None,
) -> dict[str, Any]:
    size, offset = page_window(limit, start)
    keys = services.keys.list_for_instance(guard, id)
    page = keys[offset : offset + size]
    more = len(keys) > offset + size
    return listing([key_out(k) for k in page], next_url(request, offset, size, more))


@router.get(INSTANCE, **iam_action("resource-controller.instance.read"))
def get_resource_instance(id: str, guard: CurrentGuard, services: Services) -> dict[str, Any]:
    return instance_out(services.instances.get(guard, id))


@router.patch(INSTANCE, **iam_action("resource-controller.instance.update"))
def update_resource_instance(
    id: str, guard: CurrentGuard, services: Services, body: JsonBody = None
) -> dict[str, Any]:
    return instance_out(services.instances.update(guard, id, body))


@router.delete(INSTANCE, status_code=204, **iam_action("resource-controller.instance.delete"))
def delete_resource_instance(
    id: str, guard: CurrentGuard, services: Services, recursive: bool = False
) -> Response:
    # The API definition says 202; IBM's live integration test asserts 204 (spec §8).
    services.instances.delete(guard, id, recursive=recursive)
    return Response(status_code=204)


# -- reclamations ---------------------------------------------------------------------------------


@router.get("/v1/reclamations", **iam_action("resource-controller.instance.read"))
def list_reclamations(
    guard: CurrentGuard,
    services: Services,
    account_id: str | None = None,
    resource_instance_id: str | None = None,
    resource_group_id: str | None = None,
) -> dict[str, Any]:
    found = services.reclamations.list_reclamations(
        guard,
        account_id=account_id,
        resource_instance_id=resource_instance_id,
        resource_group_id=resource_group_id,
    )
    return {"resources": [reclamation_out(r) for r in found]}


@router.post(
    "/v1/reclamations/{id}/actions/{action_name}",
    **iam_action("resource-controller.instance.delete"),
)
def run_reclamation_action(
    id: str, action_name: str, guard: CurrentGuard, services: Services, body: JsonBody = None
) -> dict[str, Any]:
    data = body if isinstance(body, dict) else {}
    if body is not None and not isinstance(body, dict):
        raise Invalid("the request body must be a JSON object", field="body")
    done = services.reclamations.run(
        guard, id, action_name, request_by=data.get("request_by"), comment=data.get("comment")
    )
    return reclamation_out(done)
