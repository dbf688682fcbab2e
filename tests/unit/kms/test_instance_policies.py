"""Instance policies (spec kms-api.md §3.6, Appendix A) and their effects on new keys and on
requests."""

from __future__ import annotations

from typing import Any

import pytest

from strongroom.kms.instance_policies import (
    ACCESS_DEFAULTS,
    ALLOWED_IP,
    ALLOWED_NETWORK,
    KEY_CREATE_IMPORT_ACCESS,
    METRICS,
    check_create_allowed,
    check_import_token,
    check_source_ip,
    instance_policies,
    new_key_policies,
    put_instance_policies,
)
from strongroom.kms.key_policies import DUAL_AUTH, ROTATION, PolicyOverrides, RotationRequest
from strongroom.kms.models import InstancePolicy, KeyPolicy

from .key_factory import LATER, STAMP, Ids, instance_policy, refusal

APPENDIX_A = [
    {"policy_type": "dualAuthDelete", "policy_data": {"enabled": True}},
    {
        "policy_type": "allowedNetwork",
        "policy_data": {"enabled": True, "attributes": {"allowed_network": "private-only"}},
    },
    {
        "policy_type": "allowedIP",
        "policy_data": {"enabled": True, "attributes": {"allowed_ip": ["10.0.0.0/8"]}},
    },
    {
        "policy_type": "keyCreateImportAccess",
        "policy_data": {
            "enabled": True,
            "attributes": {
                "create_root_key": True,
                "create_standard_key": False,
                "import_root_key": True,
                "import_standard_key": False,
                "enforce_token": True,
            },
        },
    },
    {"policy_type": "metrics", "policy_data": {"enabled": False}},
    {
        "policy_type": "rotation",
        "policy_data": {"enabled": True, "attributes": {"interval_month": 3}},
    },
]


def resource(
    kind: str, enabled: bool = True, attributes: Any = None, **extra: Any
) -> dict[str, Any]:
    data: dict[str, Any] = {"enabled": enabled}
    if attributes is not None:
        data["attributes"] = attributes
    return {"policy_type": kind, "policy_data": data, **extra}


def put(
    resources: object, policy: str | None = None, current: list[InstancePolicy] | None = None
) -> tuple[InstancePolicy, ...]:
    return put_instance_policies("inst-1", current or [], resources, policy, stamp=LATER)


def one(
    kind: str,
    enabled: bool = True,
    attributes: Any = None,
    current: list[InstancePolicy] | None = None,
) -> InstancePolicy:
    (policy,) = put([resource(kind, enabled, attributes)], kind, current)
    return policy


def refused(resources: object, policy: str | None = None) -> tuple[str, str | None]:
    error = refusal(lambda: put(resources, policy))
    assert error.what == "Instance policy could not be created"
    return error.code, error.target


def test_appendix_a_sets_all_six() -> None:
    written = put(APPENDIX_A)
    assert [(p.kind, p.enabled) for p in written] == [
        ("dualAuthDelete", True),
        ("allowedNetwork", True),
        ("allowedIP", True),
        ("keyCreateImportAccess", True),
        ("metrics", False),
        ("rotation", True),
    ]
    assert [p.attributes for p in written] == [
        {},
        {"allowed_network": "private-only"},
        {"allowed_ip": ["10.0.0.0/8"]},
        {
            "create_root_key": True,
            "create_standard_key": False,
            "import_root_key": True,
            "import_standard_key": False,
            "enforce_token": True,
        },
        {},
        {"interval_month": 3},
    ]
    assert all(p.instance_id == "inst-1" and p.created == p.updated == LATER for p in written)


def test_a_replacement_keeps_the_creation_stamp() -> None:
    previous = instance_policy("metrics", True)
    (policy,) = put([resource("metrics", False)], "metrics", [previous])
    assert (policy.enabled, policy.created, policy.updated) == (False, STAMP, LATER)


@pytest.mark.parametrize(
    ("resources", "policy", "expected"),
    [
        # kpdocs error-messages.md §15: the same type twice with ?policy=
        (
            [resource("dualAuthDelete"), resource("dualAuthDelete")],
            "dualAuthDelete",
            ("NUM_COLLECTION_RESOURCE_ERR", None),
        ),
        (
            [resource("dualAuthDelete"), resource("metrics")],
            "dualAuthDelete",
            ("NUM_COLLECTION_RESOURCE_ERR", None),
        ),
        # kpdocs error-messages.md §2: ?policy=dualAuthDelete, body type badName
        ([resource("badName")], "dualAuthDelete", ("BODY_QUERY_PARAM_MISMATCH_ERR", None)),
        ([resource("metrics")], "dualAuthDelete", ("BODY_QUERY_PARAM_MISMATCH_ERR", None)),
        ([resource("metrics")], "Metrics", ("INVALID_QUERY_PARAM_ERR", "policy")),
        ([resource("badName")], None, ("INVALID_FIELD_ERR", "policy_type")),
        ([resource("metrics"), resource("metrics", False)], None, ("BAD_BODY_ERR", None)),
        ([], None, ("BAD_BODY_ERR", None)),
        ({"policy_type": "metrics"}, None, ("BAD_BODY_ERR", None)),
        ([None], None, ("BAD_BODY_ERR", None)),
        # kpdocs error-messages.md §4: an extraneous field
        ([resource("dualAuthDelete", extra_field="x")], "dualAuthDelete", ("BAD_BODY_ERR", None)),
        ([{"policy_type": "metrics"}], None, ("BAD_BODY_ERR", None)),
        ([{"policy_type": 3, "policy_data": {"enabled": True}}], None, ("BAD_BODY_ERR", None)),
        ([{"policy_data": {"enabled": True}}], None, ("INVALID_FIELD_ERR", "policy_type")),
        ([{"policy_type": "metrics", "policy_data": {}}], None, ("INVALID_FIELD_ERR", "enabled")),
        (
            [{"policy_type": "metrics", "policy_data": {"enabled": "true"}}],
            None,
            ("BAD_BODY_ERR", None),
        ),
        (
            [{"policy_type": "metrics", "policy_data": {"enabled": True, "why": 1}}],
            None,
            ("BAD_BODY_ERR", None),
        ),
        ([resource("dualAuthDelete", attributes={})], None, ("BAD_BODY_ERR", None)),
        ([resource("metrics", attributes={"x": 1})], None, ("BAD_BODY_ERR", None)),
    ],
)
def test_malformed_puts(
    resources: object, policy: str | None, expected: tuple[str, str | None]
) -> None:
    assert refused(resources, policy) == expected


def test_read_only_fields_of_a_get_item_may_come_back() -> None:
    item = resource(
        "metrics",
        True,
        creationDate="2024-01-01T00:00:00Z",
        createdBy="x",
        updatedBy="y",
        lastUpdated="z",
    )
    assert put([item])[0].enabled is True


def test_allowed_network() -> None:
    assert one(ALLOWED_NETWORK, True, {"allowed_network": "public-and-private"}).attributes == {
        "allowed_network": "public-and-private"
    }
    stored = [instance_policy(ALLOWED_NETWORK, True, {"allowed_network": "private-only"})]
    # go's SetInstancePolicies sends "" when disabling without a network: keep the stored one
    assert one(ALLOWED_NETWORK, False, {"allowed_network": ""}, stored).attributes == {
        "allowed_network": "private-only"
    }
    assert one(ALLOWED_NETWORK, False).attributes == {"allowed_network": "public-and-private"}
    for bad in ({"allowed_network": "public-only"}, {"allowed_network": ""}, None, {}):
        assert refused([resource(ALLOWED_NETWORK, True, bad)]) == (
            "INVALID_FIELD_ERR",
            "allowed_network",
        )
    assert refused([resource(ALLOWED_NETWORK, False, {"allowed_network": "everywhere"})]) == (
        "INVALID_FIELD_ERR",
        "allowed_network",
    )
    assert refused([resource(ALLOWED_NETWORK, True, {"allowed_network": 1})])[0] == "BAD_BODY_ERR"


@pytest.mark.parametrize(
    "cidrs",
    [["10.0.0.0/8"], ["65.128.226.252/24"], ["2001:db8::/32", "192.168.1.7/32"], ["::1/128"]],
)
def test_allowed_ip_takes_ipv4_and_ipv6_subnets_as_sent(cidrs: list[str]) -> None:
    assert one(ALLOWED_IP, True, {"allowed_ip": cidrs}).attributes == {"allowed_ip": cidrs}


@pytest.mark.parametrize(
    "attributes",
    [
        {"allowed_ip": ["10.0.0.1"]},  # not CIDR notation
        {"allowed_ip": ["10.0.0.0/33"]},
        {"allowed_ip": ["10.0.0/8"]},
        {"allowed_ip": ["example.com/8"]},
        {"allowed_ip": ["10.0.0.0/8", 7]},
        {"allowed_ip": []},
        {},
        None,
    ],
)
def test_allowed_ip_refusals(attributes: Any) -> None:
    assert refused([resource(ALLOWED_IP, True, attributes)]) == ("INVALID_FIELD_ERR", "allowed_ip")


def test_disabling_allowed_ip_keeps_the_subnets_unless_given() -> None:
    stored = [instance_policy(ALLOWED_IP, True, {"allowed_ip": ["10.0.0.0/8"]})]
    assert one(ALLOWED_IP, False, None, stored).attributes == {"allowed_ip": ["10.0.0.0/8"]}
    assert one(ALLOWED_IP, False, {}, stored).attributes == {"allowed_ip": ["10.0.0.0/8"]}
    assert one(ALLOWED_IP, False, {"allowed_ip": []}, stored).attributes == {"allowed_ip": []}
    assert one(ALLOWED_IP, False).attributes == {}
    assert refused([resource(ALLOWED_IP, True, {"allowed_ip": "10.0.0.0/8"})])[0] == "BAD_BODY_ERR"


def test_key_create_import_access_fills_omitted_attributes_with_defaults() -> None:
    assert one(KEY_CREATE_IMPORT_ACCESS, True, {"create_standard_key": False}).attributes == {
        **ACCESS_DEFAULTS,
        "create_standard_key": False,
    }
    # omitted attributes are reset, not kept (kpdocs)
    stored = [
        instance_policy(KEY_CREATE_IMPORT_ACCESS, True, {**ACCESS_DEFAULTS, "enforce_token": True})
    ]
    assert one(KEY_CREATE_IMPORT_ACCESS, True, {"import_root_key": False}, stored).attributes == {
        **ACCESS_DEFAULTS,
        "import_root_key": False,
    }
    assert one(KEY_CREATE_IMPORT_ACCESS, False, None, stored).attributes == ACCESS_DEFAULTS
    assert (
        refused([resource(KEY_CREATE_IMPORT_ACCESS, True, {"enforce_token": "yes"})])[0]
        == "BAD_BODY_ERR"
    )
    assert (
        refused([resource(KEY_CREATE_IMPORT_ACCESS, True, {"delete_keys": False})])[0]
        == "BAD_BODY_ERR"
    )


def test_rotation_instance_policy() -> None:
    assert one(ROTATION, True, {"interval_month": 12}).attributes == {"interval_month": 12}
    stored = [instance_policy(ROTATION, True, {"interval_month": 4})]
    assert one(ROTATION, False, None, stored).attributes == {"interval_month": 4}
    assert one(ROTATION, True, None, stored).attributes == {"interval_month": 4}
    assert one(ROTATION, False).attributes == {}
    for bad in ({"interval_month": 0}, {"interval_month": 13}, None):
        assert refused([resource(ROTATION, True, bad)]) == ("INVALID_FIELD_ERR", "interval_month")
    assert refused([resource(ROTATION, True, {"interval_month": "3"})])[0] == "BAD_BODY_ERR"


def test_get_lists_set_types_in_appendix_a_order() -> None:
    rot = instance_policy(ROTATION, True, {"interval_month": 1})
    dual = instance_policy(DUAL_AUTH, False)
    net = instance_policy(ALLOWED_NETWORK, True, {"allowed_network": "private-only"})
    assert instance_policies([rot, net, dual], None) == (dual, net, rot)
    assert instance_policies([rot, net, dual], "rotation") == (rot,)
    assert instance_policies([rot], "metrics") == ()
    assert instance_policies([], "") == ()
    error = refusal(lambda: instance_policies([rot], "allowedIp"))
    assert (error.code, error.target) == ("INVALID_QUERY_PARAM_ERR", "policy")


def access(**attributes: bool) -> list[InstancePolicy]:
    return [instance_policy(KEY_CREATE_IMPORT_ACCESS, True, {**ACCESS_DEFAULTS, **attributes})]


@pytest.mark.parametrize(
    ("attributes", "extractable", "imported", "with_token", "allowed"),
    [
        ({}, False, False, False, True),
        ({}, True, True, False, True),
        ({"create_root_key": False}, False, False, False, False),
        ({"create_root_key": False}, True, False, False, True),
        ({"create_root_key": False}, False, True, False, True),
        ({"create_standard_key": False}, True, False, False, False),
        ({"create_standard_key": False}, False, False, False, True),
        ({"import_root_key": False}, False, True, True, False),
        ({"import_root_key": False}, False, False, False, True),
        ({"import_standard_key": False}, True, True, False, False),
        ({"import_standard_key": False}, False, True, False, True),
        ({"enforce_token": True}, False, True, False, False),
        ({"enforce_token": True}, True, True, False, False),
        ({"enforce_token": True}, False, True, True, True),
        ({"enforce_token": True}, False, False, False, True),  # creating imports nothing
        # enforce_token takes precedence over import_*_key (kpdocs)
        ({"enforce_token": True, "import_root_key": False}, False, True, True, True),
    ],
)
def test_key_create_import_access(
    attributes: dict[str, bool], extractable: bool, imported: bool, with_token: bool, allowed: bool
) -> None:
    def call() -> None:
        check_create_allowed(
            access(**attributes), extractable=extractable, imported=imported, with_token=with_token
        )

    if allowed:
        call()
    else:
        error = refusal(call)
        assert (error.code, error.what) == (
            "KEY_CREATE_IMPORT_ACCESS_ERR",
            "Key could not be created",
        )
        assert "keyCreateImportAccess" in error.message


def test_a_disabled_or_absent_access_policy_allows_everything() -> None:
    off = [
        instance_policy(
            KEY_CREATE_IMPORT_ACCESS,
            False,
            {key: False for key in ACCESS_DEFAULTS} | {"enforce_token": True},
        )
    ]
    for policies in (off, []):
        for extractable in (False, True):
            for imported in (False, True):
                check_create_allowed(
                    policies, extractable=extractable, imported=imported, with_token=False
                )


def test_enforce_token_applies_to_rotation_and_restore() -> None:
    check_import_token(access(enforce_token=True), with_token=True, what="Key could not be rotated")
    check_import_token(access(), with_token=False, what="Key could not be rotated")
    error = refusal(
        lambda: check_import_token(
            access(enforce_token=True), with_token=False, what="Key could not be rotated"
        )
    )
    assert (error.code, error.what) == ("KEY_CREATE_IMPORT_ACCESS_ERR", "Key could not be rotated")


DUAL_ON = instance_policy(DUAL_AUTH, True)
DUAL_OFF = instance_policy(DUAL_AUTH, False)
ROTATE_5 = instance_policy(ROTATION, True, {"interval_month": 5})
ROTATE_OFF = instance_policy(ROTATION, False, {"interval_month": 5})


def made(
    policies: list[InstancePolicy],
    extractable: bool = False,
    overrides: PolicyOverrides | None = None,
) -> tuple[bool, dict[str, Any]]:
    result = new_key_policies(
        policies, extractable=extractable, new_id=Ids(), stamp=LATER, overrides=overrides
    )
    for policy in result.policies.values():
        assert (policy.created, policy.updated) == (LATER, LATER)
    return result.dual_auth, {kind: dict(policy.data) for kind, policy in result.policies.items()}


@pytest.mark.parametrize(
    ("policies", "extractable", "overrides", "expected"),
    [
        ([], False, None, (False, {})),
        ([DUAL_ON], False, None, (True, {DUAL_AUTH: {"enabled": True}})),
        ([DUAL_ON], True, None, (True, {DUAL_AUTH: {"enabled": True}})),
        ([DUAL_OFF, ROTATE_OFF], False, None, (False, {})),
        ([ROTATE_5], False, None, (False, {ROTATION: {"enabled": True, "interval_month": 5}})),
        ([ROTATE_5], True, None, (False, {})),  # standard keys do not rotate
        # go integration test TestCreateKeyWithPolicyOverrides
        (
            [ROTATE_5],
            False,
            PolicyOverrides(RotationRequest(True, 3)),
            (False, {ROTATION: {"enabled": True, "interval_month": 3}}),
        ),
        ([ROTATE_5], False, PolicyOverrides(), (False, {})),
        # kpdocs: disabled at creation, the policy is written disabled with the instance's interval
        (
            [ROTATE_5],
            False,
            PolicyOverrides(RotationRequest(False, None)),
            (False, {ROTATION: {"enabled": False, "interval_month": 5}}),
        ),
        (
            [],
            False,
            PolicyOverrides(RotationRequest(True, 2)),
            (False, {ROTATION: {"enabled": True, "interval_month": 2}}),
        ),
        ([DUAL_ON], False, PolicyOverrides(), (True, {DUAL_AUTH: {"enabled": True}})),
        ([DUAL_ON], False, PolicyOverrides(dual_auth=False), (False, {})),
        ([], True, PolicyOverrides(dual_auth=True), (True, {DUAL_AUTH: {"enabled": True}})),
    ],
)
def test_new_key_policies(
    policies: list[InstancePolicy],
    extractable: bool,
    overrides: PolicyOverrides | None,
    expected: tuple[bool, dict[str, Any]],
) -> None:
    assert made(policies, extractable, overrides) == expected


def test_new_key_policies_get_fresh_ids() -> None:
    ids = Ids("kp")
    result = new_key_policies([DUAL_ON, ROTATE_5], extractable=False, new_id=ids, stamp=LATER)
    assert sorted(policy.id for policy in result.policies.values()) == ids.made == ["kp-1", "kp-2"]
    assert all(isinstance(policy, KeyPolicy) for policy in result.policies.values())


def test_an_override_without_any_interval_fails() -> None:
    error = refusal(lambda: made([], False, PolicyOverrides(RotationRequest(True, None))))
    assert (error.code, error.target, error.what) == (
        "INVALID_FIELD_ERR",
        "interval_month",
        "Key could not be created",
    )
    error = refusal(lambda: made([], True, PolicyOverrides(RotationRequest(True, 3))))
    assert error.code == "KEY_ROOT_REQ_ERR"


ALLOW = [
    instance_policy(
        ALLOWED_IP, True, {"allowed_ip": ["10.0.0.0/8", "65.128.226.252/24", "2001:db8::/32"]}
    )
]


@pytest.mark.parametrize(
    ("policies", "client", "allowed"),
    [
        ([], "203.0.113.9", True),
        ([], None, True),
        ([instance_policy(ALLOWED_IP, False, {"allowed_ip": ["10.0.0.0/8"]})], "203.0.113.9", True),
        (ALLOW, "10.1.2.3", True),
        (ALLOW, "65.128.226.1", True),  # host bits in the policy's subnet do not matter
        (ALLOW, "65.128.227.1", False),
        (ALLOW, "2001:db8::7", True),
        (ALLOW, "2001:db9::7", False),
        (ALLOW, "::ffff:10.0.0.1", True),  # IPv4-mapped, from a dual-stack listener
        (ALLOW, "::1", False),
        (ALLOW, "127.0.0.1", False),
        (ALLOW, None, False),
        (ALLOW, "testclient", False),
        (ALLOW, "", False),
    ],
)
def test_source_ip(policies: list[InstancePolicy], client: str | None, allowed: bool) -> None:
    if allowed:
        check_source_ip(policies, client)
    else:
        error = refusal(lambda: check_source_ip(policies, client))
        assert error.code == "UNAUTHORIZED_ERR"
        assert f"`{client}`" in error.message


def test_metrics_has_no_effect_on_keys() -> None:
    metrics = [instance_policy(METRICS, True)]
    assert made(metrics) == (False, {})
    check_create_allowed(metrics, extractable=False, imported=True, with_token=False)
    check_source_ip(metrics, None)
