"""Attribute operators and rule conditions of the policy engine (spec §6.2)."""

from __future__ import annotations

import re
import time
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strongroom.policy.conditions import compile_rule
from strongroom.policy.model import Condition, PolicyError, Request, Rule, Subject
from strongroom.policy.operators import compile_pattern, compile_test, glob_match


def matches(pattern: str, text: str) -> bool:
    return glob_match(compile_pattern(pattern), text)


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("kms-*", "kms-prod", True),
        ("kms-*", "kms-", True),
        ("kms-*", "km", False),
        ("*", "", True),
        ("a?c", "abc", True),
        ("a?c", "ac", False),
        ("*-prod-*", "eu-prod-1", True),
        ("*-prod-*", "eu-dev-1", False),
        ("a*b*c", "aXXbYYc", True),
        ("a*b*c", "aXXcYYb", False),
        ("{{*}}", "*", True),
        ("{{*}}", "x", False),
        ("a{{?}}", "a?", True),
        ("a{{?}}", "ab", False),
        ("{{$}}x", "$x", True),
        ("exact", "exact", True),
        ("exact", "exactly", False),
    ],
)
def test_string_match(pattern: str, text: str, expected: bool) -> None:
    assert matches(pattern, text) is expected


@given(st.text(alphabet="ab*?", max_size=12), st.text(alphabet="ab", max_size=12))
def test_glob_agrees_with_a_regex(pattern: str, text: str) -> None:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    assert matches(pattern, text) == (re.fullmatch(regex, text, re.DOTALL) is not None)


def test_glob_is_not_exponential() -> None:
    pattern = "*a" * 50 + "b"
    text = "a" * 10_000
    began = time.perf_counter()
    assert not matches(pattern, text)
    # A generous bound: a backtracking regex needs far longer on this input.
    assert time.perf_counter() - began < 5


REGIONS = ("us-south", "eu-de")


@pytest.mark.parametrize(
    ("condition", "attrs", "expected"),
    [
        (Condition("serviceName", "stringEquals", "kms"), {"serviceName": "kms"}, True),
        (Condition("serviceName", "stringEquals", "kms"), {}, False),
        (Condition("resource", "stringExists", True), {"resource": "k"}, True),
        (Condition("resource", "stringExists", False), {"resource": "k"}, False),
        (Condition("resource", "stringExists", False), {}, True),
        (Condition("region", "stringEqualsAnyOf", REGIONS), {"region": "eu-de"}, True),
        (Condition("region", "stringEqualsAnyOf", REGIONS), {"region": "eu-gb"}, False),
        (Condition("resource", "stringMatchAnyOf", ("a*", "b?")), {"resource": "bz"}, True),
        (Condition("resource", "stringMatchAnyOf", ("a*", "b?")), {"resource": "bzz"}, False),
    ],
)
def test_attribute_operators(condition: Condition, attrs: dict[str, str], expected: bool) -> None:
    assert compile_test(condition)(attrs) is expected


@pytest.mark.parametrize(
    "condition",
    [
        Condition("serviceName", "stringContains", "kms"),
        Condition("serviceName", "stringEquals", ""),
        Condition("serviceName", "stringEqualsAnyOf", "kms"),
        Condition("resource", "stringExists", "yes"),
    ],
)
def test_bad_conditions_are_refused(condition: Condition) -> None:
    with pytest.raises(PolicyError):
        compile_test(condition)


def request_at(moment: str, **resource: str) -> Request:
    return Request(Subject("IBMid-x"), "kms.secrets.wrap", resource, datetime.fromisoformat(moment))


TIME = "{{environment.attributes.current_time}}"
DAY = "{{environment.attributes.day_of_week}}"
WHEN = "{{environment.attributes.current_date_time}}"
WEEKDAYS = ("1+05:30", "2+05:30", "3+05:30", "4+05:30", "5+05:30")


def test_weekly_custom_hours_in_a_time_zone() -> None:
    # Weekdays, 09:00-17:00 in UTC+05:30.
    rule = compile_rule(
        Rule(
            "and",
            (
                Condition(DAY, "dayOfWeekAnyOf", WEEKDAYS),
                Condition(TIME, "timeGreaterThanOrEquals", "09:00:00+05:30"),
                Condition(TIME, "timeLessThan", "17:00:00+05:30"),
            ),
        )
    )
    assert rule(request_at("2026-01-05T04:00:00+00:00"))  # Monday 09:30 in +05:30
    assert not rule(request_at("2026-01-05T03:00:00+00:00"))  # Monday 08:30 there
    assert not rule(request_at("2026-01-05T11:30:00+00:00"))  # Monday 17:00 there
    assert not rule(request_at("2026-01-03T05:00:00+00:00"))  # Saturday there


def test_day_boundaries_follow_the_offset() -> None:
    monday_only = compile_rule(Rule("single", (Condition(DAY, "dayOfWeekEquals", ("1-08:00",)),)))
    # 2026-01-05 is a Monday in UTC; at 03:00 UTC it is still Sunday in UTC-08:00.
    assert not monday_only(request_at("2026-01-05T03:00:00+00:00"))
    assert monday_only(request_at("2026-01-05T09:00:00+00:00"))


def test_once_window_and_or_rules() -> None:
    window = compile_rule(
        Rule(
            "and",
            (
                Condition(WHEN, "dateTimeGreaterThanOrEquals", "2026-02-01T00:00:00+00:00"),
                Condition(WHEN, "dateTimeLessThan", "2026-03-01T00:00:00+01:00"),
            ),
        )
    )
    assert window(request_at("2026-02-28T22:59:59+00:00"))
    assert not window(request_at("2026-02-28T23:00:00+00:00"))
    assert not window(request_at("2026-01-31T23:59:59+00:00"))
    either = compile_rule(
        Rule(
            "or",
            (
                Condition("{{resource.attributes.resource}}", "stringMatch", "dev-*"),
                Rule("and", (Condition(TIME, "timeLessThan", "06:00:00+00:00"),)),
            ),
        )
    )
    assert either(request_at("2026-01-05T12:00:00+00:00", resource="dev-key"))
    assert either(request_at("2026-01-05T05:00:00+00:00", resource="prod-key"))
    assert not either(request_at("2026-01-05T12:00:00+00:00", resource="prod-key"))


@pytest.mark.parametrize(
    "condition",
    [
        Condition(TIME, "timeLessThan", "09:00:00"),  # no offset
        Condition(TIME, "timeLessThan", "nine+00:00"),
        Condition(DAY, "dayOfWeekAnyOf", ("8+00:00",)),
        Condition(DAY, "dayOfWeekEquals", ("1+00:00", "2+00:00")),
        Condition(WHEN, "timeLessThan", "09:00:00+00:00"),  # wrong key
        Condition(TIME, "timeBefore", "09:00:00+00:00"),
        Condition("{{subject.attributes.x}}", "stringEquals", "y"),
        Condition(WHEN, "dateTimeLessThan", "2026-01-01T00:00:00"),
    ],
)
def test_bad_rule_conditions_are_refused(condition: Condition) -> None:
    with pytest.raises(PolicyError):
        compile_rule(Rule("single", (condition,)))
