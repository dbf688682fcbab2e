"""v2 policy `rule`s: conditions on the request's time and on resource attributes (spec §6.2).

Time values carry their own UTC offset (`09:00:00+00:00`, `1+05:30` for a day of the week,
`2026-01-01T00:00:00+00:00`); the request time is converted to that offset before comparing,
so "09:00 in Tokyo" means what it says. Days of the week are ISO: 1 is Monday, 7 is Sunday.
"""

from __future__ import annotations

import operator as op
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone

from strongroom.policy.model import Condition, PolicyError, Request, Rule
from strongroom.policy.operators import STRING_OPERATORS, compile_test

Check = Callable[[Request], bool]

TIME_KEY = "{{environment.attributes.current_time}}"
DATE_TIME_KEY = "{{environment.attributes.current_date_time}}"
DAY_KEY = "{{environment.attributes.day_of_week}}"
DATE_KEY = "{{environment.attributes.current_date}}"
RESOURCE_KEY = re.compile(r"^\{\{resource\.attributes\.([A-Za-z0-9_-]+)\}\}$")

_COMPARE = {
    "LessThan": op.lt,
    "LessThanOrEquals": op.le,
    "GreaterThan": op.gt,
    "GreaterThanOrEquals": op.ge,
}
_OFFSET = re.compile(r"([+-])(\d{2}):(\d{2})$")


def _offset(text: str, where: str) -> tuple[str, timezone]:
    found = _OFFSET.search(text)
    if found is None:
        raise PolicyError(f"`{where}` value `{text}` needs a UTC offset such as +00:00")
    sign = 1 if found.group(1) == "+" else -1
    delta = timedelta(hours=int(found.group(2)), minutes=int(found.group(3)))
    return text[: found.start()], timezone(sign * delta)


def _time_check(condition: Condition, compare: Callable[[object, object], bool]) -> Check:
    if not isinstance(condition.value, str):
        raise PolicyError(f"`{condition.operator}` needs a time like 09:00:00+00:00")
    clock, zone = _offset(condition.value, condition.operator)
    try:
        limit = time.fromisoformat(clock)
    except ValueError as exc:
        raise PolicyError(f"`{condition.value}` is not a time like 09:00:00+00:00") from exc
    return lambda request: compare(request.time.astimezone(zone).time().replace(tzinfo=None), limit)


def _date_check(condition: Condition, compare: Callable[[object, object], bool]) -> Check:
    if not isinstance(condition.value, str):
        raise PolicyError(f"`{condition.operator}` needs a date like 2026-01-31")
    text = condition.value
    zone: timezone = UTC
    if _OFFSET.search(text):
        text, zone = _offset(text, condition.operator)
    try:
        limit = date.fromisoformat(text)
    except ValueError as exc:
        raise PolicyError(f"`{condition.value}` is not a date like 2026-01-31") from exc
    return lambda request: compare(request.time.astimezone(zone).date(), limit)


def _date_time_check(condition: Condition, compare: Callable[[object, object], bool]) -> Check:
    try:
        limit = datetime.fromisoformat(str(condition.value))
    except ValueError as exc:
        raise PolicyError(f"`{condition.value}` is not a date-time with offset") from exc
    if limit.tzinfo is None:
        raise PolicyError(f"`{condition.value}` needs a UTC offset")
    return lambda request: compare(request.time, limit)


def _days(condition: Condition) -> Check:
    values = condition.value if isinstance(condition.value, tuple) else (condition.value,)
    wanted: list[tuple[int, timezone]] = []
    for value in values:
        if not isinstance(value, str):
            raise PolicyError(f"`{condition.operator}` needs days like 1+00:00")
        day, zone = _offset(value, condition.operator)
        if not day.isdigit() or not 1 <= int(day) <= 7:
            raise PolicyError(f"`{value}`: days of the week are 1 (Monday) to 7 (Sunday)")
        wanted.append((int(day), zone))
    if condition.operator == "dayOfWeekEquals" and len(wanted) != 1:
        raise PolicyError("`dayOfWeekEquals` takes one day")
    return lambda request: any(request.time.astimezone(z).isoweekday() == d for d, z in wanted)


def compile_condition(condition: Condition) -> Check:
    name = condition.operator
    for family, keys, build in _FAMILIES:
        suffix = name[len(family) :] if name.startswith(family) else ""
        if suffix in _COMPARE:
            if condition.key not in keys:
                raise PolicyError(f"`{name}` applies to `{keys[0]}`, not `{condition.key}`")
            return build(condition, _COMPARE[suffix])
    if name in ("dayOfWeekEquals", "dayOfWeekAnyOf"):
        if condition.key != DAY_KEY:
            raise PolicyError(f"`{name}` applies to `{DAY_KEY}`, not `{condition.key}`")
        return _days(condition)
    if name in STRING_OPERATORS:
        found = RESOURCE_KEY.match(condition.key)
        if found is None:
            raise PolicyError(f"`{name}` in a rule applies to `{{{{resource.attributes.<name>}}}}`")
        test = compile_test(condition, key=found.group(1))
        return lambda request: test(request.resource)
    raise PolicyError(f"unknown rule operator `{name}`", field="rule")


# (operator family, keys it may test, how to build the check); `dateTime` and `date` are told
# apart because the rest of the name must be exactly one of the comparisons.
_FAMILIES: tuple[tuple[str, tuple[str, ...], Callable[..., Check]], ...] = (
    ("time", (TIME_KEY,), _time_check),
    ("dateTime", (DATE_TIME_KEY,), _date_time_check),
    ("date", (DATE_KEY, DATE_TIME_KEY), _date_check),
)


def compile_rule(rule: Rule) -> Check:
    parts = [
        compile_rule(part) if isinstance(part, Rule) else compile_condition(part)
        for part in rule.conditions
    ]
    if not parts:
        raise PolicyError("a rule needs at least one condition", field="rule")
    if rule.operator == "or":
        return lambda request: any(check(request) for check in parts)
    return lambda request: all(check(request) for check in parts)
