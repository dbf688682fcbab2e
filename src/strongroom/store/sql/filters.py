"""Translate a parsed list filter (identity/filters.py) into SQL with the same semantics:
co/sw/ew compare case-insensitively, eq/ne exactly, on both dialects."""

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
    lowered, value = sa.func.lower(column), expr.value.lower()
    if expr.operator == "co":
        return lowered.contains(value, autoescape=True)
    if expr.operator == "sw":
        return lowered.startswith(value, autoescape=True)
    return lowered.endswith(value, autoescape=True)
