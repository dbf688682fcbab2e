"""IAM Identity account settings (spec §4.4). The PUT body is raw JSON, checked by the domain
service after the route's action; GET and PUT carry the entity tag in `ETag`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header
from fastapi.responses import JSONResponse

from strongroom.api.actions import iam_action
from strongroom.api.deps import CurrentGuard, Services
from strongroom.api.schemas.users import account_settings_out, effective_settings_out

router = APIRouter()

PATH = "/v1/accounts/{account_id}/settings/identity"


@router.get(PATH, **iam_action("iam-identity.account-settings.get"))
def get_account_settings(
    account_id: str,
    guard: CurrentGuard,
    services: Services,
    include_history: bool = False,
    resolve_user_mfa: bool = False,
) -> JSONResponse:
    found = services.account_settings.get(guard, account_id)
    body = account_settings_out(found, include_history=include_history)
    return JSONResponse(body, headers={"ETag": found.entity_tag})


@router.put(PATH, **iam_action("iam-identity.account-settings.update"))
def update_account_settings(
    account_id: str,
    guard: CurrentGuard,
    services: Services,
    body: Annotated[Any, Body()] = None,
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
) -> JSONResponse:
    updated = services.account_settings.update(guard, account_id, if_match, body)
    # IBM answers an update with its history (its own integration test reads `history`).
    body_out = account_settings_out(updated, include_history=True)
    return JSONResponse(body_out, headers={"ETag": updated.entity_tag})


@router.get(
    "/v1/accounts/{account_id}/effective_settings/identity",
    **iam_action("iam-identity.account-settings.get"),
)
def get_effective_account_settings(
    account_id: str,
    guard: CurrentGuard,
    services: Services,
    include_history: bool = False,
    resolve_user_mfa: bool = False,
) -> dict[str, Any]:
    return effective_settings_out(services.account_settings.get(guard, account_id))
