"""Which keys a list or a key count selects: the `state`, `extractable` and `filter` query
parameters of `GET /keys` and `HEAD /keys` (spec kms-api.md §3.2). Pure.

`filter` is space-separated `prop=value` terms (java `GetKeysOptions.filter`):
- dates (`creationDate`, `deletionDate`, `expirationDate`, `lastRotateDate`, `lastUpdateDate`):
  `"<RFC 3339>"` (equal), `<op>:"<RFC 3339>"` with op `lt` `lte` `gt` `gte`, or `none` (the key
  has no such date); up to three terms per property, all of which must hold (a range);
- `extractable=true|false` (case-insensitive) and `state=<comma list>`, once each; giving either
  both here and as its own query parameter is refused.

Dates are compared at the precision the filter wrote them: `creationDate="2022-02-15T10:00:00Z"`
matches a key created at 10:00:00.4, since a client copies dates from responses (whole
seconds) into filters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from strongroom.kms.errors import KmsError
from strongroom.kms.models import Key, KeyState
from strongroom.kms.names import fraction_digits, parse_rfc3339

WHAT = "Keys could not be retrieved"
DEFAULT_STATES = frozenset(
    {KeyState.PRE_ACTIVATION, KeyState.ACTIVE, KeyState.SUSPENDED, KeyState.DEACTIVATED}
)
_STATE_TEXTS = frozenset(str(state.value) for state in KeyState)
TERMS_PER_PROPERTY = 3
OPERATORS = ("lt", "lte", "gt", "gte")

DATE_OF: Mapping[str, Callable[[Key], datetime | None]] = {
    "creationDate": lambda key: key.created.at,
    "deletionDate": lambda key: key.deleted.at if key.deleted else None,
    "expirationDate": lambda key: key.expiration_date,
    "lastRotateDate": lambda key: key.last_rotate_at,
    "lastUpdateDate": lambda key: key.last_update_at,
}


def invalid(param: str, message: str) -> KmsError:
    return KmsError("INVALID_QUERY_PARAM_ERR", message, what=WHAT, target=param)


@dataclass(frozen=True, slots=True)
class DateTerm:
    prop: str  # a key of DATE_OF
    op: str  # `eq` or one of OPERATORS
    value: datetime | None  # None: `none`, the key has no such date
    digits: int = 0  # fractional-second digits the filter gave: the comparison's precision

    def holds(self, key: Key) -> bool:
        have = DATE_OF[self.prop](key)
        if self.value is None:
            return have is None
        if have is None:
            return False
        step = 10 ** (6 - min(self.digits, 6))
        have = have.replace(microsecond=have.microsecond - have.microsecond % step)
        if self.op == "eq":
            return have == self.value
        if self.op == "lt":
            return have < self.value
        if self.op == "lte":
            return have <= self.value
        if self.op == "gt":
            return have > self.value
        return have >= self.value


@dataclass(frozen=True, slots=True)
class KeySelection:
    """The keys a list or count considers, before search, sort and paging."""

    states: frozenset[KeyState] = DEFAULT_STATES
    extractable: bool | None = None  # None: root and standard keys
    dates: tuple[DateTerm, ...] = ()

    def matches(self, key: Key) -> bool:
        return (
            key.state in self.states
            and (self.extractable is None or key.extractable is self.extractable)
            and all(term.holds(key) for term in self.dates)
        )


def parse_states(text: str, param: str) -> frozenset[KeyState]:
    """`1,5`: integers among 0,1,2,3,5, comma-separated, no spaces, no trailing comma."""
    states: set[KeyState] = set()
    for part in text.split(","):
        if part not in _STATE_TEXTS:
            raise invalid(
                param, f"`{text}` is not a comma-separated list of key states among 0,1,2,3,5"
            )
        states.add(KeyState(int(part)))
    return frozenset(states)


def parse_extractable(text: str, param: str) -> bool:
    lowered = text.lower()
    if lowered not in ("true", "false"):
        raise invalid(param, f"`extractable` must be true or false, not `{text}`")
    return lowered == "true"


def _date_term(prop: str, value: str, text: str) -> DateTerm:
    if value.lower() == "none":
        return DateTerm(prop, "eq", None)
    op, quoted = "eq", value
    head, colon, tail = value.partition(":")
    if colon and head.lower() in OPERATORS:
        op, quoted = head.lower(), tail
    inner = quoted[1:-1] if len(quoted) >= 2 and quoted[0] == quoted[-1] == '"' else None
    moment = parse_rfc3339(inner) if inner is not None else None
    if inner is None or moment is None:
        raise invalid(
            "filter",
            f"`{text}` needs an optional lt, lte, gt or gte and a quoted RFC 3339 date, "
            f'as in {prop}=gte:"2022-02-15T00:00:00Z", or `none`',
        )
    return DateTerm(prop, op, moment, fraction_digits(inner))


def parse_selection(params: Mapping[str, str]) -> KeySelection:
    """`state`, `extractable` and `filter` of `GET /keys` and `HEAD /keys`.

    py3 always sends `state=` (empty): an empty parameter counts as absent."""
    state_param = params.get("state") or ""
    extractable_param = params.get("extractable") or ""
    states = parse_states(state_param, "state") if state_param else None
    extractable = parse_extractable(extractable_param, "extractable") if extractable_param else None
    dates: list[DateTerm] = []
    seen: dict[str, int] = {}
    for text in (params.get("filter") or "").split():
        prop, equals, value = text.partition("=")
        if not equals or not value:
            raise invalid("filter", f"the filter term `{text}` must read <property>=<value>")
        seen[prop] = seen.get(prop, 0) + 1
        if prop in DATE_OF:
            if seen[prop] > TERMS_PER_PROPERTY:
                raise invalid("filter", f"the filter may give `{prop}` at most three times")
            dates.append(_date_term(prop, value, text))
        elif prop in ("state", "extractable"):
            if seen[prop] > 1:
                raise invalid("filter", f"the filter may give `{prop}` only once")
            if params.get(prop):
                raise invalid(
                    "filter", f"`{prop}` is given both in the filter and as a query parameter"
                )
            if prop == "state":
                states = parse_states(value, "filter")
            else:
                extractable = parse_extractable(value, "filter")
        else:
            known = ", ".join([*DATE_OF, "extractable", "state"])
            raise invalid("filter", f"cannot filter on `{prop}`; known properties: {known}")
    return KeySelection(
        states=DEFAULT_STATES if states is None else states,
        extractable=extractable,
        dates=tuple(dates),
    )


def count(selection: KeySelection, keys: Iterable[Key]) -> int:
    """`HEAD /keys`'s `Key-Total`."""
    return sum(1 for key in keys if selection.matches(key))
