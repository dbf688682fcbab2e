"""IAM Access Groups responses (spec §5.1): `Group`, `GroupsList` and `GroupMembersList` with
`first`/`previous`/`next`/`last` as `{href}` (the SDK pagers read `offset` from `next.href`,
spec §2.6), `Rule`, `AccountSettings`, and the 207 bodies whose items carry `status_code`,
`trace` and `errors`. Timestamps in the `2019-01-01T12:00:00.000Z` style (spec §2.5)."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import URL

from strongroom.access.group_members import ListedMember, Outcome
from strongroom.access.group_models import AccessGroup, GroupRule, GroupSettings
from strongroom.api.schemas.policies import ibm_time


def group_crn(group: AccessGroup) -> str:
    return f"crn:v1:bluemix:public:iam-groups::a/{group.account_id}::group:{group.id}"


def group_out(
    group: AccessGroup,
    base_url: str,
    *,
    is_federated: bool | None = None,
    show_crn: bool = False,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": group.id,
        "name": group.name,
        "description": group.description,  # "" when none was given (spec §1 fact 9)
        "account_id": group.account_id,
        "created_at": ibm_time(group.created_at),
        "created_by_id": group.created_by_id,
        "last_modified_at": ibm_time(group.last_modified_at),
        "last_modified_by_id": group.last_modified_by_id,
        "href": f"{base_url}/v2/groups/{group.id}",
    }
    if is_federated is not None:
        body["is_federated"] = is_federated
    if show_crn:
        body["crn"] = group_crn(group)
    return body


def page_links(url: URL, offset: int, limit: int, total: int) -> dict[str, Any]:
    """`limit`, `offset`, `total_count` and the four links; `next` only while more remain."""

    def at(position: int) -> dict[str, str]:
        return {"href": str(url.include_query_params(limit=limit, offset=position))}

    body: dict[str, Any] = {"limit": limit, "offset": offset, "total_count": total}
    body["first"] = at(0)
    if limit > 0:
        if offset > 0:
            body["previous"] = at(max(0, offset - limit))
        if offset + limit < total:
            body["next"] = at(offset + limit)
        body["last"] = at(max(0, (total - 1) // limit * limit))
    return body


def member_out(member: ListedMember, base_url: str, group_id: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "iam_id": member.iam_id,
        "type": member.type,
        "membership_type": member.membership_type,
        "href": f"{base_url}/v2/groups/{group_id}/members/{member.iam_id}",
    }
    for name in ("name", "email", "description"):
        if getattr(member, name):
            body[name] = getattr(member, name)
    if member.created_at is not None:
        body["created_at"] = ibm_time(member.created_at)
    if member.created_by_id:
        body["created_by_id"] = member.created_by_id
    return body


def _status(outcome: Outcome, trace: str) -> dict[str, Any]:
    body: dict[str, Any] = {"status_code": outcome.status, "trace": trace}
    if outcome.error:
        body["errors"] = [{"code": outcome.error_code, "message": outcome.error}]
    return body


def added_members_out(outcomes: list[Outcome], trace: str) -> dict[str, Any]:
    """`AddGroupMembersResponse`."""
    members = []
    for o in outcomes:
        item: dict[str, Any] = {"iam_id": o.iam_id, "type": o.type}
        if o.created_at is not None:
            item["created_at"] = ibm_time(o.created_at)
            item["created_by_id"] = o.created_by_id
        members.append({**item, **_status(o, trace)})
    return {"members": members}


def removed_members_out(group_id: str, outcomes: list[Outcome], trace: str) -> dict[str, Any]:
    """`DeleteGroupBulkMembersResponse`."""
    return {
        "access_group_id": group_id,
        "members": [{"iam_id": o.iam_id, **_status(o, trace)} for o in outcomes],
    }


def groups_of_member_out(iam_id: str, outcomes: list[Outcome], trace: str) -> dict[str, Any]:
    """`AddMembershipMultipleGroupsResponse` and `DeleteFromAllGroupsResponse`."""
    return {
        "iam_id": iam_id,
        "groups": [{"access_group_id": o.group_id, **_status(o, trace)} for o in outcomes],
    }


def rule_out(rule: GroupRule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.name,
        "expiration": rule.expiration,
        "realm_name": rule.realm_name,
        "access_group_id": rule.group_id,
        "account_id": rule.account_id,
        "conditions": [dict(c) for c in rule.conditions],
        "created_at": ibm_time(rule.created_at),
        "created_by_id": rule.created_by_id,
        "last_modified_at": ibm_time(rule.last_modified_at),
        "last_modified_by_id": rule.last_modified_by_id,
    }


def settings_out(settings: GroupSettings) -> dict[str, Any]:
    body: dict[str, Any] = {
        "account_id": settings.account_id,
        "public_access_enabled": settings.public_access_enabled,
    }
    if settings.last_modified_at is not None:
        body["last_modified_at"] = ibm_time(settings.last_modified_at)
        body["last_modified_by_id"] = settings.last_modified_by_id
    return body
