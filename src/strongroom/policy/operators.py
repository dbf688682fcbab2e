"""IBM's attribute operators (spec §6.2): how one `{key, operator, value}` tests an attribute.

`stringMatch` patterns use `*` (any run, also empty) and `?` (one character); `{{*}}`, `{{?}}`
and `{{$}}` stand for those characters literally. Matching is a two-pointer scan with one
backtrack point, O(len(pattern) x len(text)) at worst and linear in practice, never the
exponential blow-up a translated regular expression can have.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from strongroom.policy.model import Condition, PolicyError

STRING_OPERATORS = frozenset(
    {"stringEquals", "stringMatch", "stringExists", "stringEqualsAnyOf", "stringMatchAnyOf"}
)
_ESCAPES = {"{{*}}": "*", "{{?}}": "?", "{{$}}": "$"}

Pattern = tuple[tuple[str, bool], ...]  # (character, is_wildcard)
Test = Callable[[Mapping[str, str]], bool]


def compile_pattern(pattern: str) -> Pattern:
    out: list[tuple[str, bool]] = []
    i = 0
    while i < len(pattern):
        escape = pattern[i : i + 5]
        if escape in _ESCAPES:
            out.append((_ESCAPES[escape], False))
            i += 5
        elif pattern[i] in "*?":
            out.append((pattern[i], True))
            i += 1
        else:
            out.append((pattern[i], False))
            i += 1
    return tuple(out)


def glob_match(pattern: Pattern, text: str) -> bool:
    p = t = 0
    star_p, star_t = -1, 0
    while t < len(text):
        if p < len(pattern):
            char, wild = pattern[p]
            if wild and char == "*":
                star_p, star_t = p, t
                p += 1
                continue
            if (wild and char == "?") or (not wild and char == text[t]):
                p += 1
                t += 1
                continue
        if star_p < 0:
            return False
        p, star_t = star_p + 1, star_t + 1
        t = star_t
    while p < len(pattern) and pattern[p] == ("*", True):
        p += 1
    return p == len(pattern)


def _strings(condition: Condition) -> tuple[str, ...]:
    value = condition.value
    if isinstance(value, tuple) and value and all(isinstance(v, str) for v in value):
        return value
    raise PolicyError(f"`{condition.operator}` on `{condition.key}` needs a list of strings")


def _string(condition: Condition) -> str:
    if isinstance(condition.value, str) and condition.value != "":
        return condition.value
    raise PolicyError(f"`{condition.operator}` on `{condition.key}` needs a non-empty string")


def compile_test(condition: Condition, key: str | None = None) -> Test:
    """A fast test of one attribute condition against a mapping of attributes."""
    name = key or condition.key
    op = condition.operator
    if op == "stringEquals":
        want = _string(condition)
        return lambda attrs: attrs.get(name) == want
    if op == "stringMatch":
        pattern = compile_pattern(_string(condition))
        return lambda attrs: (v := attrs.get(name)) is not None and glob_match(pattern, v)
    if op == "stringExists":
        if not isinstance(condition.value, bool):
            raise PolicyError(f"`stringExists` on `{name}` needs true or false")
        present = condition.value
        return lambda attrs: (name in attrs) == present
    if op == "stringEqualsAnyOf":
        choices = frozenset(_strings(condition))
        return lambda attrs: attrs.get(name) in choices
    if op == "stringMatchAnyOf":
        patterns = tuple(compile_pattern(v) for v in _strings(condition))
        return lambda attrs: (
            (v := attrs.get(name)) is not None and any(glob_match(p, v) for p in patterns)
        )
    raise PolicyError(f"unknown operator `{op}` on `{name}`", field="operator")
