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
from strongroom.api.deps import Services, request_guard
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
    if _may_hold_surrogates(raw):
        try:
            json.dumps(body, ensure_ascii=False).encode("utf-8")
        except (UnicodeError, RecursionError) as exc:
            raise Invalid("the request body holds text that is not valid Unicode") from exc
    return body


def _may_hold_surrogates(raw: bytes) -> bool:
    """Whether the parsed body can hold a lone surrogate, so that writing it back is checked
    only then (it was a third of a bulk request's parsing). `json.loads` gets one from a `\\u`
    escape or from UTF-8 bytes it decodes with `surrogatepass` (a surrogate's lead byte is
    0xED); a UTF-16 or UTF-32 body (a NUL in the first four bytes) is always checked."""
    return b"\\u" in raw or b"\xed" in raw or b"\x00" in raw[:4]


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


# The handlers take the Request alone and build their guard with `request_guard`: FastAPI's
# dependency solving cost more than the decisions (docs/benchmarks.md). The checks and their
# order are those of `CurrentGuard`: a bad token answers 401 before the body is read.


@router.post("/v2/authz", **_declares(CHECK))
async def authorize(request: Request) -> JSONResponse:
    guard, services = request_guard(request, CHECK)
    body = await _body(request)
    answer = await run_in_threadpool(_decide, body, guard, services, explain=False)
    return _answer(request, answer, AUTHZ_MEDIA)


@router.post("/v2/authz/explain", **_declares(CHECK))
async def explain(request: Request) -> JSONResponse:
    """Not an IBM API: `/v2/authz` with each decision's `reason` and permitting `policies`."""
    guard, services = request_guard(request, CHECK)
    body = await _body(request)
    answer = await run_in_threadpool(_decide, body, guard, services, explain=True)
    return _answer(request, answer, None)


def _roles(body: Any, guard: Guard, services: Services) -> dict[str, list[dict[str, Any]]]:
    items = parse_requests(body, with_action=False, verify=services.tokens.verify)
    _require_accounts(guard, items)
    grants = services.decisions.roles([item.question for item in items])
    return {"responses": [roles_out(item, held) for item, held in zip(items, grants, strict=True)]}


@router.post("/v2/authz/roles", **_declares(ROLES))
async def roles(request: Request) -> JSONResponse:
    guard, services = request_guard(request, ROLES)
    body = await _body(request)
    answer = await run_in_threadpool(_roles, body, guard, services)
    return _answer(request, answer, ROLES_MEDIA)
