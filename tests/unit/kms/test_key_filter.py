"""`state`, `extractable` and `filter` of `GET /keys` and `HEAD /keys` (spec kms-api.md §3.2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from strongroom.kms.key_filter import DEFAULT_STATES, DateTerm, KeySelection, count, parse_selection
from strongroom.kms.models import KeyState

from .key_factory import T0, make_key, refusal

S = KeyState
D1 = datetime(2022, 2, 15, tzinfo=UTC)
D2 = datetime(2022, 3, 15, tzinfo=UTC)


def refused(params: dict[str, str], target: str = "filter") -> str:
    error = refusal(lambda: parse_selection(params))
    assert (error.code, error.target, error.what) == (
        "INVALID_QUERY_PARAM_ERR",
        target,
        "Keys could not be retrieved",
    )
    return error.message


def test_defaults_are_states_0_to_3_and_both_key_types() -> None:
    assert parse_selection({}) == KeySelection(DEFAULT_STATES, None, ())
    assert {S.PRE_ACTIVATION, S.ACTIVE, S.SUSPENDED, S.DEACTIVATED} == DEFAULT_STATES
    # py3 always sends `state=`; empty parameters count as absent
    assert parse_selection({"state": "", "extractable": "", "filter": ""}) == KeySelection()


@pytest.mark.parametrize(
    ("text", "states"),
    [
        ("1", {S.ACTIVE}),
        ("1,5", {S.ACTIVE, S.DESTROYED}),
        ("0,1,2,3,5", set(S)),
        ("5,5", {S.DESTROYED}),
    ],
)
def test_state_parameter(text: str, states: set[KeyState]) -> None:
    assert parse_selection({"state": text}).states == states


@pytest.mark.parametrize("text", ["4", "6", "-1", "1,", ",1", "1, 5", "1;5", "active", "\uff11"])
def test_bad_state_parameter(text: str) -> None:
    assert "0,1,2,3,5" in refused({"state": text}, "state")


@pytest.mark.parametrize(
    ("text", "value"), [("true", True), ("false", False), ("TRUE", True), ("False", False)]
)
def test_extractable_parameter(text: str, value: bool) -> None:
    assert parse_selection({"extractable": text}).extractable is value


@pytest.mark.parametrize("text", ["yes", "1", "t"])
def test_bad_extractable_parameter(text: str) -> None:
    refused({"extractable": text}, "extractable")


@pytest.mark.parametrize(
    ("text", "dates"),
    [
        ('lastRotateDate="2022-02-15T00:00:00Z"', (DateTerm("lastRotateDate", "eq", D1),)),
        ('lastRotateDate=gte:"2022-02-15T00:00:00Z"', (DateTerm("lastRotateDate", "gte", D1),)),
        (
            'lastRotateDate=gte:"2022-02-15T00:00:00Z" lastRotateDate=lt:"2022-03-15T00:00:00Z"',
            (DateTerm("lastRotateDate", "gte", D1), DateTerm("lastRotateDate", "lt", D2)),
        ),
        (
            "expirationDate=none lastRotateDate=NONE",
            (DateTerm("expirationDate", "eq", None), DateTerm("lastRotateDate", "eq", None)),
        ),
        # go's builder: a leading space and RFC3339Nano
        (
            ' creationDate=gte:"2022-07-05T00:00:00.0000001Z"',
            (DateTerm("creationDate", "gte", datetime(2022, 7, 5, tzinfo=UTC), 7),),
        ),
        ('deletionDate=LTE:"2022-02-15T01:00:00+01:00"', (DateTerm("deletionDate", "lte", D1),)),
    ],
)
def test_date_terms(text: str, dates: tuple[DateTerm, ...]) -> None:
    assert parse_selection({"filter": text}).dates == dates


def test_java_doc_example_with_state_and_extractable() -> None:
    selection = parse_selection(
        {"filter": 'lastRotateDate="2022-02-15T00:00:00Z" state=0,1,2,3,5 extractable=false'}
    )
    assert selection == KeySelection(frozenset(S), False, (DateTerm("lastRotateDate", "eq", D1),))


def test_go_integration_filters() -> None:
    # the go builder accumulates: the second query of TestListKeysWithFilter holds both
    text = (
        ' creationDate=gt:"2024-01-01T10:00:00.123456789+01:00" state=1'
        ' expirationDate=gte:"2024-01-01T10:00:00.123456789+01:00"'
        ' lastRotateDate=gt:"2024-01-01T10:00:00.123456789+01:00" extractable=true'
    )
    selection = parse_selection({"filter": text})
    assert selection.states == {S.ACTIVE}
    assert selection.extractable is True
    assert [(term.prop, term.op) for term in selection.dates] == [
        ("creationDate", "gt"),
        ("expirationDate", "gte"),
        ("lastRotateDate", "gt"),
    ]
    assert selection.dates[0].value == datetime(2024, 1, 1, 9, 0, 0, 123456, tzinfo=UTC)


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"filter": 'creationDate="2022-03-16"'}, "RFC 3339"),  # go kp_test
        ({"filter": "creationDate=2022-03-16T00:00:00Z"}, "quoted"),
        ({"filter": 'creationDate=eq:"2022-03-16T00:00:00Z"'}, "RFC 3339"),
        ({"filter": "creationDate=gt:none"}, "RFC 3339"),
        ({"filter": 'creationDate=gt:"2022-03-16T00:00:00Z'}, "RFC 3339"),
        ({"filter": "creationDate"}, "<property>=<value>"),
        ({"filter": "creationDate="}, "<property>=<value>"),
        ({"filter": "name=foo"}, "cannot filter on `name`"),
        ({"filter": "CreationDate=none"}, "cannot filter on"),
        ({"filter": " ".join(['creationDate=gt:"2022-03-16T00:00:00Z"'] * 4)}, "three"),
        ({"filter": "state=1 state=2"}, "only once"),
        ({"filter": "extractable=true extractable=true"}, "only once"),
        ({"filter": "state=1", "state": "1"}, "both"),
        ({"filter": "extractable=true", "extractable": "false"}, "both"),
        ({"filter": "state=4"}, "0,1,2,3,5"),
        ({"filter": "state=01"}, "0,1,2,3,5"),
        ({"filter": "state=" + "9" * 5000}, "0,1,2,3,5"),
        ({"filter": "extractable=maybe"}, "true or false"),
    ],
)
def test_bad_filters(params: dict[str, str], words: str) -> None:
    assert words in refused(params)


def test_three_terms_per_property_and_state_param_with_empty_value_are_fine() -> None:
    terms = " ".join(['creationDate=gt:"2022-03-16T00:00:00Z"'] * 3)
    assert len(parse_selection({"filter": terms}).dates) == 3
    # py3's empty `state=` is absent, so a filter may still give the states
    assert parse_selection({"filter": "state=5", "state": ""}).states == {S.DESTROYED}


KEYS = {
    "never-rotated": make_key("k1", created=D1),
    "rotated-feb": make_key(
        "k2", created=D1, last_rotate=D1 + timedelta(hours=3), last_update=D1 + timedelta(hours=3)
    ),
    "rotated-mar": make_key("k3", created=D1, last_rotate=D2, last_update=D2),
    "expiring": make_key("k4", created=D2, expiration=datetime(2030, 1, 1, tzinfo=UTC)),
    "standard": make_key("k5", created=D2, extractable=True),
    "disabled": make_key("k6", created=D2, state=S.SUSPENDED),
    "deleted": make_key("k7", created=D1, state=S.DESTROYED, deleted=D2),
}


def selected(params: dict[str, str]) -> set[str]:
    selection = parse_selection(params)
    return {name for name, key in KEYS.items() if selection.matches(key)}


@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({}, set(KEYS) - {"deleted"}),
        ({"state": "5"}, {"deleted"}),
        ({"state": "1,2"}, set(KEYS) - {"deleted"}),
        ({"state": "2"}, {"disabled"}),
        ({"extractable": "true"}, {"standard"}),
        (
            {"extractable": "false", "state": "1"},
            {"never-rotated", "rotated-feb", "rotated-mar", "expiring"},
        ),
        ({"filter": "lastRotateDate=none"}, {"never-rotated", "expiring", "standard", "disabled"}),
        (
            {
                "filter": 'lastRotateDate=gte:"2022-02-15T00:00:00Z"'
                ' lastRotateDate=lt:"2022-03-15T00:00:00Z"'
            },
            {"rotated-feb"},
        ),
        ({"filter": 'lastRotateDate=gte:"2022-02-15T00:00:00Z"'}, {"rotated-feb", "rotated-mar"}),
        ({"filter": 'lastUpdateDate="2022-03-15T00:00:00Z"'}, {"rotated-mar"}),
        (
            {"filter": 'creationDate=lte:"2022-02-15T00:00:00Z"'},
            {"never-rotated", "rotated-feb", "rotated-mar"},
        ),
        (
            {"filter": 'creationDate=gt:"2022-02-15T00:00:00Z"'},
            {"expiring", "standard", "disabled"},
        ),
        ({"filter": 'creationDate=lt:"2022-02-15T00:00:00Z"'}, set()),
        (
            {"filter": "expirationDate=none", "extractable": "false", "state": "1"},
            {"never-rotated", "rotated-feb", "rotated-mar"},
        ),
        ({"filter": 'expirationDate=gt:"2029-12-31T23:59:59Z"'}, {"expiring"}),
        ({"filter": 'deletionDate="2022-03-15T00:00:00Z"'}, set()),  # deleted keys need state 5
        ({"filter": 'deletionDate="2022-03-15T00:00:00Z" state=5'}, {"deleted"}),
        ({"filter": "deletionDate=none state=0,1,2,3,5"}, set(KEYS) - {"deleted"}),
    ],
)
def test_selection(params: dict[str, str], names: set[str]) -> None:
    assert selected(params) == names
    assert count(parse_selection(params), KEYS.values()) == len(names)


def test_dates_compare_at_the_precision_the_filter_gives() -> None:
    key = make_key(created=datetime(2022, 2, 15, 10, 0, 0, 456789, tzinfo=UTC))

    def hit(text: str) -> bool:
        return parse_selection({"filter": text}).matches(key)

    assert hit('creationDate="2022-02-15T10:00:00Z"')  # the second the response shows
    assert hit('creationDate="2022-02-15T10:00:00.4Z"')
    assert hit('creationDate="2022-02-15T10:00:00.456789Z"')
    assert hit('creationDate="2022-02-15T10:00:00.456789000Z"')
    assert not hit('creationDate="2022-02-15T10:00:00.5Z"')
    assert not hit('creationDate="2022-02-15T10:00:01Z"')
    assert not hit('creationDate=gt:"2022-02-15T10:00:00Z"')  # not after its own second
    assert hit('creationDate=gte:"2022-02-15T10:00:00Z"')
    assert hit('creationDate=gt:"2022-02-15T10:00:00.456Z"') is False
    assert hit('creationDate=gt:"2022-02-15T10:00:00.456788Z"')
    assert hit('creationDate=lt:"2022-02-15T10:00:01Z"')
    assert hit('creationDate=lte:"2022-02-15T10:00:00Z"')


def test_unset_dates_only_match_none() -> None:
    key = make_key(created=T0)
    for op in ("", "lt:", "lte:", "gt:", "gte:"):
        for prop in ("lastRotateDate", "lastUpdateDate", "expirationDate", "deletionDate"):
            assert not parse_selection({"filter": f'{prop}={op}"2024-01-01T00:00:00Z"'}).matches(
                key
            )
            assert parse_selection({"filter": f"{prop}=none"}).matches(key)
    assert not parse_selection({"filter": "creationDate=none"}).matches(key)
