"""Claim conditions of access-group rules and trusted-profile claim rules (spec §4.3, §5.1)."""

from __future__ import annotations

import pytest

from strongroom.errors import Invalid
from strongroom.identity.claim_rules import ClaimCondition, all_hold, check_conditions


def cond(claim: str, operator: str, value: str) -> ClaimCondition:
    (only,) = check_conditions([{"claim": claim, "operator": operator, "value": value}])
    return only


@pytest.mark.parametrize(
    ("operator", "value", "claim", "expected"),
    [
        ("EQUALS", '"cloud-docs-dev"', "cloud-docs-dev", True),
        ("EQUALS", '"cloud-docs-dev"', "Cloud-Docs-Dev", False),
        ("EQUALS", "plain", "plain", True),  # not JSON: the text itself
        ("EQUALS", '"a"', ["b", "a"], True),  # multi-valued claim: any value
        ("NOT_EQUALS", '"a"', ["b", "c"], True),
        ("NOT_EQUALS", '"a"', ["b", "a"], False),
        ("EQUALS_IGNORE_CASE", '"Admins"', "ADMINS", True),
        ("NOT_EQUALS_IGNORE_CASE", '"Admins"', "admins", False),
        ("NOT_EQUALS_IGNORE_CASE", '"Admins"', "users", True),
        ("CONTAINS", '"docs"', "cloud-docs-dev", True),
        ("CONTAINS", '"prod"', "cloud-docs-dev", False),
        ("IN", '["dev", "test"]', "test", True),
        ("IN", '["dev", "test"]', "prod", False),
        ("EQUALS", "42", 42, True),
    ],
)
def test_operators(operator: str, value: str, claim: object, expected: bool) -> None:
    assert cond("groups", operator, value).holds({"groups": claim}) is expected


@pytest.mark.parametrize("operator", ["EQUALS", "NOT_EQUALS", "NOT_EQUALS_IGNORE_CASE", "IN"])
def test_a_missing_claim_matches_nothing(operator: str) -> None:
    value = '["x"]' if operator == "IN" else '"x"'
    assert not cond("groups", operator, value).holds({"other": "x"})


def test_every_condition_must_hold() -> None:
    rule = check_conditions(
        [
            {"claim": "dept", "operator": "EQUALS", "value": '"eng"'},
            {"claim": "level", "operator": "IN", "value": '["3", "4"]'},
        ]
    )
    assert all_hold(rule, {"dept": "eng", "level": "4"})
    assert not all_hold(rule, {"dept": "eng", "level": "2"})


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ([], "conditions"),
        ("EQUALS", "conditions"),
        ([{"claim": "", "operator": "EQUALS", "value": '"x"'}], "conditions[0].claim"),
        ([{"claim": "a", "operator": "LIKE", "value": '"x"'}], "conditions[0].operator"),
        ([{"claim": "a", "operator": "EQUALS", "value": ""}], "conditions[0].value"),
        ([{"claim": "a", "operator": "IN", "value": "{}"}], "conditions[0].value"),
        ([{"claim": "a", "operator": "EQUALS", "value": '"x"'}] * 21, "conditions"),
    ],
)
def test_bad_conditions_name_the_field(raw: object, field: str) -> None:
    with pytest.raises(Invalid) as caught:
        check_conditions(raw)
    assert caught.value.field == field
