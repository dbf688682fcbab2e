"""How a route declares its IAM action: in its decorator, in one visible place.

    @router.post("/v1/serviceids/", status_code=201, **iam_action("iam-identity.serviceid.create"))
    def create_service_id(..., guard: CurrentGuard): ...

The action is recorded in the OpenAPI document (`x-iam-action`) and bound to the request, and the
handler's `CurrentGuard` carries it to the domain service, which checks it against the resource.
Routes open to anyone say so with `**public_route()`. A test walks every route and fails on a
route that does neither, or names an action missing from the catalogs.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request

from strongroom.audit import context as audit_context

ACTION_KEY = "x-iam-action"
PUBLIC_KEY = "x-public"


class _BindAction:
    def __init__(self, action: str) -> None:
        self.action = action

    async def __call__(self, request: Request) -> None:
        request.state.iam_action = self.action
        record = audit_context.active()
        if record is not None:
            # The audit event's action, and the status a committed mutation answers with.
            record.action = self.action
            route = request.scope.get("route")
            status = getattr(route, "status_code", None)
            if isinstance(status, int):
                record.success_status = status


def iam_action(action: str) -> dict[str, Any]:
    return {"openapi_extra": {ACTION_KEY: action}, "dependencies": [Depends(_BindAction(action))]}


def public_route() -> dict[str, Any]:
    return {"openapi_extra": {PUBLIC_KEY: True}}
