"""Rendering a policy written through one family in the other's shape (spec §6.1, §6.2)."""

from __future__ import annotations

from strongroom.api.schemas.policy_shapes import in_family, v1_as_v2, v2_as_v1

RULE = {
    "key": "{{environment.attributes.current_time}}",
    "operator": "timeLessThan",
    "value": "17:00:00+00:00",
}
V2 = {
    "type": "access",
    "description": "d",
    "subject": {"attributes": [{"key": "iam_id", "operator": "stringEquals", "value": "IBMid-1"}]},
    "resource": {
        "attributes": [
            {"key": "accountId", "operator": "stringEquals", "value": "a"},
            {"key": "serviceName", "operator": "stringMatch", "value": "k*"},
        ],
        "tags": [{"key": "env", "operator": "stringEquals", "value": "prod"}],
    },
    "control": {"grant": {"roles": [{"role_id": "crn:v1:bluemix:public:iam::::role:Viewer"}]}},
    "pattern": "time-based-conditions:weekly:custom-hours",
    "rule": RULE,
}
V1 = {
    "type": "access",
    "subjects": [{"attributes": [{"name": "iam_id", "value": "IBMid-1"}]}],
    "roles": [{"role_id": "crn:v1:bluemix:public:iam::::role:Viewer"}],
    "resources": [{"attributes": [{"name": "accountId", "value": "a"}]}],
}


def test_the_writing_family_gets_its_document_back_unchanged() -> None:
    assert in_family(V2, "v2", "v2") == V2
    assert in_family(V1, "v1", "v1") == V1


def test_v2_in_v1_shape_keeps_operators_and_conditions() -> None:
    rendered = v2_as_v1(V2)
    assert rendered["subjects"] == [{"attributes": [{"name": "iam_id", "value": "IBMid-1"}]}]
    assert rendered["resources"][0]["attributes"][1] == {
        "name": "serviceName",
        "value": "k*",
        "operator": "stringMatch",
    }
    assert rendered["resources"][0]["tags"] == [
        {"name": "env", "value": "prod", "operator": "stringEquals"}
    ]
    assert rendered["roles"] == V2["control"]["grant"]["roles"]  # type: ignore[index]
    assert (rendered["pattern"], rendered["rule"]) == (V2["pattern"], RULE)
    assert rendered["description"] == "d"


def test_v1_in_v2_shape_names_the_implied_operator() -> None:
    rendered = v1_as_v2(V1)
    assert rendered["subject"]["attributes"] == [
        {"key": "iam_id", "operator": "stringEquals", "value": "IBMid-1"}
    ]
    assert rendered["resource"] == {
        "attributes": [{"key": "accountId", "operator": "stringEquals", "value": "a"}]
    }
    assert rendered["control"] == {"grant": {"roles": V1["roles"]}}
    assert "description" not in rendered and "rule" not in rendered
