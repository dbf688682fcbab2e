"""Access-management account settings (spec §6.5): GET with an ETag, PATCH with If-Match."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header
from fastapi.responses import JSONResponse

from strongroom.api.actions import iam_action
from strongroom.api.deps import CurrentGuard, Services
from strongroom.store.ports import StoredAccessSettings

router = APIRouter()
PATH = "/v1/accounts/{account_id}/settings/access_management"


def _out(settings: StoredAccessSettings) -> JSONResponse:
    return JSONResponse(dict(settings.settings), headers={"ETag": settings.entity_tag})


@router.get(PATH, **iam_action("iam-access-management.settings.read"))
def get_settings(guard: CurrentGuard, services: Services, account_id: str) -> JSONResponse:
    return _out(services.access_settings.get(guard, account_id))


@router.patch(PATH, **iam_action("iam-access-management.settings.update"))
def update_settings(
    guard: CurrentGuard,
    services: Services,
    account_id: str,
    body: Annotated[Any, Body()] = None,
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
) -> JSONResponse:
    return _out(services.access_settings.update(guard, account_id, if_match, body))
