"""Enterprise Management (spec §9) at IBM's paths under `/v1` (the SDK's service URL ends in
`/v1`): enterprises, accounts, account groups. Bodies are taken as raw JSON and handed to the
domain services, which check the route's action before they read them. Lists page with `limit`
(0-100) and an opaque `next_docid` carried in `next_url` (spec §2.6)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Body, Request, Response
from fastapi.responses import JSONResponse

from strongroom.api import pagination
from strongroom.api.actions import iam_action
from strongroom.api.deps import CurrentGuard, Services
from strongroom.api.schemas.enterprises import (
    account_out,
    created_account_out,
    created_enterprise_out,
    enterprise_out,
    group_out,
)
from strongroom.store.ports import Page

router = APIRouter()

JsonBody = Annotated[Any, Body()]
MAX_LIMIT = 100
T = TypeVar("T")


def _window(limit: int | None, next_docid: str | None) -> tuple[int, int]:
    # `limit=0` asks for the default, as IBM's SDK documents it.
    size = pagination.limit_of(limit or None, default=MAX_LIMIT, maximum=MAX_LIMIT)
    return pagination.decode_token(next_docid, "next_docid"), size


def _listed(
    request: Request, page: Page[T], offset: int, size: int, out: Callable[[T], dict[str, Any]]
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "rows_count": len(page.items),
        "next_url": None,
        "resources": [out(item) for item in page.items],
    }
    if page.has_more:
        following = request.url.include_query_params(
            next_docid=pagination.encode_token(offset + size)
        )
        body["next_url"] = f"{following.path}?{following.query}"
    return body


# -- enterprises --------------------------------------------------------------------------------


@router.post("/v1/enterprises", status_code=202, **iam_action("enterprise.enterprise.create"))
def create_enterprise(
    guard: CurrentGuard, services: Services, body: JsonBody = None
) -> JSONResponse:
    created = services.enterprises.create_enterprise(guard, body)
    return JSONResponse(created_enterprise_out(created), status_code=202)


@router.get("/v1/enterprises", **iam_action("enterprise.enterprise.read"))
def list_enterprises(
    request: Request,
    guard: CurrentGuard,
    services: Services,
    enterprise_account_id: str | None = None,
    account_group_id: str | None = None,
    account_id: str | None = None,
    next_docid: str | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    offset, size = _window(limit, next_docid)
    found = services.enterprises.list_enterprises(
        guard,
        enterprise_account_id=enterprise_account_id,
        account_group_id=account_group_id,
        account_id=account_id,
    )
    page = Page(found[offset : offset + size], offset + size < len(found))
    return _listed(request, page, offset, size, enterprise_out)


@router.get("/v1/enterprises/{enterprise_id}", **iam_action("enterprise.enterprise.read"))
def get_enterprise(enterprise_id: str, guard: CurrentGuard, services: Services) -> dict[str, Any]:
    return enterprise_out(services.enterprises.get_enterprise(guard, enterprise_id))


@router.patch(
    "/v1/enterprises/{enterprise_id}",
    status_code=204,
    **iam_action("enterprise.enterprise.update"),
)
def update_enterprise(
    enterprise_id: str, guard: CurrentGuard, services: Services, body: JsonBody = None
) -> Response:
    services.enterprises.update_enterprise(guard, enterprise_id, body)
    return Response(status_code=204)


@router.put(
    "/v1/enterprises/{enterprise_id}/import/accounts/{account_id}",
    status_code=202,
    **iam_action("enterprise.account.import"),
)
def import_account(
    enterprise_id: str,
    account_id: str,
    guard: CurrentGuard,
    services: Services,
    body: JsonBody = None,
) -> Response:
    services.enterprises.import_account(guard, enterprise_id, account_id, body)
    return Response(status_code=202)


# -- accounts -----------------------------------------------------------------------------------


@router.post("/v1/accounts", status_code=202, **iam_action("enterprise.account.create"))
def create_account(guard: CurrentGuard, services: Services, body: JsonBody = None) -> JSONResponse:
    created = services.enterprises.create_account(guard, body)
    return JSONResponse(created_account_out(created), status_code=202)


@router.get("/v1/accounts", **iam_action("enterprise.account.read"))
def list_accounts(
    request: Request,
    guard: CurrentGuard,
    services: Services,
    enterprise_id: str | None = None,
    account_group_id: str | None = None,
    parent: str | None = None,
    include_deleted: bool = False,
    next_docid: str | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    offset, size = _window(limit, next_docid)
    page = services.enterprises.list_accounts(
        guard,
        enterprise_id=enterprise_id,
        account_group_id=account_group_id,
        parent=parent,
        include_deleted=include_deleted,
        offset=offset,
        limit=size,
    )
    return _listed(request, page, offset, size, account_out)


@router.get("/v1/accounts/{account_id}", **iam_action("enterprise.account.read"))
def get_account(account_id: str, guard: CurrentGuard, services: Services) -> dict[str, Any]:
    return account_out(services.enterprises.get_account(guard, account_id))


@router.patch(
    "/v1/accounts/{account_id}", status_code=202, **iam_action("enterprise.account.update")
)
def move_account(
    account_id: str, guard: CurrentGuard, services: Services, body: JsonBody = None
) -> Response:
    services.enterprises.move_account(guard, account_id, body)
    return Response(status_code=202)


@router.delete(
    "/v1/accounts/{account_id}", status_code=204, **iam_action("enterprise.account.delete")
)
def delete_account(account_id: str, guard: CurrentGuard, services: Services) -> Response:
    services.enterprises.delete_account(guard, account_id)
    return Response(status_code=204)


# -- account groups -----------------------------------------------------------------------------


@router.post("/v1/account-groups", status_code=201, **iam_action("enterprise.account-group.create"))
def create_account_group(
    guard: CurrentGuard, services: Services, body: JsonBody = None
) -> JSONResponse:
    group_id = services.account_groups.create(guard, body)
    return JSONResponse({"account_group_id": group_id}, status_code=201)


@router.get("/v1/account-groups", **iam_action("enterprise.account-group.read"))
def list_account_groups(
    request: Request,
    guard: CurrentGuard,
    services: Services,
    enterprise_id: str | None = None,
    parent_account_group_id: str | None = None,
    parent: str | None = None,
    include_deleted: bool = False,
    next_docid: str | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    offset, size = _window(limit, next_docid)
    page = services.account_groups.list(
        guard,
        enterprise_id=enterprise_id,
        parent_account_group_id=parent_account_group_id,
        parent=parent,
        include_deleted=include_deleted,
        offset=offset,
        limit=size,
    )
    return _listed(request, page, offset, size, group_out)


@router.get("/v1/account-groups/{account_group_id}", **iam_action("enterprise.account-group.read"))
def get_account_group(
    account_group_id: str, guard: CurrentGuard, services: Services
) -> dict[str, Any]:
    return group_out(services.account_groups.get(guard, account_group_id))


@router.patch(
    "/v1/account-groups/{account_group_id}",
    status_code=204,
    **iam_action("enterprise.account-group.update"),
)
def update_account_group(
    account_group_id: str, guard: CurrentGuard, services: Services, body: JsonBody = None
) -> Response:
    services.account_groups.update(guard, account_group_id, body)
    return Response(status_code=204)


@router.delete(
    "/v1/account-groups/{account_group_id}",
    status_code=204,
    **iam_action("enterprise.account-group.delete"),
)
def delete_account_group(
    account_group_id: str, guard: CurrentGuard, services: Services
) -> Response:
    services.account_groups.delete(guard, account_group_id)
    return Response(status_code=204)
