"""List keys: the query of `GET /keys` and its application to an instance's keys (spec
kms-api.md §3.2; java `GetKeysOptions`, go `listkeys.go`). Pure.

The service reads the instance's keys (optionally narrowed by ring, states and extractable in
storage), then `apply` selects, searches, sorts and pages them; `key_total` answers
`HEAD /keys`.

Sort: a comma list of properties, `-` for descending, evaluated left to right, then `id` as the
last tie-break so the order is total. An unset date sorts after every set one ascending, before
them descending (it counts as the latest date).

Search (`search=`): a case-insensitive substring of the name or an alias. Prefixes, in any
order: `not:` inverts the match (none of the searched fields matches), `exact:` compares whole
values (still ignoring case), `name:` / `alias:` pick the searched fields (or'ed; both when
neither is given), `escape:` ends the prefixes so the rest is taken literally. A full key id, or
a query in the `alias:` scope, also looks up that one key (by id, or by the exact,
case-sensitive alias) and places it first; lookups are skipped under `not:`, and only keys the
selection admits can be found. go appends a comma to every search (`fmt.Sprint(search, ",")`):
one trailing comma is dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from strongroom.kms.errors import KmsError
from strongroom.kms.key_filter import (
    DATE_OF,
    WHAT,
    KeySelection,
    count,
    invalid,
    parse_selection,
)
from strongroom.kms.models import Key
from strongroom.kms.names import is_uuid

DEFAULT_LIMIT = 200
MAX_LIMIT = 5000
MAX_OFFSET = 2**63 - 1  # what a 64-bit client can send; also keeps int() off huge inputs
SEARCH_SPACE_MAX = 5000  # more candidate keys than this: KEY_SEARCH_TOO_BROAD
SCOPES = ("name", "alias")

SORT_FIELDS: Mapping[str, Callable[[Key], Any]] = {
    "id": lambda key: key.id,
    "state": lambda key: int(key.state),
    "extractable": lambda key: key.extractable,
    "imported": lambda key: key.imported,
    "creationDate": DATE_OF["creationDate"],
    "lastUpdateDate": DATE_OF["lastUpdateDate"],
    "lastRotateDate": DATE_OF["lastRotateDate"],
    "deletionDate": DATE_OF["deletionDate"],
    "expirationDate": DATE_OF["expirationDate"],
}


@dataclass(frozen=True, slots=True)
class SortKey:
    field: str  # a key of SORT_FIELDS
    descending: bool = False


DEFAULT_SORT = (SortKey("id"),)


@dataclass(frozen=True, slots=True)
class SearchQuery:
    query: str  # what remains after the prefixes
    scopes: tuple[str, ...] = SCOPES  # `name`, `alias`, or both
    negate: bool = False
    exact: bool = False
    alias_lookup: bool = False  # `alias:` was given: look the alias up as well

    def metadata(self) -> dict[str, Any]:
        """The response's `searchQuery` (java `ListKeysMetadataPropertiesSearchQuery`)."""
        return {
            "query": self.query,
            "scopes": list(self.scopes),
            "not": self.negate,
            "exact": self.exact,
        }

    def matches(self, key: Key, aliases: Sequence[str]) -> bool:
        values = [
            *([key.name] if "name" in self.scopes else []),
            *(aliases if "alias" in self.scopes else []),
        ]
        wanted = self.query.casefold()
        if self.exact:
            hit = any(value.casefold() == wanted for value in values)
        else:
            hit = any(wanted in value.casefold() for value in values)
        return hit is not self.negate


@dataclass(frozen=True, slots=True)
class KeyListQuery:
    selection: KeySelection = field(default_factory=KeySelection)
    sort: tuple[SortKey, ...] = DEFAULT_SORT
    search: SearchQuery | None = None
    limit: int = DEFAULT_LIMIT
    offset: int = 0


@dataclass(frozen=True, slots=True)
class KeyListResult:
    keys: tuple[Key, ...]  # the page
    total: int  # every match, ignoring limit and offset
    search: SearchQuery | None = None
    incomplete_search: bool = False

    def metadata(self) -> dict[str, Any]:
        """The list metadata beyond collectionType/collectionTotal (spec §1.3): `searchQuery`
        when a search was made, and `incompleteSearch: true` when only its lookup ran (java:
        "if present, indicates the search did not complete")."""
        if self.search is None:
            return {}
        extra: dict[str, Any] = {"searchQuery": self.search.metadata()}
        if self.incomplete_search:
            extra["incompleteSearch"] = True
        return extra


def parse_sort(text: str) -> tuple[SortKey, ...]:
    if not text:
        return DEFAULT_SORT
    out: list[SortKey] = []
    for part in text.split(","):
        descending = part.startswith("-")
        name = part[1:] if descending else part
        if name not in SORT_FIELDS:
            known = ", ".join(SORT_FIELDS)
            raise invalid("sort", f"cannot sort on `{part}`; known properties: {known}")
        if any(key.field == name for key in out):
            raise invalid("sort", f"`{name}` is given twice in the sort")
        out.append(SortKey(name, descending))
    return tuple(out)


def parse_search(text: str) -> SearchQuery | None:
    if text.endswith(","):
        text = text[:-1]
    if not text:
        return None
    rest, negate, exact, scopes = text, False, False, list[str]()
    while True:
        head, colon, tail = rest.partition(":")
        if not colon or head not in ("escape", "not", "exact", *SCOPES):
            break
        rest = tail
        if head == "escape":
            break
        if head == "not":
            negate = True
        elif head == "exact":
            exact = True
        elif head not in scopes:
            scopes.append(head)
    if not rest:
        raise invalid("search", f"the search `{text}` has prefixes but nothing to search for")
    return SearchQuery(
        query=rest,
        scopes=tuple(scopes) or SCOPES,
        negate=negate,
        exact=exact,
        alias_lookup="alias" in scopes,
    )


def _number(text: str, high: int) -> int | None:
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(high)):
        return None
    return int(text) if int(text) <= high else None


def parse_limit(text: str) -> int:
    if not text:
        return DEFAULT_LIMIT
    value = _number(text, MAX_LIMIT)
    if value is None or value < 1:
        raise invalid("limit", f"`limit` must be an integer between 1 and 5000, not `{text}`")
    return value


def parse_offset(text: str) -> int:
    if not text:
        return 0
    value = _number(text, MAX_OFFSET)
    if value is None:
        raise invalid("offset", f"`offset` must be a non-negative integer, not `{text}`")
    return value


def parse_list_query(params: Mapping[str, str]) -> KeyListQuery:
    """The query parameters of `GET /keys`; unknown parameters are ignored."""
    return KeyListQuery(
        selection=parse_selection(params),
        sort=parse_sort(params.get("sort") or ""),
        search=parse_search(params.get("search") or ""),
        limit=parse_limit(params.get("limit") or ""),
        offset=parse_offset(params.get("offset") or ""),
    )


def sort_keys(keys: Sequence[Key], sort: Sequence[SortKey]) -> list[Key]:
    order = list(sort) if any(key.field == "id" for key in sort) else [*sort, SortKey("id")]
    out = list(keys)
    # Stable sorts from the last key to the first give the lexicographic order; (is None,
    # value) puts unset dates after set ones, and reverse keeps that stable too.
    for sort_key in reversed(order):
        out.sort(key=_nulls_last(SORT_FIELDS[sort_key.field]), reverse=sort_key.descending)
    return out


def _nulls_last(get: Callable[[Key], Any]) -> Callable[[Key], tuple[bool, Any]]:
    def value(key: Key) -> tuple[bool, Any]:
        have = get(key)
        return (have is None, have)

    return value


def _lookup(
    search: SearchQuery, keys: Sequence[Key], aliases: Mapping[str, Sequence[str]]
) -> Key | None:
    if search.negate:
        return None
    if is_uuid(search.query):
        wanted = search.query.lower()
        for key in keys:
            if key.id.lower() == wanted:
                return key
    if search.alias_lookup:
        for key in keys:
            if search.query in aliases.get(key.id, ()):
                return key
    return None


def apply(
    query: KeyListQuery, keys: Sequence[Key], aliases: Mapping[str, Sequence[str]]
) -> KeyListResult:
    """Select, search, sort and page `keys` (the instance's keys, or those of one ring).
    `aliases` maps key ids to their aliases; a key absent from it has none."""
    candidates = [key for key in keys if query.selection.matches(key)]
    search = query.search
    if search is None:
        matched = sort_keys(candidates, query.sort)
        return KeyListResult(tuple(matched[query.offset :][: query.limit]), len(matched))
    found = _lookup(search, candidates, aliases)
    if len(candidates) > SEARCH_SPACE_MAX:
        if found is None:
            raise KmsError(
                "KEY_SEARCH_TOO_BROAD",
                f"a search covers at most {SEARCH_SPACE_MAX} keys and {len(candidates)} match "
                "the filters; narrow them with state, extractable, filter or X-Kms-Key-Ring",
                what=WHAT,
                target="search",
            )
        page = (found,) if query.offset == 0 else ()
        return KeyListResult(page, 1, search, incomplete_search=True)
    hits = [
        key
        for key in sort_keys(candidates, query.sort)
        if (found is None or key.id != found.id) and search.matches(key, aliases.get(key.id, ()))
    ]
    matched = [found, *hits] if found is not None else hits
    return KeyListResult(tuple(matched[query.offset :][: query.limit]), len(matched), search)


def key_total(params: Mapping[str, str], keys: Sequence[Key]) -> int:
    """`HEAD /keys`'s `Key-Total`: the keys that `state`, `extractable` and `filter` select
    (search, sort and paging do not apply)."""
    return count(parse_selection(params), keys)
