"""IAM Identity trusted profiles (spec §4.3): profiles, claim rules, links and identities."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import JSONResponse

from strongroom.api import pagination
from strongroom.api.actions import iam_action
from strongroom.api.deps import CurrentGuard, Services
from strongroom.api.query import list_filter, sort_field
from strongroom.api.schemas.profiles import (
    ClaimRuleBody,
    CreateLinkBody,
    CreateProfileBody,
    IdentityBody,
    SetIdentitiesBody,
    UpdateProfileBody,
    identities_out,
    identity_out,
    link_out,
    profile_out,
    rule_out,
)
from strongroom.identity.filters import PROFILE_ATTRIBUTES
from strongroom.identity.profile_models import LinkTarget
from strongroom.identity.profile_requests import check_identities
from strongroom.store.ports import ListQuery

router = APIRouter()
PROFILE = "/v1/profiles/{profile_id}"
GET = iam_action("iam-identity.profile.get")
UPDATE = iam_action("iam-identity.profile.update")
IfMatch = Annotated[str | None, Header(alias="If-Match")]


def _tagged(body: dict[str, Any], tag: str, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers={"ETag": tag})


# -- profiles --------------------------------------------------------------------------------------


@router.post("/v1/profiles", status_code=201, **iam_action("iam-identity.profile.create"))
def create_profile(
    body: CreateProfileBody, guard: CurrentGuard, services: Services
) -> JSONResponse:
    profile = services.profiles.create_profile(
        guard,
        account_id=body.account_id,
        name=body.name,
        description=body.description or "",
        email=body.email or "",
    )
    return _tagged(profile_out(profile), profile.meta.entity_tag, 201)


@router.get("/v1/profiles", **iam_action("iam-identity.profile.list"))
def list_profiles(
    request: Request,
    guard: CurrentGuard,
    services: Services,
    account_id: str | None = None,
    name: str | None = None,
    pagesize: int | None = None,
    pagetoken: str | None = None,
    sort: str | None = None,
    order: Literal["asc", "desc"] = "asc",
    include_history: bool = False,
    filter: str | None = None,
) -> dict[str, Any]:
    limit = pagination.page_size(pagesize)
    offset = pagination.decode_token(pagetoken)
    query = ListQuery(
        account_id=account_id or guard.principal.account_id,
        name=name,
        filter=list_filter(filter, PROFILE_ATTRIBUTES),
        sort=sort_field(sort),
        descending=order == "desc",
        offset=offset,
        limit=limit,
    )
    page = services.profiles.list_profiles(guard, query)
    items = [profile_out(p, include_history=include_history) for p in page.items]
    return {**pagination.links(request.url, offset, limit, page.has_more), "profiles": items}


@router.get(PROFILE, **GET)
def get_profile(
    profile_id: str,
    guard: CurrentGuard,
    services: Services,
    include_activity: bool = False,
    include_history: bool = False,
) -> JSONResponse:
    profile = services.profiles.get_profile(guard, profile_id)
    return _tagged(profile_out(profile, include_history=include_history), profile.meta.entity_tag)


@router.put(PROFILE, **UPDATE)
def update_profile(
    profile_id: str,
    body: UpdateProfileBody,
    guard: CurrentGuard,
    services: Services,
    if_match: IfMatch = None,
) -> JSONResponse:
    profile = services.profiles.update_profile(guard, profile_id, if_match, body.changes())
    return _tagged(profile_out(profile), profile.meta.entity_tag)


@router.delete(PROFILE, status_code=204, **iam_action("iam-identity.profile.delete"))
def delete_profile(profile_id: str, guard: CurrentGuard, services: Services) -> Response:
    services.profiles.delete_profile(guard, profile_id)
    return Response(status_code=204)


# -- claim rules -----------------------------------------------------------------------------------


@router.post(PROFILE + "/rules", status_code=201, **UPDATE)
def create_claim_rule(
    profile_id: str, body: ClaimRuleBody, guard: CurrentGuard, services: Services
) -> JSONResponse:
    rule = services.profile_parts.create_rule(guard, profile_id, body.spec())
    return _tagged(rule_out(rule), rule.entity_tag, 201)


@router.get(PROFILE + "/rules", **GET)
def list_claim_rules(profile_id: str, guard: CurrentGuard, services: Services) -> dict[str, Any]:
    rules = services.profile_parts.list_rules(guard, profile_id)
    return {"rules": [rule_out(r) for r in rules]}


@router.get(PROFILE + "/rules/{rule_id}", **GET)
def get_claim_rule(
    profile_id: str, rule_id: str, guard: CurrentGuard, services: Services
) -> JSONResponse:
    rule = services.profile_parts.get_rule(guard, profile_id, rule_id)
    return _tagged(rule_out(rule), rule.entity_tag)


@router.put(PROFILE + "/rules/{rule_id}", **UPDATE)
def update_claim_rule(
    profile_id: str,
    rule_id: str,
    body: ClaimRuleBody,
    guard: CurrentGuard,
    services: Services,
    if_match: IfMatch = None,
) -> JSONResponse:
    rule = services.profile_parts.update_rule(guard, profile_id, rule_id, if_match, body.spec())
    return _tagged(rule_out(rule), rule.entity_tag)


@router.delete(PROFILE + "/rules/{rule_id}", status_code=204, **UPDATE)
def delete_claim_rule(
    profile_id: str, rule_id: str, guard: CurrentGuard, services: Services
) -> Response:
    services.profile_parts.delete_rule(guard, profile_id, rule_id)
    return Response(status_code=204)


# -- links -----------------------------------------------------------------------------------------


@router.post(PROFILE + "/links", status_code=201, **UPDATE)
def create_link(
    profile_id: str, body: CreateLinkBody, guard: CurrentGuard, services: Services
) -> JSONResponse:
    link = services.profile_parts.create_link(guard, profile_id, body.spec())
    return _tagged(link_out(link), link.entity_tag, 201)


@router.get(PROFILE + "/links", **GET)
def list_links(profile_id: str, guard: CurrentGuard, services: Services) -> dict[str, Any]:
    links = services.profile_parts.list_links(guard, profile_id)
    return {"links": [link_out(k) for k in links]}


@router.delete(PROFILE + "/links", status_code=204, **UPDATE)
def delete_link_by_parameters(
    profile_id: str,
    guard: CurrentGuard,
    services: Services,
    type: str | None = None,
    crn: str | None = None,
    namespace: str | None = None,
    name: str | None = None,
    component_type: str | None = None,
    component_name: str | None = None,
) -> Response:
    target = LinkTarget(
        crn=crn or "",
        namespace=namespace,
        name=name,
        component_type=component_type,
        component_name=component_name,
    )
    services.profile_parts.delete_links_matching(guard, profile_id, type, target)
    return Response(status_code=204)


@router.get(PROFILE + "/links/{link_id}", **GET)
def get_link(
    profile_id: str, link_id: str, guard: CurrentGuard, services: Services
) -> JSONResponse:
    link = services.profile_parts.get_link(guard, profile_id, link_id)
    return _tagged(link_out(link), link.entity_tag)


@router.delete(PROFILE + "/links/{link_id}", status_code=204, **UPDATE)
def delete_link(profile_id: str, link_id: str, guard: CurrentGuard, services: Services) -> Response:
    services.profile_parts.delete_link(guard, profile_id, link_id)
    return Response(status_code=204)


# -- identities ------------------------------------------------------------------------------------


@router.get(PROFILE + "/identities", **GET)
def get_profile_identities(
    profile_id: str, guard: CurrentGuard, services: Services
) -> JSONResponse:
    tag, identities = services.profile_parts.get_identities(guard, profile_id)
    return _tagged(identities_out(tag, identities), tag)


@router.put(PROFILE + "/identities", **UPDATE)
def set_profile_identities(
    profile_id: str,
    body: SetIdentitiesBody,
    guard: CurrentGuard,
    services: Services,
    if_match: IfMatch = None,
) -> JSONResponse:
    wanted = check_identities([i.model_dump() for i in body.identities or ()])
    tag, identities = services.profile_parts.set_identities(guard, profile_id, if_match, wanted)
    return _tagged(identities_out(tag, identities), tag)


@router.post(PROFILE + "/identities/{identity_type}", **UPDATE)
def set_profile_identity(
    profile_id: str,
    identity_type: str,
    body: IdentityBody,
    guard: CurrentGuard,
    services: Services,
) -> dict[str, Any]:
    identity = services.profile_parts.set_identity(
        guard, profile_id, identity_type, body.identity()
    )
    return identity_out(identity)


@router.get(PROFILE + "/identities/{identity_type}/{identifier_id:path}", **GET)
def get_profile_identity(
    profile_id: str,
    identity_type: str,
    identifier_id: str,
    guard: CurrentGuard,
    services: Services,
) -> dict[str, Any]:
    found = services.profile_parts.get_identity(guard, profile_id, identity_type, identifier_id)
    return identity_out(found)


@router.delete(
    PROFILE + "/identities/{identity_type}/{identifier_id:path}", status_code=204, **UPDATE
)
def delete_profile_identity(
    profile_id: str,
    identity_type: str,
    identifier_id: str,
    guard: CurrentGuard,
    services: Services,
) -> Response:
    services.profile_parts.delete_identity(guard, profile_id, identity_type, identifier_id)
    return Response(status_code=204)
