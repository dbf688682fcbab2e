"""`GET /keys`: limit, offset, sort, search and their application (spec kms-api.md §3.2)."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strongroom.kms.key_filter import KeySelection
from strongroom.kms.listing import (
    DEFAULT_SORT,
    SORT_FIELDS,
    KeyListQuery,
    SearchQuery,
    SortKey,
    apply,
    key_total,
    parse_list_query,
    parse_search,
    parse_sort,
    sort_keys,
)
from strongroom.kms.models import Key, KeyState

from .key_factory import T0, make_key, refusal


def refused(params: dict[str, str], target: str) -> str:
    error = refusal(lambda: parse_list_query(params))
    assert (error.code, error.target) == ("INVALID_QUERY_PARAM_ERR", target)
    return error.message


def test_defaults() -> None:
    query = parse_list_query({})
    assert query == KeyListQuery(KeySelection(), DEFAULT_SORT, None, 200, 0)
    assert (SortKey("id"),) == DEFAULT_SORT
    # what py3 sends for a bare get_keys(): empty parameters count as absent
    assert (
        parse_list_query({"state": "", "limit": "", "offset": "", "search": "", "sort": ""})
        == query
    )


@pytest.mark.parametrize(("text", "limit"), [("1", 1), ("5000", 5000), ("25", 25), ("0025", 25)])
def test_limit(text: str, limit: int) -> None:
    assert parse_list_query({"limit": text}).limit == limit


@pytest.mark.parametrize("text", ["0", "5001", "-1", "1.5", "ten", "9" * 40])
def test_bad_limit(text: str) -> None:
    assert "between 1 and 5000" in refused({"limit": text}, "limit")


@pytest.mark.parametrize(("text", "offset"), [("0", 0), ("25", 25), (str(2**63 - 1), 2**63 - 1)])
def test_offset(text: str, offset: int) -> None:
    assert parse_list_query({"offset": text}).offset == offset


@pytest.mark.parametrize("text", ["-1", "x", str(2**63), "9" * 5000])
def test_bad_offset(text: str) -> None:
    refused({"offset": text}, "offset")


@pytest.mark.parametrize(
    ("text", "sort"),
    [
        ("creationDate,state", (SortKey("creationDate"), SortKey("state"))),  # go kp_test
        ("-lastRotateDate", (SortKey("lastRotateDate", True),)),
        ("-id", (SortKey("id", True),)),
        (",".join(SORT_FIELDS), tuple(SortKey(field) for field in SORT_FIELDS)),
    ],
)
def test_sort(text: str, sort: tuple[SortKey, ...]) -> None:
    assert parse_sort(text) == sort


@pytest.mark.parametrize(
    "text", ["ids", "name", "id,", ",id", "id,,state", "-", "--id", "id,-id", "ID"]
)
def test_bad_sort(text: str) -> None:
    refused({"sort": text}, "sort")


def ids(keys: list[Key] | tuple[Key, ...]) -> list[str]:
    return [key.id for key in keys]


def test_sorting_with_directions_ties_and_unset_dates() -> None:
    d = [datetime(2024, 1, day, tzinfo=UTC) for day in range(1, 5)]
    keys = [
        make_key("e", state=KeyState.SUSPENDED, created=d[0], last_rotate=d[2]),
        make_key("b", created=d[1], last_rotate=None),
        make_key("d", created=d[1], last_rotate=d[1]),
        make_key("a", created=d[3], last_rotate=d[3]),
        make_key("c", state=KeyState.SUSPENDED, created=d[0], last_rotate=None),
    ]
    assert ids(sort_keys(keys, DEFAULT_SORT)) == ["a", "b", "c", "d", "e"]
    assert ids(sort_keys(keys, parse_sort("-id"))) == ["e", "d", "c", "b", "a"]
    # ties broken by id
    assert ids(sort_keys(keys, parse_sort("creationDate"))) == ["c", "e", "b", "d", "a"]
    assert ids(sort_keys(keys, parse_sort("-creationDate"))) == ["a", "b", "d", "c", "e"]
    assert ids(sort_keys(keys, parse_sort("-state,creationDate"))) == ["c", "e", "b", "d", "a"]
    # unset dates come last ascending, first descending
    assert ids(sort_keys(keys, parse_sort("lastRotateDate"))) == ["d", "e", "a", "b", "c"]
    assert ids(sort_keys(keys, parse_sort("-lastRotateDate"))) == ["b", "c", "a", "e", "d"]
    # an explicit descending id is the tie-break itself
    assert ids(sort_keys(keys, parse_sort("creationDate,-id"))) == ["e", "c", "d", "b", "a"]


def test_sort_by_booleans_false_first() -> None:
    keys = [
        make_key("a", extractable=True, imported=False),
        make_key("b", extractable=False, imported=True),
        make_key("c", extractable=True, imported=True),
    ]
    assert ids(sort_keys(keys, parse_sort("extractable"))) == ["b", "a", "c"]
    assert ids(sort_keys(keys, parse_sort("-imported,extractable"))) == ["b", "c", "a"]


DATES = st.none() | st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
)


@st.composite
def key_sets(draw: Any) -> list[Key]:
    count = draw(st.integers(0, 12))
    key_ids = draw(st.lists(st.uuids().map(str), min_size=count, max_size=count, unique=True))
    return [
        make_key(
            key_id,
            draw(st.text(min_size=2, max_size=12)),
            state=draw(st.sampled_from(list(KeyState))),
            extractable=draw(st.booleans()),
            imported=draw(st.booleans()),
            created=draw(
                st.datetimes(
                    min_value=datetime(2020, 1, 1),
                    max_value=datetime(2030, 1, 1),
                    timezones=st.just(UTC),
                )
            ),
            last_update=draw(DATES),
            last_rotate=draw(DATES),
            expiration=draw(DATES),
            deleted=draw(DATES),
        )
        for key_id in key_ids
    ]


SORTS = st.lists(st.sampled_from(list(SORT_FIELDS)), unique=True, max_size=4).flatmap(
    lambda fields: st.tuples(*[st.builds(SortKey, st.just(f), st.booleans()) for f in fields])
)


def _rank(key: Key, sort_key: SortKey) -> tuple[Any, ...]:
    value = SORT_FIELDS[sort_key.field](key)
    return (value is None, value)


@given(key_sets(), SORTS, st.randoms(use_true_random=False))
def test_sort_is_a_total_order_consistent_with_the_sort_keys(
    keys: list[Key], sort: tuple[SortKey, ...], rnd: random.Random
) -> None:
    ordered = sort_keys(keys, sort)
    assert sorted(ids(ordered)) == sorted(ids(keys))  # a permutation
    shuffled = list(keys)
    rnd.shuffle(shuffled)
    assert ids(sort_keys(shuffled, sort)) == ids(ordered)  # total: input order does not matter
    full = [*sort, *([] if any(k.field == "id" for k in sort) else [SortKey("id")])]
    for first, second in itertools.pairwise(ordered):
        # the first sort key where the pair differs orders them in its direction
        for sort_key in full:
            a, b = _rank(first, sort_key), _rank(second, sort_key)
            if a != b:
                assert (a > b) if sort_key.descending else (a < b)
                break
        else:
            raise AssertionError("two keys compare equal on every key, id included")


@given(key_sets())
def test_a_filter_with_no_terms_selects_what_no_filter_selects(keys: list[Key]) -> None:
    plain = apply(parse_list_query({"limit": "5000"}), keys, {})
    for blank in ("", " ", "   "):
        assert apply(parse_list_query({"limit": "5000", "filter": blank}), keys, {}) == plain
    everything = apply(parse_list_query({"limit": "5000", "state": "0,1,2,3,5"}), keys, {})
    assert sorted(ids(everything.keys)) == sorted(ids(keys))
    assert plain.total == sum(1 for key in keys if key.state is not KeyState.DESTROYED)


@given(key_sets(), st.integers(1, 5), st.integers(0, 14))
def test_pages_tile_the_matches(keys: list[Key], limit: int, offset: int) -> None:
    whole = apply(parse_list_query({"limit": "5000"}), keys, {})
    page = apply(parse_list_query({"limit": str(limit), "offset": str(offset)}), keys, {})
    assert page.total == whole.total
    assert page.keys == whole.keys[offset : offset + limit]


@pytest.mark.parametrize(
    ("text", "search"),
    [
        ("foobar", SearchQuery("foobar")),
        ("foobar,", SearchQuery("foobar")),  # go appends a comma
        ("foo,bar,", SearchQuery("foo,bar")),
        ("not:foo", SearchQuery("foo", negate=True)),
        ("not:exact:foobar", SearchQuery("foobar", negate=True, exact=True)),
        ("exact:not:foobar,", SearchQuery("foobar", negate=True, exact=True)),
        ("exact:escape:not:foobar", SearchQuery("not:foobar", exact=True)),
        ("escape:alias:x", SearchQuery("alias:x")),
        ("not:alias:foobar", SearchQuery("foobar", ("alias",), negate=True, alias_lookup=True)),
        ("alias:not:foobar", SearchQuery("foobar", ("alias",), negate=True, alias_lookup=True)),
        ("name:exact:foobar", SearchQuery("foobar", ("name",), exact=True)),
        ("alias:name:x", SearchQuery("x", ("alias", "name"), alias_lookup=True)),
        ("alias:aliasNew,", SearchQuery("aliasNew", ("alias",), alias_lookup=True)),  # go kp_test
        ("escape:Key16June,", SearchQuery("Key16June")),  # go kp_test
        ("NOT:foo", SearchQuery("NOT:foo")),  # prefixes are lower case
        ("tag:foo", SearchQuery("tag:foo")),
        ("not:not:x", SearchQuery("x", negate=True)),
        ("", None),
        (",", None),
    ],
)
def test_search_prefixes(text: str, search: SearchQuery | None) -> None:
    assert parse_search(text) == search


@pytest.mark.parametrize("text", ["alias:", "not:", "not:exact:,", "escape:"])
def test_a_search_needs_something_after_its_prefixes(text: str) -> None:
    refused({"search": text}, "search")


def test_search_metadata() -> None:
    assert SearchQuery("foo").metadata() == {
        "query": "foo",
        "scopes": ["name", "alias"],
        "not": False,
        "exact": False,
    }
    result = apply(parse_list_query({"search": "not:alias:foo,"}), [], {})
    assert result.metadata() == {
        "searchQuery": {"query": "foo", "scopes": ["alias"], "not": True, "exact": False}
    }
    assert apply(parse_list_query({}), [], {}).metadata() == {}


KEY_A = make_key("aaaaaaaa-0000-4000-8000-000000000001", "Payroll-Root")
KEY_B = make_key("bbbbbbbb-0000-4000-8000-000000000002", "billing")
KEY_C = make_key("cccccccc-0000-4000-8000-000000000003", "other")
KEY_D = make_key("dddddddd-0000-4000-8000-000000000004", "payroll-old", state=KeyState.DESTROYED)
ALIASES = {KEY_A.id: ["pay-alias"], KEY_B.id: ["FooBar", "payments"], KEY_C.id: ["foobar-x"]}


def search(text: str, **params: str) -> list[str]:
    result = apply(
        parse_list_query({"search": text, **params}), [KEY_D, KEY_C, KEY_B, KEY_A], ALIASES
    )
    assert result.total == len(result.keys)
    return [key.name for key in result.keys]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("payroll", ["Payroll-Root"]),  # substring, ignoring case; Destroyed keys not listed
        ("PAY", ["Payroll-Root", "billing"]),  # name or alias
        ("foobar", ["billing", "other"]),
        ("name:pay", ["Payroll-Root"]),
        ("alias:pay", ["Payroll-Root", "billing"]),
        ("exact:foobar", ["billing"]),  # whole value, still ignoring case
        ("exact:payroll", []),
        ("not:pay", ["other"]),  # neither the name nor any alias contains it
        ("not:exact:foobar", ["Payroll-Root", "other"]),
        ("not:alias:foobar", ["Payroll-Root"]),
        ("name:alias:foobar", ["billing", "other"]),
        ("escape:not:", []),
        ("payroll", ["Payroll-Root"]),
    ],
)
def test_search_matches(text: str, names: list[str]) -> None:
    assert search(text) == names


def test_search_respects_the_selection() -> None:
    assert search("payroll", state="5") == ["payroll-old"]
    assert search("payroll", state="1,5") == ["Payroll-Root", "payroll-old"]


def test_a_full_key_id_is_looked_up_and_placed_first() -> None:
    assert search(KEY_C.id) == ["other"]  # no name or alias contains the id
    assert search(KEY_C.id.upper() + ",") == ["other"]
    assert search(f"not:{KEY_C.id}") == ["Payroll-Root", "billing", "other"]  # no lookup under not:
    assert search(KEY_D.id) == []  # the selection still holds: Destroyed is not listed


def test_an_alias_scope_looks_the_alias_up_and_places_it_first() -> None:
    def listed(search: str) -> list[str]:
        query = parse_list_query({"search": search, "sort": "-id"})
        return ids(apply(query, [KEY_A, KEY_B, KEY_C], ALIASES).keys)

    # by -id, C (`foobar-x`) sorts before B; B holds the exact alias `FooBar`, so it leads
    assert listed("alias:FooBar") == [KEY_B.id, KEY_C.id]
    assert listed("FooBar") == [KEY_C.id, KEY_B.id]  # no lookup outside the alias scope
    # the lookup is case-sensitive, as aliases are; the substring match is not
    assert listed("alias:foobar") == [KEY_C.id, KEY_B.id]


def test_head_counts_what_the_filters_select() -> None:
    keys = [KEY_A, KEY_B, KEY_C, KEY_D]
    assert key_total({}, keys) == 3
    assert key_total({"state": "5"}, keys) == 1
    assert key_total({"filter": "state=1,5", "search": "nothing", "limit": "1"}, keys) == 4
    assert refusal(lambda: key_total({"filter": "bogus=1"}, keys)).target == "filter"


def test_pages_of_a_search() -> None:
    result = apply(
        parse_list_query({"search": "pay", "limit": "1", "offset": "1"}),
        [KEY_A, KEY_B, KEY_C],
        ALIASES,
    )
    assert (result.total, ids(result.keys)) == (2, [KEY_B.id])


def many_keys(count: int) -> list[Key]:
    return [
        make_key(
            f"{n:08x}-0000-4000-8000-000000000000", f"key-{n}", created=T0 + timedelta(seconds=n)
        )
        for n in range(count)
    ]


def test_a_search_over_more_than_5000_keys_is_too_broad() -> None:
    keys = many_keys(5001)
    error = refusal(lambda: apply(parse_list_query({"search": "key-1"}), keys, {}))
    assert (error.code, error.what) == ("KEY_SEARCH_TOO_BROAD", "Keys could not be retrieved")
    # 5000 keys are searched
    result = apply(parse_list_query({"search": "exact:key-4999"}), keys[:5000], {})
    assert [key.name for key in result.keys] == ["key-4999"]
    # the selection narrows the searchable space
    result = apply(
        parse_list_query(
            {"search": "exact:key-4999", "filter": 'creationDate=gte:"2024-01-01T00:00:01Z"'}
        ),
        keys,
        {},
    )
    assert ([key.name for key in result.keys], result.incomplete_search) == (["key-4999"], False)


def test_a_lookup_still_answers_over_more_than_5000_keys() -> None:
    keys = many_keys(5001)
    wanted = keys[1234]
    result = apply(parse_list_query({"search": wanted.id}), keys, {})
    assert (ids(result.keys), result.total, result.incomplete_search) == ([wanted.id], 1, True)
    assert result.metadata()["incompleteSearch"] is True
    result = apply(parse_list_query({"search": "alias:the-one"}), keys, {wanted.id: ["the-one"]})
    assert ids(result.keys) == [wanted.id]
    assert (
        refusal(lambda: apply(parse_list_query({"search": "alias:nobody"}), keys, {})).code
        == "KEY_SEARCH_TOO_BROAD"
    )
