"""User Management (spec §10) at IBM's paths. Bodies are taken as raw JSON and handed to the
domain service, which checks the route's action before it reads them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.responses import JSONResponse

from strongroom.api import pagination
from strongroom.api.actions import iam_action
from strongroom.api.deps import CurrentGuard, Services
from strongroom.api.schemas.users import invited_out, settings_out, user_out

router = APIRouter()

JsonBody = Annotated[Any, Body()]
USER = "/v2/accounts/{account_id}/users/{iam_id}"
MAX_LIMIT = 100


@router.get("/v2/accounts/{account_id}/users", **iam_action("user-management.user.read"))
def list_users(
    account_id: str,
    request: Request,
    guard: CurrentGuard,
    services: Services,
    limit: int = 100,
    start: Annotated[str | None, Query(alias="_start")] = None,
    search: str | None = None,
    include_settings: bool = False,
    user_id: str | None = None,
) -> dict[str, Any]:
    limit = pagination.limit_of(limit, default=MAX_LIMIT, maximum=MAX_LIMIT)
    offset = pagination.decode_token(start, "_start")
    page = services.users.list_users(
        guard, account_id, offset=offset, limit=limit, search=search, user_id=user_id
    )
    url = request.url.remove_query_params("_start")
    relative = url.path + (f"?{url.query}" if url.query else "")
    body: dict[str, Any] = {
        "total_results": page.total,
        "limit": limit,
        "first_url": relative,
        "resources": [user_out(u, include_settings=include_settings) for u in page.users],
    }
    if offset + limit < page.total:
        following = url.include_query_params(_start=pagination.encode_token(offset + limit))
        body["next_url"] = f"{following.path}?{following.query}"
    return body


@router.post(
    "/v2/accounts/{account_id}/users",
    status_code=202,
    **iam_action("user-management.user.invite"),
)
def invite_users(
    account_id: str, guard: CurrentGuard, services: Services, body: JsonBody = None
) -> JSONResponse:
    invited = services.users.invite(guard, account_id, body)
    return JSONResponse(invited_out(invited), status_code=202)


@router.post("/v2/users/accept", status_code=202, **iam_action("user-management.invitation.accept"))
def accept(guard: CurrentGuard, services: Services, body: JsonBody = None) -> Response:
    services.users.accept(guard, body)
    return Response(status_code=202)


@router.get(USER, **iam_action("user-management.user.read"))
def get_user_profile(
    account_id: str,
    iam_id: str,
    guard: CurrentGuard,
    services: Services,
    include_activity: str | None = None,
) -> dict[str, Any]:
    return user_out(services.users.get(guard, account_id, iam_id))


@router.patch(USER, status_code=204, **iam_action("user-management.user.update"))
def update_user_profile(
    account_id: str,
    iam_id: str,
    guard: CurrentGuard,
    services: Services,
    body: JsonBody = None,
    include_activity: str | None = None,
) -> Response:
    services.users.update_profile(guard, account_id, iam_id, body)
    return Response(status_code=204)


@router.delete(USER, status_code=204, **iam_action("user-management.user.remove"))
def remove_user(
    account_id: str,
    iam_id: str,
    guard: CurrentGuard,
    services: Services,
    include_activity: str | None = None,
) -> Response:
    services.users.remove(guard, account_id, iam_id)
    return Response(status_code=204)


@router.delete(
    "/v3/accounts/{account_id}/users/{iam_id}",
    status_code=202,
    **iam_action("user-management.user.remove"),
)
def v3_remove_user(
    account_id: str, iam_id: str, guard: CurrentGuard, services: Services
) -> Response:
    # IBM removes asynchronously; here the removal is done when the 202 is sent.
    services.users.remove(guard, account_id, iam_id)
    return Response(status_code=202)


@router.get(f"{USER}/settings", **iam_action("user-management.settings.read"))
def get_user_settings(
    account_id: str, iam_id: str, guard: CurrentGuard, services: Services
) -> dict[str, Any]:
    return settings_out(services.users.get(guard, account_id, iam_id).profile.settings)


@router.patch(f"{USER}/settings", status_code=204, **iam_action("user-management.settings.update"))
def update_user_settings(
    account_id: str,
    iam_id: str,
    guard: CurrentGuard,
    services: Services,
    body: JsonBody = None,
) -> Response:
    services.users.update_settings(guard, account_id, iam_id, body)
    return Response(status_code=204)
