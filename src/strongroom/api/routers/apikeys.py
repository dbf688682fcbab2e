"""IAM Identity API keys (spec §4.1)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import JSONResponse

from strongroom.api import pagination
from strongroom.api.actions import iam_action
from strongroom.api.deps import CurrentGuard, Services
from strongroom.api.query import flag, list_filter, sort_field
from strongroom.api.schemas.identity import CreateApiKeyBody, UpdateApiKeyBody, api_key_out
from strongroom.api.throttle import admit
from strongroom.audit import context as audit_context
from strongroom.errors import Invalid
from strongroom.identity.filters import API_KEY_ATTRIBUTES
from strongroom.identity.models import ApiKey
from strongroom.identity.requests import CreatedApiKey
from strongroom.store.ports import ListQuery

router = APIRouter()


def _with_etag(body: dict[str, Any], key: ApiKey, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers={"ETag": key.meta.entity_tag})


@router.post("/v1/apikeys", status_code=201, **iam_action("iam-identity.apikey.create"))
def create_api_key(
    request: Request,
    body: CreateApiKeyBody,
    guard: CurrentGuard,
    services: Services,
    entity_lock: Annotated[str | None, Header(alias="Entity-Lock")] = None,
    entity_disable: Annotated[str | None, Header(alias="Entity-Disable")] = None,
) -> JSONResponse:
    spec = body.spec(
        locked=flag(entity_lock, "Entity-Lock"), disabled=flag(entity_disable, "Entity-Disable")
    )

    def create() -> CreatedApiKey:
        return services.identity.create_api_key(
            guard,
            iam_id=body.iam_id,
            account_id=body.account_id or guard.principal.account_id,
            spec=spec,
        )

    if spec.value is None:
        created = create()
    else:  # a value of the caller's choosing: "in use" would answer guesses (reliability.md T4)
        created = services.key_checks.create_with_value(guard, admit(request, services), create)
    return _with_etag(api_key_out(created.key, value=created.value), created.key, 201)


@router.get("/v1/apikeys", **iam_action("iam-identity.apikey.list"))
def list_api_keys(
    request: Request,
    guard: CurrentGuard,
    services: Services,
    account_id: str | None = None,
    iam_id: str | None = None,
    pagesize: int | None = None,
    pagetoken: str | None = None,
    scope: Literal["entity", "account"] = "entity",
    type: Literal["user", "serviceid"] | None = None,
    sort: str | None = None,
    order: Literal["asc", "desc"] = "asc",
    include_history: bool = False,
    filter: str | None = None,
) -> dict[str, Any]:
    limit = pagination.page_size(pagesize)
    offset = pagination.decode_token(pagetoken)
    who = iam_id if scope == "account" else (iam_id or guard.principal.iam_id)
    query = ListQuery(
        account_id=account_id or guard.principal.account_id,
        iam_id=who,
        owner_kind=type,
        filter=list_filter(filter, API_KEY_ATTRIBUTES),
        sort=sort_field(sort),
        descending=order == "desc",
        offset=offset,
        limit=limit,
    )
    page = services.identity.list_api_keys(guard, query)
    items = [
        api_key_out(k, value=services.identity.reveal(k), include_history=include_history)
        for k in page.items
    ]
    return {**pagination.links(request.url, offset, limit, page.has_more), "apikeys": items}


@router.get("/v1/apikeys/details", **iam_action("iam-identity.apikey.get"))
def get_api_keys_details(
    request: Request,
    guard: CurrentGuard,
    services: Services,
    iam_api_key: Annotated[str | None, Header(alias="IAM-ApiKey")] = None,
    include_history: bool = False,
) -> JSONResponse:
    source = admit(request, services)  # an API key check: rate and lockout (reliability.md T4)
    if not iam_api_key:
        raise Invalid("the IAM-ApiKey header is required", field="IAM-ApiKey")
    audit_context.note_presented("apikey", iam_api_key)  # hashed if its refusal is recorded
    key = services.key_checks.key_by_value(guard, iam_api_key, source)
    return _with_etag(api_key_out(key, include_history=include_history), key)


@router.get("/v1/apikeys/{id}", **iam_action("iam-identity.apikey.get"))
def get_api_key(
    id: str,
    guard: CurrentGuard,
    services: Services,
    include_history: bool = False,
    include_activity: bool = False,
) -> JSONResponse:
    key = services.identity.get_api_key(guard, id)
    body = api_key_out(key, value=services.identity.reveal(key), include_history=include_history)
    return _with_etag(body, key)


@router.put("/v1/apikeys/{id}", **iam_action("iam-identity.apikey.update"))
def update_api_key(
    id: str,
    body: UpdateApiKeyBody,
    guard: CurrentGuard,
    services: Services,
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
) -> JSONResponse:
    key = services.identity.update_api_key(guard, id, if_match, body.changes())
    return _with_etag(api_key_out(key), key)


@router.delete("/v1/apikeys/{id}", status_code=204, **iam_action("iam-identity.apikey.delete"))
def delete_api_key(id: str, guard: CurrentGuard, services: Services) -> Response:
    services.identity.delete_api_key(guard, id)
    return Response(status_code=204)


@router.post("/v1/apikeys/{id}/lock", status_code=204, **iam_action("iam-identity.apikey.lock"))
def lock_api_key(id: str, guard: CurrentGuard, services: Services) -> Response:
    services.identity.set_api_key_flag(guard, id, locked=True)
    return Response(status_code=204)


@router.delete("/v1/apikeys/{id}/lock", status_code=204, **iam_action("iam-identity.apikey.unlock"))
def unlock_api_key(id: str, guard: CurrentGuard, services: Services) -> Response:
    services.identity.set_api_key_flag(guard, id, locked=False)
    return Response(status_code=204)


@router.post(
    "/v1/apikeys/{id}/disable", status_code=204, **iam_action("iam-identity.apikey.disable")
)
def disable_api_key(id: str, guard: CurrentGuard, services: Services) -> Response:
    services.identity.set_api_key_flag(guard, id, disabled=True)
    return Response(status_code=204)


@router.delete(
    "/v1/apikeys/{id}/disable", status_code=204, **iam_action("iam-identity.apikey.enable")
)
def enable_api_key(id: str, guard: CurrentGuard, services: Services) -> Response:
    services.identity.set_api_key_flag(guard, id, disabled=False)
    return Response(status_code=204)
