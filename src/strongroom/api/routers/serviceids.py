"""IAM Identity service IDs (spec §4.2). The collection path ends in `/`, as the SDK sends it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import JSONResponse

from strongroom.api import pagination
from strongroom.api.actions import iam_action
from strongroom.api.deps import CurrentGuard, Services
from strongroom.api.query import flag, list_filter, sort_field
from strongroom.api.schemas.identity import (
    CreateServiceIdBody,
    UpdateServiceIdBody,
    api_key_out,
    service_id_out,
)
from strongroom.identity.filters import SERVICE_ID_ATTRIBUTES
from strongroom.identity.models import ServiceId
from strongroom.store.ports import ListQuery

router = APIRouter()


def _with_etag(body: dict[str, Any], sid: ServiceId, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers={"ETag": sid.meta.entity_tag})


@router.post("/v1/serviceids/", status_code=201, **iam_action("iam-identity.serviceid.create"))
def create_service_id(
    body: CreateServiceIdBody,
    guard: CurrentGuard,
    services: Services,
    entity_lock: Annotated[str | None, Header(alias="Entity-Lock")] = None,
    show_group_id: bool = False,
) -> JSONResponse:
    sid, created = services.identity.create_service_id(
        guard,
        account_id=body.account_id,
        name=body.name,
        description=body.description or "",
        unique_instance_crns=tuple(body.unique_instance_crns or ()),
        locked=flag(entity_lock, "Entity-Lock"),
        apikey=body.apikey.spec() if body.apikey else None,
    )
    apikey = api_key_out(created.key, value=created.value) if created else None
    return _with_etag(service_id_out(sid, apikey=apikey), sid, 201)


@router.get("/v1/serviceids/", **iam_action("iam-identity.serviceid.list"))
def list_service_ids(
    request: Request,
    guard: CurrentGuard,
    services: Services,
    account_id: str | None = None,
    name: str | None = None,
    pagesize: int | None = None,
    pagetoken: str | None = None,
    sort: str | None = None,
    order: Literal["asc", "desc"] = "asc",
    include_history: bool = False,
    filter: str | None = None,
    group_id: str | None = None,
    show_group_id: bool = False,
) -> dict[str, Any]:
    limit = pagination.page_size(pagesize)
    offset = pagination.decode_token(pagetoken)
    query = ListQuery(
        account_id=account_id or guard.principal.account_id,
        name=name,
        filter=list_filter(filter, SERVICE_ID_ATTRIBUTES),
        sort=sort_field(sort),
        descending=order == "desc",
        offset=offset,
        limit=limit,
    )
    page = services.identity.list_service_ids(guard, query)
    items = [service_id_out(s, include_history=include_history) for s in page.items]
    return {**pagination.links(request.url, offset, limit, page.has_more), "serviceids": items}


@router.get("/v1/serviceids/{id}", **iam_action("iam-identity.serviceid.get"))
def get_service_id(
    id: str,
    guard: CurrentGuard,
    services: Services,
    include_history: bool = False,
    include_activity: bool = False,
    show_group_id: bool = False,
) -> JSONResponse:
    sid = services.identity.get_service_id(guard, id)
    return _with_etag(service_id_out(sid, include_history=include_history), sid)


@router.put("/v1/serviceids/{id}", **iam_action("iam-identity.serviceid.update"))
def update_service_id(
    id: str,
    body: UpdateServiceIdBody,
    guard: CurrentGuard,
    services: Services,
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
    show_group_id: bool = False,
) -> JSONResponse:
    sid = services.identity.update_service_id(guard, id, if_match, body.changes())
    return _with_etag(service_id_out(sid), sid)


@router.delete(
    "/v1/serviceids/{id}", status_code=204, **iam_action("iam-identity.serviceid.delete")
)
def delete_service_id(id: str, guard: CurrentGuard, services: Services) -> Response:
    services.identity.delete_service_id(guard, id)
    return Response(status_code=204)


@router.post(
    "/v1/serviceids/{id}/lock", status_code=204, **iam_action("iam-identity.serviceid.lock")
)
def lock_service_id(id: str, guard: CurrentGuard, services: Services) -> Response:
    services.identity.set_service_id_lock(guard, id, True)
    return Response(status_code=204)


@router.delete(
    "/v1/serviceids/{id}/lock", status_code=204, **iam_action("iam-identity.serviceid.unlock")
)
def unlock_service_id(id: str, guard: CurrentGuard, services: Services) -> Response:
    services.identity.set_service_id_lock(guard, id, False)
    return Response(status_code=204)
