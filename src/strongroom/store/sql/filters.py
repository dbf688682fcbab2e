"""Translate a parsed list filter (identity/filters.py) into SQL with the same semantics as its
reference evaluator: co/sw/ew ignore case (casefold), eq/ne compare exactly, on both dialects."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.base import ReadOnlyColumnCollection

from strongroom.identity.filters import Condition, Expr


def to_sql(
    expr: Expr, columns: ReadOnlyColumnCollection[str, sa.Column[Any]]
) -> sa.ColumnElement[bool]:
    if not isinstance(expr, Condition):
        left, right = to_sql(expr.left, columns), to_sql(expr.right, columns)
        return sa.and_(left, right) if expr.operator == "and" else sa.or_(left, right)
    column = columns[expr.attribute]
    if expr.operator == "eq":
        return column == expr.value
    if expr.operator == "ne":
        return column != expr.value
    # co/sw/ew ignore case as str.casefold does: against the stored folded copy where there is
    # one (free text), else lower() (identifiers, which are ASCII).
    folded_name = f"{expr.attribute}_folded"
    folded = columns[folded_name] if folded_name in columns else sa.func.lower(column)
    value = expr.value.casefold()
    if expr.operator == "co":
        return folded.contains(value, autoescape=True)
    if expr.operator == "sw":
        return folded.startswith(value, autoescape=True)
    return folded.endswith(value, autoescape=True)
