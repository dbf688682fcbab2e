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

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from strongroom.api import json_codec
from strongroom.api.actions import iam_action
from strongroom.api.deps import Services, request_guard
from strongroom.api.plain_route import PlainRoute
from strongroom.api.schemas.authz import (
    AUTHZ_MEDIA,
    NOT_AN_ARRAY,
    ROLES_MEDIA,
    Item,
    decision_out,
    explained_out,
    parse_requests,
    roles_out,
)
from strongroom.authz import Guard, Resource
from strongroom.errors import Invalid

router = APIRouter(route_class=PlainRoute)

SERVICE = "iam-access-management"


CHECK = "iam-access-management.authz.check"
ROLES = "iam-access-management.authz.roles"


def _declares(action: str) -> dict[str, Any]:
    """The route's IAM action, and its body in the OpenAPI document (read by hand, below). The
    action is declared but not bound by a dependency: the handler passes it to `request_guard`."""
    declared = iam_action(action)
    del declared["dependencies"]
    declared["openapi_extra"]["requestBody"] = {
        "required": True,
        "content": {"application/json": {"schema": {"type": "array", "maxItems": 1000}}},
    }
    return declared


async def _body(request: Request) -> Any:
    """The JSON body, read here rather than by FastAPI so that no body makes a 500 (see
    `json_codec.read`)."""
    raw = await request.body()
    if not raw.strip():
        raise Invalid(NOT_AN_ARRAY)
    try:
        return json_codec.read(raw)
    except json_codec.Unreadable as exc:
        raise Invalid(str(exc)) from exc


def _accounts(guard: Guard, items: list[Item]) -> list[str]:
    """The accounts a batch asks about; one that names none (or is empty) is still checked, in
    the caller's own."""
    asked = [item.resource.get("accountId", "") for item in items]
    return [account for account in dict.fromkeys(asked) if account] or [guard.principal.account_id]


def _answer(request: Request, body: dict[str, Any], vendor_type: str | None) -> Response:
    """IBM's clients ask for a vendor media type; answer in it when asked, else plain JSON."""
    accept = request.headers.get("accept", "").lower()
    media_type = vendor_type if vendor_type and vendor_type in accept else "application/json"
    return Response(json_codec.write(body), media_type=media_type)


Answer = dict[str, list[dict[str, Any]]]


async def _batch(
    request: Request,
    action: str,
    *,
    with_action: bool,
    answer: Callable[[Guard, Services, list[Item], list[str]], Answer],
) -> Answer:
    """Read and authorize a batch, then answer it: on this thread when every account it asks
    about is held fresh in the policy cache (no store is read, and a worker thread would only add
    its hand-off: the work is CPU-bound under one GIL either way), else on a worker thread so
    the event loop never waits on the database."""
    guard, services = request_guard(request, action)
    body = await _body(request)
    items = parse_requests(body, with_action=with_action, verify=services.tokens.verify)
    accounts = _accounts(guard, items)
    if services.decisions.from_memory(accounts):
        return answer(guard, services, items, accounts)
    return await run_in_threadpool(answer, guard, services, items, accounts)


def _require(guard: Guard, accounts: list[str]) -> None:
    for account in accounts:
        guard.require(Resource(account, SERVICE, "authz"))


def _decide(guard: Guard, services: Services, items: list[Item], accounts: list[str]) -> Answer:
    _require(guard, accounts)
    permitted = services.decisions.permits(items)
    return {"responses": [decision_out(i, p) for i, p in zip(items, permitted, strict=True)]}


def _explain(guard: Guard, services: Services, items: list[Item], accounts: list[str]) -> Answer:
    _require(guard, accounts)
    decisions = services.decisions.decide(items)
    return {"responses": [explained_out(i, d) for i, d in zip(items, decisions, strict=True)]}


def _roles(guard: Guard, services: Services, items: list[Item], accounts: list[str]) -> Answer:
    _require(guard, accounts)
    grants = services.decisions.roles(items)
    return {"responses": [roles_out(item, held) for item, held in zip(items, grants, strict=True)]}


# The handlers take the Request alone (PlainRoute) and build their guard with `request_guard`:
# FastAPI's dependency solving cost more than the decisions (docs/benchmarks.md). The checks and
# their order are those of `CurrentGuard`: a bad token answers 401 before the body is read.


@router.post("/v2/authz", **_declares(CHECK))
async def authorize(request: Request) -> Response:
    answer = await _batch(request, CHECK, with_action=True, answer=_decide)
    return _answer(request, answer, AUTHZ_MEDIA)


@router.post("/v2/authz/explain", **_declares(CHECK))
async def explain(request: Request) -> Response:
    """Not an IBM API: `/v2/authz` with each decision's `reason` and permitting `policies`."""
    answer = await _batch(request, CHECK, with_action=True, answer=_explain)
    return _answer(request, answer, None)


@router.post("/v2/authz/roles", **_declares(ROLES))
async def roles(request: Request) -> Response:
    answer = await _batch(request, ROLES, with_action=False, answer=_roles)
    return _answer(request, answer, ROLES_MEDIA)
