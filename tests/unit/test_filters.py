"""The `filter` parser of IAM Identity lists (spec §4.8) and its reference semantics."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strongroom.identity.filters import (
    API_KEY_ATTRIBUTES,
    MAX_LENGTH,
    OPERATORS,
    SERVICE_ID_ATTRIBUTES,
    Condition,
    Expr,
    FilterError,
    Junction,
    evaluate,
    parse,
)

ATTRS = SERVICE_ID_ATTRIBUTES


def c(attribute: str, value: str, operator: str = "eq") -> Condition:
    return Condition(attribute, operator, value)


A, B, C = c("name", "a"), c("name", "b"), c("description", "c")


def test_single_condition() -> None:
    assert parse('name co "Python"', ATTRS) == Condition("name", "co", "Python")
    assert parse("name eq Python", ATTRS) == Condition("name", "eq", "Python")
    assert parse('  iam_id   sw   "iam-"  ', ATTRS) == Condition("iam_id", "sw", "iam-")


@pytest.mark.parametrize("operator", sorted(OPERATORS))
def test_every_operator_in_any_case(operator: str) -> None:
    assert parse(f'name {operator} "x"', ATTRS) == Condition("name", operator, "x")
    assert parse(f'name {operator.upper()} "x"', ATTRS) == Condition("name", operator, "x")


def test_and_binds_tighter_than_or() -> None:
    assert parse('name eq "a" or name eq "b" and description eq "c"', ATTRS) == Junction(
        "or", A, Junction("and", B, C)
    )
    assert parse('name eq "a" and name eq "b" or description eq "c"', ATTRS) == Junction(
        "or", Junction("and", A, B), C
    )


def test_junctions_associate_to_the_left_and_keywords_ignore_case() -> None:
    assert parse('name eq "a" OR name eq "b" Or description eq "c"', ATTRS) == Junction(
        "or", Junction("or", A, B), C
    )
    assert parse('name eq "a" AND name eq "b" and description eq "c"', ATTRS) == Junction(
        "and", Junction("and", A, B), C
    )


def test_parentheses_override_precedence() -> None:
    assert parse('(name eq "a" or name eq "b") and description eq "c"', ATTRS) == Junction(
        "and", Junction("or", A, B), C
    )
    assert parse('name eq "a" and (name eq "b" or description eq "c")', ATTRS) == Junction(
        "and", A, Junction("or", B, C)
    )
    assert parse('((name eq "a"))', ATTRS) == A
    assert parse('(name eq "a")and(name eq "b")', ATTRS) == Junction("and", A, B)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (r'name eq "say \"hi\""', 'say "hi"'),
        (r'name eq "back\\slash"', "back\\slash"),
        (r'name eq "trailing\\"', "trailing\\"),
        (r'name eq "\\\""', '\\"'),
        (r'name eq "\q"', "q"),
        ('name eq "a (b) or c and d"', "a (b) or c and d"),
        ('name eq ""', ""),
        ('name eq "  spaced  "', "  spaced  "),
        ('name eq "ünï ✓"', "ünï ✓"),
        ("name eq it's", "it's"),
    ],
)
def test_quoted_values_and_escapes(text: str, value: str) -> None:
    assert parse(text, ATTRS) == Condition("name", "eq", value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('email eq "x"', "cannot filter on `email`; known attributes: created_by, description"),
        ('Name eq "x"', "cannot filter on `Name`"),
        ('name like "x"', "unknown filter operator `like`"),
        ('name "eq" "x"', "unknown filter operator `eq`"),
        ("name eq", "ends too soon"),
        ("name", "ends too soon"),
        ('name eq "a" and', "ends too soon"),
        ('(name eq "a"', "not closed"),
        ('(name eq "a" name eq "b")', "not closed"),
        ('name eq "a")', "unexpected `)`"),
        ('name eq "a" name eq "b"', "unexpected `name`"),
        ('name eq "unterminated', "cannot read the filter"),
        ('"name" eq "x"', "expected an attribute name"),
        ('name eq ("x")', "expected a value after `name eq`"),
        ("", "empty"),
        ("   ", "empty"),
        ("()", "expected an attribute name"),
    ],
)
def test_bad_filters_are_refused_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(FilterError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse(text, ATTRS)


def test_filter_error_is_a_value_error() -> None:
    assert issubclass(FilterError, ValueError)


def test_attributes_are_per_list() -> None:
    assert parse('created_by eq "x"', API_KEY_ATTRIBUTES) == Condition("created_by", "eq", "x")
    with pytest.raises(FilterError, match="cannot filter on `name`"):
        parse('name eq "x"', ["description"])


def test_length_limit() -> None:
    overhead = len('name eq ""')
    longest = 'name eq "' + "x" * (MAX_LENGTH - overhead) + '"'
    assert len(longest) == MAX_LENGTH
    assert parse(longest, ATTRS) == Condition("name", "eq", "x" * (MAX_LENGTH - overhead))
    with pytest.raises(FilterError, match=f"longer than {MAX_LENGTH} characters"):
        parse('name eq "' + "x" * (MAX_LENGTH - overhead + 1) + '"', ATTRS)


def test_deep_nesting_within_the_length_limit_is_a_filter_error_or_parses() -> None:
    """A filter short enough to be accepted must not crash the parser (a RecursionError would
    escape `api/query.list_filter`, which turns only FilterError into a 400)."""
    depth = (MAX_LENGTH - len("name eq a")) // 2
    text = "(" * depth + "name eq a" + ")" * depth
    assert len(text) <= MAX_LENGTH
    try:
        expr = parse(text, ATTRS)
    except FilterError:
        return
    assert expr == Condition("name", "eq", "a")


@pytest.mark.parametrize(
    ("expr", "values", "expected"),
    [
        (c("name", "Python", "co"), {"name": "my PYTHON app"}, True),
        (c("name", "python", "eq"), {"name": "Python"}, False),
        (c("name", "Python", "eq"), {"name": "Python"}, True),
        (c("name", "python", "ne"), {"name": "Python"}, True),
        (c("name", "MY", "sw"), {"name": "my app"}, True),
        (c("name", "APP", "ew"), {"name": "my app"}, True),
        (c("name", "app", "sw"), {"name": "my app"}, False),
        (c("name", "", "co"), {"name": "anything"}, True),
        (c("description", "", "eq"), {}, True),  # a missing attribute reads as ""
        (c("description", "x", "ne"), {}, True),
        (Junction("and", c("name", "a", "co"), c("name", "b", "co")), {"name": "ab"}, True),
        (Junction("and", c("name", "a", "co"), c("name", "z", "co")), {"name": "ab"}, False),
        (Junction("or", c("name", "z", "co"), c("name", "b", "co")), {"name": "ab"}, True),
    ],
)
def test_reference_semantics(expr: Expr, values: dict[str, str], expected: bool) -> None:
    assert evaluate(expr, values) is expected


# -- property: whatever the tree, writing it out and parsing it back gives the same tree ----------


def render(expr: Expr) -> str:
    if isinstance(expr, Condition):
        escaped = expr.value.replace("\\", "\\\\").replace('"', '\\"')
        return f'{expr.attribute} {expr.operator} "{escaped}"'
    return f"({render(expr.left)} {expr.operator} {render(expr.right)})"


conditions = st.builds(
    Condition,
    st.sampled_from(ATTRS),
    st.sampled_from(sorted(OPERATORS)),
    st.text(alphabet=st.sampled_from(list('ab "\\()\tx\n%é')) | st.characters(), max_size=8),
)
expressions = st.recursive(
    conditions,
    lambda inner: st.builds(Junction, st.sampled_from(["and", "or"]), inner, inner),
    max_leaves=6,
)


@given(expressions)
def test_render_then_parse_gives_the_same_tree(expr: Expr) -> None:
    assert parse(render(expr), ATTRS) == expr


pieces = st.sampled_from(
    [
        "name",
        "description",
        "eq",
        "co",
        "ne",
        "and",
        "or",
        "AND",
        "(",
        ")",
        '"',
        '"x"',
        "\\",
        " ",
        "v",
    ]
)


@given(st.lists(pieces, max_size=40).map("".join) | st.text(max_size=60))
def test_any_text_parses_or_is_a_filter_error(text: str) -> None:
    """Whatever a caller sends, the parser answers with a tree or a FilterError, never a crash."""
    try:
        expr = parse(text, ATTRS)
    except FilterError as exc:
        assert str(exc)
    else:
        assert isinstance(expr, Condition | Junction)
        assert parse(render(expr), ATTRS) == expr
