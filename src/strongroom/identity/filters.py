"""The `filter` query parameter of IAM Identity lists (spec §4.8). Pure.

A SCIM-like expression: `<attribute> <op> "<value>"` joined with `and` / `or` (and binds tighter),
with parentheses. Operators: eq, ne, co (contains), sw (starts with), ew (ends with). The spec
notes that IBM's own grammar was not retrieved; this is a safe superset of what clients send
(`name co "Python"`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

OPERATORS = frozenset({"eq", "ne", "co", "sw", "ew"})
SERVICE_ID_ATTRIBUTES = ("name", "description", "id", "iam_id", "created_by")
API_KEY_ATTRIBUTES = ("name", "description", "id", "iam_id", "created_by")
PROFILE_ATTRIBUTES = ("name", "description", "id", "iam_id", "created_by", "email")
MAX_LENGTH = 1024
MAX_DEPTH = 16  # nesting of parentheses; deeper filters are refused, not recursed into


class FilterError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Condition:
    attribute: str
    operator: str
    value: str


@dataclass(frozen=True, slots=True)
class Junction:
    operator: str  # "and" | "or"
    left: Expr
    right: Expr


Expr = Condition | Junction

_TOKEN = re.compile(r'\s*(?:(\()|(\))|"((?:[^"\\]|\\.)*)"|([^\s()"]+))')


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None:
            raise FilterError(f"cannot read the filter at `{text[pos : pos + 20]}`")
        lpar, rpar, quoted, word = match.groups()
        if lpar:
            out.append(("(", lpar))
        elif rpar:
            out.append((")", rpar))
        elif quoted is not None:
            out.append(("str", re.sub(r"\\(.)", r"\1", quoted)))
        else:
            out.append(("word", word))
        pos = match.end()
    return out


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], attributes: frozenset[str]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.attributes = attributes
        self.depth = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise FilterError("the filter ends too soon")
        self.pos += 1
        return token

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token is not None and token[0] == "word" and token[1].lower() == word:
            self.pos += 1
            return True
        return False

    def expression(self) -> Expr:
        left = self.term()
        while self.keyword("or"):
            left = Junction("or", left, self.term())
        return left

    def term(self) -> Expr:
        left = self.factor()
        while self.keyword("and"):
            left = Junction("and", left, self.factor())
        return left

    def factor(self) -> Expr:
        kind, text = self.take()
        if kind == "(":
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise FilterError(f"the filter nests parentheses deeper than {MAX_DEPTH}")
            inner = self.expression()
            self.depth -= 1
            closing = self.peek()
            if closing is None or closing[0] != ")":
                raise FilterError("a `(` in the filter is not closed")
            self.pos += 1
            return inner
        if kind != "word":
            raise FilterError(f"expected an attribute name, found `{text}`")
        if text not in self.attributes:
            known = ", ".join(sorted(self.attributes))
            raise FilterError(f"cannot filter on `{text}`; known attributes: {known}")
        op_kind, op = self.take()
        if op_kind != "word" or op.lower() not in OPERATORS:
            raise FilterError(f"unknown filter operator `{op}`; use one of eq, ne, co, sw, ew")
        value_kind, value = self.take()
        if value_kind not in ("str", "word"):
            raise FilterError(f"expected a value after `{text} {op}`")
        return Condition(text, op.lower(), value)


def parse(text: str, attributes: Iterable[str]) -> Expr:
    if len(text) > MAX_LENGTH:
        raise FilterError(f"the filter is longer than {MAX_LENGTH} characters")
    parser = _Parser(_tokens(text), frozenset(attributes))
    if not parser.tokens:
        raise FilterError("the filter is empty")
    expr = parser.expression()
    if parser.peek() is not None:
        raise FilterError(f"unexpected `{parser.peek()[1]}` in the filter")  # type: ignore[index]
    return expr


def evaluate(expr: Expr, values: dict[str, str]) -> bool:
    """Reference semantics (the SQL adapter must agree): co/sw/ew ignore case as str.casefold
    does, eq/ne compare exactly."""
    if isinstance(expr, Junction):
        if expr.operator == "and":
            return evaluate(expr.left, values) and evaluate(expr.right, values)
        return evaluate(expr.left, values) or evaluate(expr.right, values)
    have = values.get(expr.attribute) or ""
    if expr.operator == "eq":
        return have == expr.value
    if expr.operator == "ne":
        return have != expr.value
    have, want = have.casefold(), expr.value.casefold()
    if expr.operator == "co":
        return want in have
    if expr.operator == "sw":
        return have.startswith(want)
    return have.endswith(want)
