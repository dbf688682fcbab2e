"""The policy decision point services call (spec ibm-platform-api.md §12).

- `POST /v2/authz`: may this subject do this action on this resource? Up to 1000 per call,
  answered in order (`schemas/authz.py` has the shapes).
- `POST /v2/authz/roles`: which roles does this subject hold on this resource, and what do they
  grant on its service?
- `POST /v2/authz/explain` (ours, not IBM's): `/v2/authz` plus, per request, the engine's
  `reason` and the ids of the `policies` that permitted it, to find out why.

Who may ask: a caller with a Bearer token that holds `iam-access-management.authz.check` (or
`.authz.roles`) in every account the batch asks about, checked once per distinct account before
anything is decided. One account it may not ask about refuses the whole call with 403, so no
answer about another account ever leaks item by item. Under the LocalAuthorizer a token acts
only in its own account, so today that means: a caller asks about its own account.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from strongroom.api.actions import iam_action
from strongroom.api.deps import CurrentGuard, Services
from strongroom.api.schemas.authz import (
    AUTHZ_MEDIA,
    NOT_AN_ARRAY,
    ROLES_MEDIA,
    Item,
    decision_out,
    parse_requests,
    roles_out,
)
from strongroom.authz import Guard, Resource
from strongroom.errors import Invalid

router = APIRouter()

SERVICE = "iam-access-management"


def _declares(action: str) -> dict[str, Any]:
    """The route's IAM action, and its body in the OpenAPI document (read by hand, below)."""
    declared = iam_action(action)
    declared["openapi_extra"]["requestBody"] = {
        "required": True,
        "content": {"application/json": {"schema": {"type": "array", "maxItems": 1000}}},
    }
    return declared


async def _body(request: Request) -> Any:
    """The JSON body, read here rather than by FastAPI so that no body makes a 500: nesting
    too deep for the parser and unpaired surrogates (which cannot be written back out in an
    error message or an echo) are refused as bad input."""
    raw = await request.body()
    if not raw.strip():
        raise Invalid(NOT_AN_ARRAY)
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise Invalid("the request body is not valid JSON") from exc
    try:
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except (UnicodeError, RecursionError) as exc:
        raise Invalid("the request body holds text that is not valid Unicode") from exc
    return body


def _require_accounts(guard: Guard, items: list[Item]) -> None:
    asked = [item.question.resource.get("accountId", "") for item in items]
    accounts = [account for account in dict.fromkeys(asked) if account]
    # A batch that names no account (or is empty) is still checked, in the caller's own.
    for account in accounts or [guard.principal.account_id]:
        guard.require(Resource(account, SERVICE, "authz"))


def _answer(request: Request, body: dict[str, Any], vendor_type: str | None) -> JSONResponse:
    """IBM's clients ask for a vendor media type; answer in it when asked, else plain JSON."""
    accept = request.headers.get("accept", "").lower()
    media_type = vendor_type if vendor_type and vendor_type in accept else "application/json"
    return JSONResponse(body, media_type=media_type)


def _decide(
    body: Any, guard: Guard, services: Services, *, explain: bool
) -> dict[str, list[dict[str, Any]]]:
    items = parse_requests(body, with_action=True, verify=services.tokens.verify)
    _require_accounts(guard, items)
    decisions = services.decisions.decide([item.question for item in items])
    return {
        "responses": [
            decision_out(item, decision, explain=explain)
            for item, decision in zip(items, decisions, strict=True)
        ]
    }


@router.post("/v2/authz", **_declares("iam-access-management.authz.check"))
async def authorize(request: Request, guard: CurrentGuard, services: Services) -> JSONResponse:
    body = await _body(request)
    answer = await run_in_threadpool(_decide, body, guard, services, explain=False)
    return _answer(request, answer, AUTHZ_MEDIA)


@router.post("/v2/authz/explain", **_declares("iam-access-management.authz.check"))
async def explain(request: Request, guard: CurrentGuard, services: Services) -> JSONResponse:
    """Not an IBM API: `/v2/authz` with each decision's `reason` and permitting `policies`."""
    body = await _body(request)
    answer = await run_in_threadpool(_decide, body, guard, services, explain=True)
    return _answer(request, answer, None)


def _roles(body: Any, guard: Guard, services: Services) -> dict[str, list[dict[str, Any]]]:
    items = parse_requests(body, with_action=False, verify=services.tokens.verify)
    _require_accounts(guard, items)
    grants = services.decisions.roles([item.question for item in items])
    return {"responses": [roles_out(item, held) for item, held in zip(items, grants, strict=True)]}


@router.post("/v2/authz/roles", **_declares("iam-access-management.authz.roles"))
async def roles(request: Request, guard: CurrentGuard, services: Services) -> JSONResponse:
    body = await _body(request)
    answer = await run_in_threadpool(_roles, body, guard, services)
    return _answer(request, answer, ROLES_MEDIA)
