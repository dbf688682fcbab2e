"""IAM Access Groups (spec §5.1), plus strongroom's own `POST /v2/groups/_federated_logins`.

The literal segments `settings`, `_allgroups` and `_federated_logins` share the position of
`{access_group_id}`, so their routes are registered first. Bodies go to the domain service raw:
it checks the route's action before it reads them.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Request, Response
from fastapi.responses import JSONResponse

from strongroom.access.group_members import MemberQuery
from strongroom.access.groups import GroupQuery
from strongroom.api.actions import iam_action
from strongroom.api.deps import CurrentGuard, Services
from strongroom.api.schemas import groups as schema

router = APIRouter()

JsonBody = Annotated[Any, Body()]
IfMatch = Annotated[str | None, Header(alias="If-Match")]
GROUP = "/v2/groups/{access_group_id}"


def _trace(request: Request) -> str:
    return str(getattr(request.state, "trace", ""))


def _base(services: Services) -> str:
    return services.settings.resolved_public_url()


# -- literal segments first ---------------------------------------------------------------------


@router.get("/v2/groups/settings", **iam_action("iam-groups.settings.read"))
def get_settings(
    guard: CurrentGuard, services: Services, account_id: str | None = None
) -> dict[str, Any]:
    return schema.settings_out(services.groups.get_settings(guard, account_id))


@router.patch("/v2/groups/settings", **iam_action("iam-groups.settings.update"))
def update_settings(
    guard: CurrentGuard, services: Services, account_id: str | None = None, body: JsonBody = None
) -> dict[str, Any]:
    return schema.settings_out(services.groups.update_settings(guard, account_id, body))


@router.put(
    "/v2/groups/_allgroups/members/{iam_id}",
    status_code=207,
    **iam_action("iam-groups.members.add"),
)
def add_member_to_groups(
    iam_id: str,
    request: Request,
    guard: CurrentGuard,
    services: Services,
    account_id: str | None = None,
    body: JsonBody = None,
) -> JSONResponse:
    outcomes = services.groups.add_to_groups(guard, account_id, iam_id, body)
    return JSONResponse(schema.groups_of_member_out(iam_id, outcomes, _trace(request)), 207)


@router.delete(
    "/v2/groups/_allgroups/members/{iam_id}",
    status_code=207,
    **iam_action("iam-groups.members.remove"),
)
def remove_member_from_all_groups(
    iam_id: str,
    request: Request,
    guard: CurrentGuard,
    services: Services,
    account_id: str | None = None,
) -> JSONResponse:
    outcomes = services.groups.remove_from_all(guard, account_id, iam_id)
    return JSONResponse(schema.groups_of_member_out(iam_id, outcomes, _trace(request)), 207)


@router.post(
    "/v2/groups/_federated_logins", status_code=204, **iam_action("iam-groups.members.add")
)
def record_federated_login(
    guard: CurrentGuard, services: Services, account_id: str | None = None, body: JsonBody = None
) -> Response:
    """strongroom's own (not IBM's): an identity-provider bridge records a user's login and
    its claims, which the account's dynamic rules of that realm are evaluated against."""
    services.groups.record_login(guard, account_id, body)
    return Response(status_code=204)


# -- groups -------------------------------------------------------------------------------------


@router.post("/v2/groups", status_code=201, **iam_action("iam-groups.groups.create"))
def create_group(
    guard: CurrentGuard, services: Services, account_id: str | None = None, body: JsonBody = None
) -> JSONResponse:
    group = services.groups.create_group(guard, account_id, body)
    return JSONResponse(
        schema.group_out(group, _base(services)), 201, headers={"ETag": group.entity_tag}
    )


@router.get("/v2/groups", **iam_action("iam-groups.groups.read"))
def list_groups(
    request: Request,
    guard: CurrentGuard,
    services: Services,
    account_id: str | None = None,
    iam_id: str | None = None,
    search: str | None = None,
    membership_type: str | None = None,
    limit: int = 50,
    offset: int = 0,
    sort: str | None = None,
    show_federated: bool = False,
    hide_public_access: bool = False,
    show_crn: bool = False,
) -> dict[str, Any]:
    query = GroupQuery(
        account_id=account_id,
        iam_id=iam_id,
        search=search,
        membership_type=membership_type,
        limit=limit,
        offset=offset,
        sort=sort,
        hide_public_access=hide_public_access,
    )
    page = services.groups.list_groups(guard, query)
    groups = [
        schema.group_out(
            item.group,
            _base(services),
            is_federated=item.is_federated if show_federated else None,
            show_crn=show_crn,
        )
        for item in page.items
    ]
    return {**schema.page_links(request.url, offset, limit, page.total), "groups": groups}


@router.get(GROUP, **iam_action("iam-groups.groups.read"))
def get_group(
    access_group_id: str,
    guard: CurrentGuard,
    services: Services,
    show_federated: bool = False,
    show_crn: bool = False,
) -> JSONResponse:
    item = services.groups.get_group(guard, access_group_id)
    body = schema.group_out(
        item.group,
        _base(services),
        is_federated=item.is_federated if show_federated else None,
        show_crn=show_crn,
    )
    return JSONResponse(body, headers={"ETag": item.group.entity_tag})


@router.patch(GROUP, **iam_action("iam-groups.groups.update"))
def update_group(
    access_group_id: str,
    guard: CurrentGuard,
    services: Services,
    if_match: IfMatch = None,
    body: JsonBody = None,
) -> JSONResponse:
    group = services.groups.update_group(guard, access_group_id, if_match, body)
    return JSONResponse(
        schema.group_out(group, _base(services)), headers={"ETag": group.entity_tag}
    )


@router.delete(GROUP, status_code=204, **iam_action("iam-groups.groups.delete"))
def delete_group(
    access_group_id: str, guard: CurrentGuard, services: Services, force: bool = False
) -> Response:
    services.groups.delete_group(guard, access_group_id, force)
    return Response(status_code=204)


# -- members ------------------------------------------------------------------------------------


@router.put(f"{GROUP}/members", status_code=207, **iam_action("iam-groups.members.add"))
def add_members(
    access_group_id: str,
    request: Request,
    guard: CurrentGuard,
    services: Services,
    body: JsonBody = None,
) -> JSONResponse:
    outcomes = services.groups.add_members(guard, access_group_id, body)
    return JSONResponse(schema.added_members_out(outcomes, _trace(request)), 207)


@router.get(f"{GROUP}/members", **iam_action("iam-groups.members.read"))
def list_members(
    access_group_id: str,
    request: Request,
    guard: CurrentGuard,
    services: Services,
    membership_type: str | None = None,
    limit: int = 50,
    offset: int = 0,
    type: str | None = None,
    verbose: bool = False,
    sort: str | None = None,
) -> dict[str, Any]:
    query = MemberQuery(membership_type, type, verbose, sort, limit, offset)
    members, total = services.groups.list_members(guard, access_group_id, query)
    items = [schema.member_out(m, _base(services), access_group_id) for m in members]
    return {**schema.page_links(request.url, offset, limit, total), "members": items}


@router.head(
    f"{GROUP}/members/{{iam_id}}", status_code=204, **iam_action("iam-groups.members.read")
)
def check_membership(
    access_group_id: str, iam_id: str, guard: CurrentGuard, services: Services
) -> Response:
    member = services.groups.is_member(guard, access_group_id, iam_id)
    return Response(status_code=204 if member else 404)


@router.delete(
    f"{GROUP}/members/{{iam_id}}", status_code=204, **iam_action("iam-groups.members.remove")
)
def remove_member(
    access_group_id: str, iam_id: str, guard: CurrentGuard, services: Services
) -> Response:
    services.groups.remove_member(guard, access_group_id, iam_id)
    return Response(status_code=204)


@router.post(f"{GROUP}/members/delete", status_code=207, **iam_action("iam-groups.members.remove"))
def remove_members(
    access_group_id: str,
    request: Request,
    guard: CurrentGuard,
    services: Services,
    body: JsonBody = None,
) -> JSONResponse:
    outcomes = services.groups.remove_members(guard, access_group_id, body)
    return JSONResponse(schema.removed_members_out(access_group_id, outcomes, _trace(request)), 207)


# -- rules --------------------------------------------------------------------------------------


@router.post(f"{GROUP}/rules", status_code=201, **iam_action("iam-groups.rules.create"))
def add_rule(
    access_group_id: str, guard: CurrentGuard, services: Services, body: JsonBody = None
) -> JSONResponse:
    rule = services.groups.add_rule(guard, access_group_id, body)
    return JSONResponse(schema.rule_out(rule), 201, headers={"ETag": rule.entity_tag})


@router.get(f"{GROUP}/rules", **iam_action("iam-groups.rules.read"))
def list_rules(access_group_id: str, guard: CurrentGuard, services: Services) -> dict[str, Any]:
    rules = services.groups.list_rules(guard, access_group_id)
    return {"rules": [schema.rule_out(r) for r in rules]}


@router.get(f"{GROUP}/rules/{{rule_id}}", **iam_action("iam-groups.rules.read"))
def get_rule(
    access_group_id: str, rule_id: str, guard: CurrentGuard, services: Services
) -> JSONResponse:
    rule = services.groups.get_rule(guard, access_group_id, rule_id)
    return JSONResponse(schema.rule_out(rule), headers={"ETag": rule.entity_tag})


@router.put(f"{GROUP}/rules/{{rule_id}}", **iam_action("iam-groups.rules.update"))
def replace_rule(
    access_group_id: str,
    rule_id: str,
    guard: CurrentGuard,
    services: Services,
    if_match: IfMatch = None,
    body: JsonBody = None,
) -> JSONResponse:
    rule = services.groups.replace_rule(guard, access_group_id, rule_id, if_match, body)
    return JSONResponse(schema.rule_out(rule), headers={"ETag": rule.entity_tag})


@router.delete(
    f"{GROUP}/rules/{{rule_id}}", status_code=204, **iam_action("iam-groups.rules.delete")
)
def remove_rule(
    access_group_id: str, rule_id: str, guard: CurrentGuard, services: Services
) -> Response:
    services.groups.remove_rule(guard, access_group_id, rule_id)
    return Response(status_code=204)
