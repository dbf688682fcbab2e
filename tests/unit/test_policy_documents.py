"""IBM's policy JSON (spec §6.1, §6.2, §6.4) to `Policy`: round trips and every refusal.

Each refusal names the field by its path in the document, which the Policy Management API
passes on to the client.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from strongroom.policy import Condition, Policy, PolicyError, Request, Rule, Subject, decide
from strongroom.policy.catalog import catalog_from
from strongroom.policy.compile import compile_policies, validate
from strongroom.policy.documents import policy_from_v1, policy_from_v2

ACCOUNT = "0123456789abcdef0123456789abcdef"
VIEWER = "crn:v1:bluemix:public:iam::::role:Viewer"
READER = "crn:v1:bluemix:public:iam::::serviceRole:Reader"
DAY = "{{environment.attributes.day_of_week}}"
TIME = "{{environment.attributes.current_time}}"

# spec §6.2, the request body of create_v2_policy
SPEC_V2: dict[str, Any] = {
    "type": "access",
    "description": "...",
    "subject": {
        "attributes": [{"key": "iam_id", "operator": "stringEquals", "value": "IBMid-123"}]
    },
    "resource": {
        "attributes": [
            {"key": "accountId", "operator": "stringEquals", "value": ACCOUNT},
            {"key": "serviceType", "operator": "stringEquals", "value": "service"},
        ],
        "tags": [{"key": "project", "value": "prototype", "operator": "stringEquals"}],
    },
    "control": {"grant": {"roles": [{"role_id": VIEWER}]}},
    "pattern": "time-based-conditions:weekly:custom-hours",
    "rule": {
        "operator": "and",
        "conditions": [
            {"key": DAY, "operator": "dayOfWeekAnyOf", "value": ["1+00:00", "2+00:00"]},
            {"key": TIME, "operator": "timeGreaterThanOrEquals", "value": "09:00:00+00:00"},
        ],
    },
}

# spec §6.1 shapes: an access policy on one kms instance, with a wildcard and a tag
SPEC_V1: dict[str, Any] = {
    "type": "access",
    "subjects": [{"attributes": [{"name": "iam_id", "value": "IBMid-123"}]}],
    "roles": [{"role_id": VIEWER}, {"role_id": READER}],
    "resources": [
        {
            "attributes": [
                {"name": "accountId", "value": ACCOUNT},
                {"name": "serviceName", "value": "kms", "operator": "stringEquals"},
                {"name": "serviceInstance", "value": "inst-*", "operator": "stringMatch"},
            ],
            "tags": [{"name": "env", "value": "prod"}],
        }
    ],
}

# spec §6.4, a service-to-service authorization
SPEC_AUTHORIZATION: dict[str, Any] = {
    "type": "authorization",
    "subjects": [
        {
            "attributes": [
                {"name": "accountId", "value": ACCOUNT},
                {"name": "serviceName", "value": "cloud-object-storage"},
                {"name": "serviceInstance", "value": "cos-guid"},
            ]
        }
    ],
    "roles": [{"role_id": READER}],
    "resources": [
        {
            "attributes": [
                {"name": "accountId", "value": ACCOUNT},
                {"name": "serviceName", "value": "kms"},
            ]
        }
    ],
}


def v2(doc: dict[str, Any]) -> Policy:
    return policy_from_v2(doc, policy_id="p-1", account_id=ACCOUNT)


def v1(doc: dict[str, Any]) -> Policy:
    return policy_from_v1(doc, policy_id="p-1", account_id=ACCOUNT)


def eq(key: str, value: str) -> Condition:
    return Condition(key, "stringEquals", value)


# -- round trips ----------------------------------------------------------------------------


def test_spec_v2_example() -> None:
    assert v2(SPEC_V2) == Policy(
        id="p-1",
        account_id=ACCOUNT,
        type="access",
        subject=(eq("iam_id", "IBMid-123"),),
        resource=(eq("accountId", ACCOUNT), eq("serviceType", "service")),
        roles=(VIEWER,),
        tags=(eq("project", "prototype"),),
        rule=Rule(
            "and",
            (
                Condition(DAY, "dayOfWeekAnyOf", ("1+00:00", "2+00:00")),
                Condition(TIME, "timeGreaterThanOrEquals", "09:00:00+00:00"),
            ),
        ),
    )


def test_spec_v1_example() -> None:
    assert v1(SPEC_V1) == Policy(
        id="p-1",
        account_id=ACCOUNT,
        type="access",
        subject=(eq("iam_id", "IBMid-123"),),
        resource=(
            eq("accountId", ACCOUNT),
            eq("serviceName", "kms"),
            Condition("serviceInstance", "stringMatch", "inst-*"),
        ),
        roles=(VIEWER, READER),
        tags=(eq("env", "prod"),),
    )


def test_spec_authorization_example() -> None:
    assert v1(SPEC_AUTHORIZATION) == Policy(
        id="p-1",
        account_id=ACCOUNT,
        type="authorization",
        subject=(
            eq("accountId", ACCOUNT),
            eq("serviceName", "cloud-object-storage"),
            eq("serviceInstance", "cos-guid"),
        ),
        resource=(eq("accountId", ACCOUNT), eq("serviceName", "kms")),
        roles=(READER,),
    )


def test_the_same_authorization_in_v2_shape_converts_alike() -> None:
    doc = {
        "type": "authorization",
        "subject": {
            "attributes": [
                {"key": a["name"], "operator": "stringEquals", "value": a["value"]}
                for a in SPEC_AUTHORIZATION["subjects"][0]["attributes"]
            ]
        },
        "resource": {
            "attributes": [
                {"key": a["name"], "operator": "stringEquals", "value": a["value"]}
                for a in SPEC_AUTHORIZATION["resources"][0]["attributes"]
            ]
        },
        "control": {"grant": {"roles": [{"role_id": READER}]}},
    }
    assert v2(doc) == v1(SPEC_AUTHORIZATION)


def test_conditions_keep_the_order_they_were_sent_in_and_nothing_is_added() -> None:
    doc = copy.deepcopy(SPEC_V2)
    doc["resource"]["attributes"] = [
        {"key": "serviceName", "operator": "stringEquals", "value": "kms"},
        {"key": "resourceType", "operator": "stringEquals", "value": "key"},
        {"key": "accountId", "operator": "stringEquals", "value": ACCOUNT},
    ]
    assert [c.key for c in v2(doc).resource] == ["serviceName", "resourceType", "accountId"]
    doc["resource"]["attributes"] = [
        {"key": "serviceName", "operator": "stringEquals", "value": "kms"}
    ]
    assert v2(doc).resource == (eq("serviceName", "kms"),)  # no accountId made up


def test_values_keep_their_type() -> None:
    doc = copy.deepcopy(SPEC_V2)
    doc["resource"]["attributes"] = [
        {"key": "accountId", "operator": "stringEquals", "value": ACCOUNT},
        {"key": "resourceGroupId", "operator": "stringExists", "value": True},
        {"key": "region", "operator": "stringExists", "value": False},
        {"key": "serviceName", "operator": "stringEqualsAnyOf", "value": ["kms", "hs-crypto"]},
        {"key": "serviceInstance", "operator": "stringMatchAnyOf", "value": ["a-*", "b-?"]},
        {"key": "resource", "operator": "stringMatch", "value": "key-{{*}}"},
    ]
    assert v2(doc).resource == (
        eq("accountId", ACCOUNT),
        Condition("resourceGroupId", "stringExists", True),
        Condition("region", "stringExists", False),
        Condition("serviceName", "stringEqualsAnyOf", ("kms", "hs-crypto")),
        Condition("serviceInstance", "stringMatchAnyOf", ("a-*", "b-?")),
        Condition("resource", "stringMatch", "key-{{*}}"),
    )


def test_a_single_condition_rule() -> None:
    doc = copy.deepcopy(SPEC_V2)
    doc["pattern"] = "time-based-conditions:once"
    when = "2026-01-01T00:00:00+00:00"
    doc["rule"] = {
        "key": "{{environment.attributes.current_date_time}}",
        "operator": "dateTimeGreaterThanOrEquals",
        "value": when,
    }
    assert v2(doc).rule == Rule(
        "single",
        (
            Condition(
                "{{environment.attributes.current_date_time}}", "dateTimeGreaterThanOrEquals", when
            ),
        ),
    )


def test_a_rule_nested_one_level() -> None:
    doc = copy.deepcopy(SPEC_V2)
    doc["pattern"] = "attribute-based-condition:resource:literal-and-wildcard"
    name = "{{resource.attributes.serviceInstance}}"
    doc["rule"] = {
        "operator": "or",
        "conditions": [
            {"key": name, "operator": "stringEquals", "value": "inst-1"},
            {
                "operator": "and",
                "conditions": [
                    {"key": name, "operator": "stringMatch", "value": "dev-*"},
                    {"key": DAY, "operator": "dayOfWeekEquals", "value": "1+00:00"},
                ],
            },
        ],
    }
    assert v2(doc).rule == Rule(
        "or",
        (
            Condition(name, "stringEquals", "inst-1"),
            Rule(
                "and",
                (
                    Condition(name, "stringMatch", "dev-*"),
                    Condition(DAY, "dayOfWeekEquals", "1+00:00"),
                ),
            ),
        ),
    )


def test_no_rule_no_pattern_no_tags() -> None:
    doc = {k: v for k, v in SPEC_V2.items() if k not in ("rule", "pattern")}
    doc["resource"] = {"attributes": SPEC_V2["resource"]["attributes"]}
    policy = v2(doc)
    assert policy.rule is None
    assert policy.tags == ()


def test_null_tags_are_no_tags() -> None:
    doc = copy.deepcopy(SPEC_V2)
    doc["resource"]["tags"] = None
    assert v2(doc).tags == ()
    doc1 = copy.deepcopy(SPEC_V1)
    doc1["resources"][0]["tags"] = None
    assert v1(doc1).tags == ()


def test_the_type_is_checked_first() -> None:
    with pytest.raises(PolicyError) as raised:
        v2({"type": "deny"})
    assert raised.value.field == "type"


def test_server_fields_of_a_read_policy_are_ignored() -> None:
    doc = copy.deepcopy(SPEC_V2) | {
        "id": "other",
        "href": "https://iam/v2/policies/other",
        "state": "active",
        "created_at": "2026-01-01T00:00:00Z",
    }
    assert v2(doc) == v2(SPEC_V2)


def test_the_spec_example_compiles_and_decides() -> None:
    """documents.py stays out of the catalog; the caller validates, as the API will."""
    catalog = catalog_from(
        [
            (
                "demo.yaml",
                {
                    "service": "demo",
                    "actions": [{"id": "demo.widget.read"}],
                    "roles": [{"id": "Viewer", "crn": VIEWER, "actions": ["demo.widget.read"]}],
                },
            )
        ]
    )
    policy = v2(SPEC_V2)
    validate(policy, catalog)
    policies = compile_policies([policy], catalog)

    def at(moment: datetime, tags: dict[str, str]) -> bool:
        resource = {"accountId": ACCOUNT, "serviceName": "demo"}
        request = Request(Subject(iam_id="IBMid-123"), "demo.widget.read", resource, moment, tags)
        return decide(request, policies).permitted

    monday_ten = datetime(2026, 1, 5, 10, tzinfo=UTC)
    assert at(monday_ten, {"project": "prototype"})
    assert not at(monday_ten, {"project": "other"})
    assert not at(datetime(2026, 1, 5, 8, tzinfo=UTC), {"project": "prototype"})
    assert not at(datetime(2026, 1, 7, 10, tzinfo=UTC), {"project": "prototype"})  # Wednesday


# -- refusals, each naming its field --------------------------------------------------------

Edit = Callable[[dict[str, Any]], object]


def setter(path: str, value: object) -> Edit:
    """`path` is dotted with list indexes, e.g. `resource.attributes.1.operator`."""

    def edit(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = doc
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return edit


def deleter(path: str) -> Edit:
    def edit(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = doc
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        del node[last]

    return edit


LONG = "x" * 1001
V2_REFUSALS: list[tuple[str, Edit, str]] = [
    ("type missing", deleter("type"), "type"),
    ("type unknown", setter("type", "deny"), "type"),
    ("subject missing", deleter("subject"), "subject"),
    ("subject not an object", setter("subject", ["iam_id"]), "subject"),
    ("subject attributes missing", setter("subject", {}), "subject.attributes"),
    ("subject attributes empty", setter("subject.attributes", []), "subject.attributes"),
    ("subject attributes not a list", setter("subject.attributes", "x"), "subject.attributes"),
    (
        "subject operator not for subjects",
        setter("subject.attributes.0.operator", "stringMatch"),
        "subject.attributes[0].operator",
    ),
    ("subject key missing", deleter("subject.attributes.0.key"), "subject.attributes[0].key"),
    ("subject value missing", deleter("subject.attributes.0.value"), "subject.attributes[0].value"),
    (
        "subject value empty",
        setter("subject.attributes.0.value", ""),
        "subject.attributes[0].value",
    ),
    ("resource missing", deleter("resource"), "resource"),
    ("resource attributes missing", setter("resource", {"tags": []}), "resource.attributes"),
    (
        "resource attribute not an object",
        setter("resource.attributes.1", "serviceType"),
        "resource.attributes[1]",
    ),
    (
        "resource operator unknown",
        setter("resource.attributes.1.operator", "stringContains"),
        "resource.attributes[1].operator",
    ),
    (
        "resource operator missing",
        deleter("resource.attributes.1.operator"),
        "resource.attributes[1].operator",
    ),
    (
        "resource operator not a string",
        setter("resource.attributes.1.operator", 7),
        "resource.attributes[1].operator",
    ),
    ("resource key missing", deleter("resource.attributes.1.key"), "resource.attributes[1].key"),
    ("resource key empty", setter("resource.attributes.1.key", ""), "resource.attributes[1].key"),
    (
        "resource value missing",
        deleter("resource.attributes.1.value"),
        "resource.attributes[1].value",
    ),
    (
        "resource value a number",
        setter("resource.attributes.1.value", 42),
        "resource.attributes[1].value",
    ),
    (
        "resource value a list for stringEquals",
        setter("resource.attributes.1.value", ["service"]),
        "resource.attributes[1].value",
    ),
    (
        "resource value too long",
        setter("resource.attributes.1.value", LONG),
        "resource.attributes[1].value",
    ),
    (
        "stringExists with a string",
        setter(
            "resource.attributes.1", {"key": "region", "operator": "stringExists", "value": "true"}
        ),
        "resource.attributes[1].value",
    ),
    (
        "stringEqualsAnyOf with a string",
        setter(
            "resource.attributes.1",
            {"key": "serviceName", "operator": "stringEqualsAnyOf", "value": "kms"},
        ),
        "resource.attributes[1].value",
    ),
    (
        "stringEqualsAnyOf empty",
        setter(
            "resource.attributes.1",
            {"key": "serviceName", "operator": "stringEqualsAnyOf", "value": []},
        ),
        "resource.attributes[1].value",
    ),
    (
        "stringEqualsAnyOf over ten values",
        setter(
            "resource.attributes.1",
            {
                "key": "serviceInstance",
                "operator": "stringEqualsAnyOf",
                "value": [f"i-{n}" for n in range(11)],
            },
        ),
        "resource.attributes[1].value",
    ),
    (
        "stringMatchAnyOf with a number inside",
        setter(
            "resource.attributes.1",
            {"key": "serviceName", "operator": "stringMatchAnyOf", "value": ["k*", 3]},
        ),
        "resource.attributes[1].value[1]",
    ),
    (
        "stringMatchAnyOf with a long value inside",
        setter(
            "resource.attributes.1",
            {"key": "serviceName", "operator": "stringMatchAnyOf", "value": ["k*", LONG]},
        ),
        "resource.attributes[1].value[1]",
    ),
    ("tags not a list", setter("resource.tags", {"project": "x"}), "resource.tags"),
    (
        "tag operator not for tags",
        setter("resource.tags.0.operator", "stringExists"),
        "resource.tags[0].operator",
    ),
    ("tag value too long", setter("resource.tags.0.value", LONG), "resource.tags[0].value"),
    ("control missing", deleter("control"), "control"),
    ("control not an object", setter("control", "Viewer"), "control"),
    ("grant missing", setter("control", {}), "control.grant"),
    ("roles missing", setter("control.grant", {}), "control.grant.roles"),
    ("roles empty", setter("control.grant.roles", []), "control.grant.roles"),
    ("role not an object", setter("control.grant.roles.0", VIEWER), "control.grant.roles[0]"),
    ("role_id missing", setter("control.grant.roles.0", {}), "control.grant.roles[0].role_id"),
    (
        "role_id not a string",
        setter("control.grant.roles.0", {"role_id": 1}),
        "control.grant.roles[0].role_id",
    ),
    ("rule without pattern", deleter("pattern"), "pattern"),
    ("pattern without rule", deleter("rule"), "rule"),
    ("pattern unknown", setter("pattern", "time-based-conditions:daily"), "pattern"),
    ("rule not an object", setter("rule", ["x"]), "rule"),
    ("rule combinator unknown", setter("rule.operator", "xor"), "rule.operator"),
    ("rule conditions missing", deleter("rule.conditions"), "rule.conditions"),
    ("rule conditions empty", setter("rule.conditions", []), "rule.conditions"),
    (
        "rule condition operator unknown",
        setter("rule.conditions.1.operator", "timeAfter"),
        "rule.conditions[1].operator",
    ),
    (
        "rule condition key missing",
        deleter("rule.conditions.1.key"),
        "rule.conditions[1].key",
    ),
    (
        "rule time not a string",
        setter("rule.conditions.1.value", 900),
        "rule.conditions[1].value",
    ),
    (
        "dayOfWeekAnyOf with a string",
        setter("rule.conditions.0.value", "1+00:00"),
        "rule.conditions[0].value",
    ),
    (
        "dayOfWeekAnyOf with a number inside",
        setter("rule.conditions.0.value", ["1+00:00", 2]),
        "rule.conditions[0].value[1]",
    ),
    (
        "rule nested two levels",
        setter(
            "rule.conditions.1",
            {
                "operator": "or",
                "conditions": [
                    {
                        "operator": "and",
                        "conditions": [{"key": TIME, "operator": "timeLessThan", "value": "1"}],
                    }
                ],
            },
        ),
        "rule.conditions[1].conditions[0]",
    ),
    (
        "nested rule combinator unknown",
        setter(
            "rule.conditions.1",
            {
                "operator": "nand",
                "conditions": [{"key": TIME, "operator": "timeLessThan", "value": "1"}],
            },
        ),
        "rule.conditions[1].operator",
    ),
    (
        "rule over ten conditions",
        setter(
            "rule.conditions",
            [
                {"key": TIME, "operator": "timeLessThan", "value": f"1{n}:00:00+00:00"}
                for n in range(11)
            ],
        ),
        "rule",
    ),
]


@pytest.mark.parametrize(
    ("edit", "field"),
    [pytest.param(edit, field, id=name) for name, edit, field in V2_REFUSALS],
)
def test_v2_refusals_name_the_field(edit: Edit, field: str) -> None:
    doc = copy.deepcopy(SPEC_V2)
    edit(doc)
    with pytest.raises(PolicyError) as raised:
        v2(doc)
    assert raised.value.field == field
    assert f"`{field}" in str(raised.value)


def test_a_document_that_is_not_an_object() -> None:
    with pytest.raises(PolicyError):
        policy_from_v2(["type"], policy_id="p", account_id=ACCOUNT)  # type: ignore[arg-type]
    with pytest.raises(PolicyError):
        policy_from_v1("policy", policy_id="p", account_id=ACCOUNT)  # type: ignore[arg-type]


V1_REFUSALS: list[tuple[str, Edit, str]] = [
    ("type missing", deleter("type"), "type"),
    ("type unknown", setter("type", "v2"), "type"),
    ("subjects missing", deleter("subjects"), "subjects"),
    ("subjects empty", setter("subjects", []), "subjects"),
    ("two subjects", setter("subjects", SPEC_V1["subjects"] * 2), "subjects"),
    ("subject not an object", setter("subjects.0", "IBMid-1"), "subjects[0]"),
    ("subject attributes missing", setter("subjects.0", {}), "subjects[0].attributes"),
    (
        "subject attribute name missing",
        deleter("subjects.0.attributes.0.name"),
        "subjects[0].attributes[0].name",
    ),
    (
        "subject attribute value missing",
        deleter("subjects.0.attributes.0.value"),
        "subjects[0].attributes[0].value",
    ),
    (
        "subject attribute value not a string",
        setter("subjects.0.attributes.0.value", True),
        "subjects[0].attributes[0].value",
    ),
    ("roles missing", deleter("roles"), "roles"),
    ("roles empty", setter("roles", []), "roles"),
    ("role_id missing", setter("roles.1", {"display_name": "Reader"}), "roles[1].role_id"),
    ("resources missing", deleter("resources"), "resources"),
    ("two resources", setter("resources", SPEC_V1["resources"] * 2), "resources"),
    ("resource attributes empty", setter("resources.0.attributes", []), "resources[0].attributes"),
    (
        "resource operator unknown",
        setter("resources.0.attributes.2.operator", "stringEqualsAnyOf"),
        "resources[0].attributes[2].operator",
    ),
    (
        "resource value too long",
        setter("resources.0.attributes.1.value", LONG),
        "resources[0].attributes[1].value",
    ),
    (
        "resource value empty",
        setter("resources.0.attributes.1.value", ""),
        "resources[0].attributes[1].value",
    ),
    (
        "resource name missing",
        deleter("resources.0.attributes.1.name"),
        "resources[0].attributes[1].name",
    ),
    ("tags not a list", setter("resources.0.tags", "env:prod"), "resources[0].tags"),
    (
        "tag operator unknown",
        setter("resources.0.tags.0.operator", "stringExists"),
        "resources[0].tags[0].operator",
    ),
]


@pytest.mark.parametrize(
    ("edit", "field"),
    [pytest.param(edit, field, id=name) for name, edit, field in V1_REFUSALS],
)
def test_v1_refusals_name_the_field(edit: Edit, field: str) -> None:
    doc = copy.deepcopy(SPEC_V1)
    edit(doc)
    with pytest.raises(PolicyError) as raised:
        v1(doc)
    assert raised.value.field == field
    assert f"`{field}" in str(raised.value)


@pytest.mark.parametrize("length", [1, 1000])
def test_value_length_edges_are_accepted(length: int) -> None:
    doc = copy.deepcopy(SPEC_V2)
    doc["resource"]["attributes"][1] = {
        "key": "serviceInstance",
        "operator": "stringEquals",
        "value": "v" * length,
    }
    assert v2(doc).resource[1].value == "v" * length


def test_ten_any_of_values_and_ten_rule_conditions_are_accepted() -> None:
    doc = copy.deepcopy(SPEC_V2)
    doc["resource"]["attributes"][1] = {
        "key": "serviceInstance",
        "operator": "stringEqualsAnyOf",
        "value": [f"i-{n}" for n in range(10)],
    }
    doc["rule"]["conditions"] = [
        {"key": TIME, "operator": "timeLessThan", "value": f"1{n}:00:00+00:00"} for n in range(10)
    ]
    policy = v2(doc)
    assert policy.resource[1].value == tuple(f"i-{n}" for n in range(10))
    assert policy.rule is not None and len(policy.rule.conditions) == 10
