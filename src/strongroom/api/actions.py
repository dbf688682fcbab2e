"""How a route declares its IAM action: in its decorator, in one visible place.

    @router.post("/v1/serviceids/", status_code=201, **iam_action("iam-identity.serviceid.create"))
    def create_service_id(..., guard: CurrentGuard): ...

The action is recorded in the OpenAPI document (`x-iam-action`) and bound to the request, and the
handler's `CurrentGuard` carries it to the domain service, which checks it against the resource.
Routes open to anyone say so with `**public_route()`. A test walks every route and fails on a
route that does neither, or names an action missing from the catalogs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Depends, Request

from strongroom.audit import context as audit_context

ACTION_KEY = "x-iam-action"
PUBLIC_KEY = "x-public"


# The status a route answers when it succeeds: fixed, or read from the request (a `Prefer`).
Answers = int | Callable[[Request], int]


class _BindAction:
    def __init__(self, action: str, answers: Answers | None = None) -> None:
        self.action = action
        self.answers = answers

    async def __call__(self, request: Request) -> None:
        request.state.iam_action = self.action
        record = audit_context.active()
        if record is not None:
            # The audit event's action, and the status a committed mutation answers with: its
            # event is written before the answer exists (reliability.md A3 a, reasonCode).
            record.action = self.action
            answers = self.answers
            status = (
                answers(request)
                if callable(answers)
                else answers or getattr(request.scope.get("route"), "status_code", None)
            )
            if isinstance(status, int):
                record.success_status = status


def iam_action(action: str, *, answers: Answers | None = None) -> dict[str, Any]:
    """`answers`: the success status of a route that returns its own `Response` with a status
    other than its decorator's (Key Protect's 201 and 204), so its audit event says it."""
    bind = _BindAction(action, answers)
    return {"openapi_extra": {ACTION_KEY: action}, "dependencies": [Depends(bind)]}


def public_route() -> dict[str, Any]:
    return {"openapi_extra": {PUBLIC_KEY: True}}
