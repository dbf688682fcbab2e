"""Policy Management responses (spec §6.1, §6.2) and the Policy Management pagination style
(spec §2.6: `limit`, `start`; responses `limit`, `first{href}`, `next{href,start}`,
`previous{href,start}`; the SDK pager reads `next.start`).

A policy's body is its stored document exactly as sent (subject, resource, control, rule,
pattern, description: nothing added, nothing re-ordered; spec §1 fact 9) plus the server's
members. Its `href` names the family that wrote it, whichever family lists it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.datastructures import URL

from strongroom.api import pagination
from strongroom.api.schemas.policy_shapes import in_family
from strongroom.errors import Invalid
from strongroom.store.ports import StoredPolicy

MAX_LIMIT = 100
DEFAULT_LIMIT = 50
# IBM's sortable top-level fields (spec §6.1) -> our columns; `href` orders v1 before v2.
SORTS = {
    "id": "id",
    "type": "type",
    "href": "version",
    "created_at": "created_at",
    "created_by_id": "created_by_id",
    "last_modified_at": "last_modified_at",
    "last_modified_by_id": "last_modified_by_id",
    "state": "state",
}
TYPES = ("access", "authorization")
SERVICE_TYPES = ("service", "platform_service")
FORMATS = ("include_last_permit", "display")


def ibm_time(value: datetime) -> str:
    """Policy Management's timestamp style: `2019-01-01T12:00:00.000Z` (spec §2.5)."""
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def policy_out(policy: StoredPolicy, family: str, base_url: str) -> dict[str, Any]:
    return {
        "id": policy.id,
        **in_family(policy.document, policy.version, family),
        "href": f"{base_url}/{policy.version}/policies/{policy.id}",
        "created_at": ibm_time(policy.created_at),
        "created_by_id": policy.created_by_id,
        "last_modified_at": ibm_time(policy.last_modified_at),
        "last_modified_by_id": policy.last_modified_by_id,
        "state": policy.state,
    }


# -- list parameters ----------------------------------------------------------------------------


def limit_of(value: int | None) -> int:
    return pagination.limit_of(value, default=DEFAULT_LIMIT, maximum=MAX_LIMIT)


def start_of(token: str | None) -> int:
    return pagination.decode_token(token, "start")


def sort_of(value: str | None) -> tuple[str, bool]:
    """`sort=-last_modified_at` sorts descending (spec §6.1)."""
    if not value:
        return "created_at", False
    name = value.removeprefix("-")
    if name not in SORTS:
        raise Invalid(
            f"cannot sort policies by `{name}`; use one of {', '.join(SORTS)}", field="sort"
        )
    return SORTS[name], value.startswith("-")


def one_of(value: str | None, allowed: tuple[str, ...], field: str) -> str | None:
    if value is not None and value not in allowed:
        raise Invalid(f"`{field}` is one of {', '.join(allowed)}, not `{value}`", field=field)
    return value


def collection(
    url: URL, items: list[dict[str, Any]], offset: int, limit: int, has_more: bool
) -> dict[str, Any]:
    base = url.remove_query_params("start")
    body: dict[str, Any] = {"limit": limit, "first": {"href": str(base)}}
    if offset > 0:
        token = pagination.encode_token(max(0, offset - limit))
        body["previous"] = {"href": str(base.include_query_params(start=token)), "start": token}
    if has_more:
        token = pagination.encode_token(offset + limit)
        body["next"] = {"href": str(base.include_query_params(start=token)), "start": token}
    body["policies"] = items
    return body
