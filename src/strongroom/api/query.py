"""Query-string and header values shared by the IAM Identity routers."""

from __future__ import annotations

from collections.abc import Iterable

from strongroom.errors import Invalid
from strongroom.identity.filters import Expr, FilterError, parse

SORTS = ("name", "description", "created_at", "created_by", "modified_at")


def flag(value: str | None, header: str) -> bool:
    """`Entity-Lock` / `Entity-Disable`: the strings `true` or `false` (spec §4.1)."""
    if value is None:
        return False
    if value.lower() not in ("true", "false"):
        raise Invalid(f"the {header} header must be `true` or `false`", field=header)
    return value.lower() == "true"


def sort_field(value: str | None) -> str:
    if value is None:
        return "created_at"
    if value not in SORTS:
        raise Invalid(f"cannot sort by `{value}`; use one of {', '.join(SORTS)}", field="sort")
    return value


def list_filter(value: str | None, attributes: Iterable[str]) -> Expr | None:
    if value is None:
        return None
    try:
        return parse(value, attributes)
    except FilterError as exc:
        raise Invalid(str(exc), field="filter") from exc
