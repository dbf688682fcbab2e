"""IAM Policy Management policies, v1 and v2 (spec §6.1, §6.2, §6.4).

Bodies are taken as raw JSON and handed to the domain service, which checks the route's action
before it looks at them and keeps the policy members exactly as sent. Responses carry the
entity tag in `ETag` (a PUT or PATCH answers with the new one; spec §1 fact 6).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Request, Response
from fastapi.responses import JSONResponse

from strongroom.access.policies import PolicyFilters
from strongroom.api.actions import iam_action
from strongroom.api.deps import CurrentGuard, Services
from strongroom.api.schemas import policies as schema
from strongroom.authz import Guard
from strongroom.store.ports import StoredPolicy

router = APIRouter()

READ = iam_action("iam-access-management.policies.read")
CREATE = iam_action("iam-access-management.policies.create")
UPDATE = iam_action("iam-access-management.policies.update")
DELETE = iam_action("iam-access-management.policies.delete")

JsonBody = Annotated[Any, Body()]
IfMatch = Annotated[str | None, Header(alias="If-Match")]


def _out(services: Services, policy: StoredPolicy, family: str, status: int = 200) -> JSONResponse:
    body = schema.policy_out(policy, family, services.settings.resolved_public_url())
    return JSONResponse(body, status_code=status, headers={"ETag": policy.entity_tag})


def _list(
    request: Request, guard: Guard, services: Services, family: str, filters: PolicyFilters
) -> dict[str, Any]:
    page = services.policies.list_policies(guard, filters)
    base = services.settings.resolved_public_url()
    items = [schema.policy_out(p, family, base) for p in page.items]
    return schema.collection(request.url, items, filters.offset, filters.limit, page.has_more)


def _filters(
    account_id: str | None,
    type: str | None,
    service_type: str | None,
    sort: str | None,
    format: str | None,
    limit: int | None,
    start: str | None,
) -> PolicyFilters:
    # `format` is accepted and ignored: we keep no permit statistics, and `display` enrichment
    # is optional (spec §6.2); the plain shape is what every SDK model reads.
    schema.one_of(format, schema.FORMATS, "format")
    column, descending = schema.sort_of(sort)
    return PolicyFilters(
        account_id=account_id,
        type=schema.one_of(type, schema.TYPES, "type"),
        service_type=schema.one_of(service_type, schema.SERVICE_TYPES, "service_type"),
        sort=column,
        descending=descending,
        offset=schema.start_of(start),
        limit=schema.limit_of(limit),
    )


# -- v1 -----------------------------------------------------------------------------------------


@router.get("/v1/policies", **READ)
def list_policies(
    request: Request,
    guard: CurrentGuard,
    services: Services,
    account_id: str | None = None,
    iam_id: str | None = None,
    access_group_id: str | None = None,
    type: str | None = None,
    service_type: str | None = None,
    tag_name: str | None = None,
    tag_value: str | None = None,
    sort: str | None = None,
    format: str | None = None,
    state: str | None = None,
    limit: int | None = None,
    start: str | None = None,
) -> dict[str, Any]:
    filters = replace(
        _filters(account_id, type, service_type, sort, format, limit, start),
        iam_id=iam_id,
        access_group_id=access_group_id,
        tag_name=tag_name,
        tag_value=tag_value,
        state=state,
    )
    return _list(request, guard, services, "v1", filters)


@router.post("/v1/policies", status_code=201, **CREATE)
def create_policy(guard: CurrentGuard, services: Services, body: JsonBody = None) -> JSONResponse:
    return _out(services, services.policies.create_v1(guard, body), "v1", 201)


@router.get("/v1/policies/{policy_id}", **READ)
def get_policy(policy_id: str, guard: CurrentGuard, services: Services) -> JSONResponse:
    return _out(services, services.policies.get(guard, policy_id), "v1")


@router.put("/v1/policies/{policy_id}", **UPDATE)
def replace_policy(
    policy_id: str,
    guard: CurrentGuard,
    services: Services,
    if_match: IfMatch = None,
    body: JsonBody = None,
) -> JSONResponse:
    return _out(services, services.policies.replace_v1(guard, policy_id, if_match, body), "v1")


@router.patch("/v1/policies/{policy_id}", **UPDATE)
def update_policy_state(
    policy_id: str,
    guard: CurrentGuard,
    services: Services,
    if_match: IfMatch = None,
    body: JsonBody = None,
) -> JSONResponse:
    state = body.get("state") if isinstance(body, dict) else None
    updated = services.policies.update_state(guard, policy_id, if_match, state)
    return _out(services, updated, "v1")


@router.delete("/v1/policies/{policy_id}", status_code=204, **DELETE)
def delete_policy(policy_id: str, guard: CurrentGuard, services: Services) -> Response:
    services.policies.delete(guard, policy_id)
    return Response(status_code=204)


# -- v2 -----------------------------------------------------------------------------------------


@router.get("/v2/policies", **READ)
def list_v2_policies(
    request: Request,
    guard: CurrentGuard,
    services: Services,
    account_id: str | None = None,
    iam_id: str | None = None,
    access_group_id: str | None = None,
    type: str | None = None,
    service_type: str | None = None,
    service_name: str | None = None,
    service_group_id: str | None = None,
    sort: str | None = None,
    format: str | None = None,
    state: str | None = None,
    limit: int | None = None,
    start: str | None = None,
) -> dict[str, Any]:
    filters = replace(
        _filters(account_id, type, service_type, sort, format, limit, start),
        iam_id=iam_id,
        access_group_id=access_group_id,
        service_name=service_name,
        service_group_id=service_group_id,
        state=state,
    )
    return _list(request, guard, services, "v2", filters)


@router.post("/v2/policies", status_code=201, **CREATE)
def create_v2_policy(
    guard: CurrentGuard, services: Services, body: JsonBody = None
) -> JSONResponse:
    return _out(services, services.policies.create_v2(guard, body), "v2", 201)


@router.get("/v2/policies/{id}", **READ)
def get_v2_policy(
    id: str, guard: CurrentGuard, services: Services, format: str | None = None
) -> JSONResponse:
    schema.one_of(format, schema.FORMATS, "format")
    return _out(services, services.policies.get(guard, id), "v2")


@router.put("/v2/policies/{id}", **UPDATE)
def replace_v2_policy(
    id: str,
    guard: CurrentGuard,
    services: Services,
    if_match: IfMatch = None,
    body: JsonBody = None,
) -> JSONResponse:
    return _out(services, services.policies.replace_v2(guard, id, if_match, body), "v2")


@router.delete("/v2/policies/{id}", status_code=204, **DELETE)
def delete_v2_policy(id: str, guard: CurrentGuard, services: Services) -> Response:
    services.policies.delete(guard, id)
    return Response(status_code=204)
