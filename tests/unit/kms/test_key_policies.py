"""Key policies (spec kms-api.md §3.6), policy overrides at creation (§3.1) and when automatic
rotation is due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from strongroom.kms.key_policies import (
    DUAL_AUTH,
    POLICY_TYPE,
    ROTATION,
    PolicyOverrides,
    RotationRequest,
    key_policies,
    next_rotation_at,
    parse_policy_overrides,
    put_key_policies,
    rotation_due,
)
from strongroom.kms.models import Key, KeyPolicy, KeyState

from .key_factory import LATER, STAMP, T0, Ids, key_policy, make_key, refusal

ROOT = make_key()
STANDARD = make_key(extractable=True)


def rotation(interval: int | None = 3, enabled: bool | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if enabled is not None:
        body["enabled"] = enabled
    if interval is not None:
        body["interval_month"] = interval
    return {"type": POLICY_TYPE, "rotation": body, **extra}


def dual(enabled: bool = True) -> dict[str, Any]:
    return {"type": POLICY_TYPE, "dualAuthDelete": {"enabled": enabled}}


def put(
    key: Key, resources: object, policy: str | None = None, ids: Ids | None = None
) -> tuple[KeyPolicy, ...]:
    return put_key_policies(key, resources, policy, new_id=ids or Ids(), stamp=LATER).written


def refused(key: Key, resources: object, policy: str | None = None) -> tuple[str, str | None, str]:
    error = refusal(lambda: put_key_policies(key, resources, policy, new_id=Ids(), stamp=LATER))
    assert error.what == "Key policies could not be set"
    return error.code, error.target, error.message


def test_a_new_rotation_policy() -> None:
    ids = Ids()
    (policy,) = put(ROOT, [rotation(3)], "rotation", ids)
    assert policy == KeyPolicy(
        ids.made[0], ROTATION, {"enabled": True, "interval_month": 3}, LATER, LATER
    )


def test_updating_keeps_id_creation_and_unsent_values() -> None:
    key = make_key(
        policies={ROTATION: key_policy(ROTATION, {"enabled": True, "interval_month": 5})}
    )
    ids = Ids()
    # go EnableRotationPolicy / DisableRotationPolicy send only `enabled`
    (policy,) = put(key, [rotation(None, enabled=False)], "rotation", ids)
    assert (policy.id, policy.created, policy.updated) == ("pol-old", STAMP, LATER)
    assert policy.data == {"enabled": False, "interval_month": 5}
    # go's deprecated SetPolicy sends only `interval_month`: enabled defaults to true
    (policy,) = put(key, [{"rotation": {"interval_month": 7}}])
    assert policy.data == {"enabled": True, "interval_month": 7}
    assert ids.made == []


def test_the_interval_is_required_when_none_is_stored() -> None:
    code, target, message = refused(ROOT, [rotation(None, enabled=True)])
    assert (code, target) == ("INVALID_FIELD_ERR", "interval_month")
    assert "required" in message


@pytest.mark.parametrize(("interval", "shown"), [(0, "0"), (13, "13"), (-1, "0"), (-5, "-5")])
def test_intervals_outside_1_to_12_fail(interval: int, shown: str) -> None:
    code, target, message = refused(ROOT, [rotation(interval)], "rotation")
    assert (code, target) == ("INVALID_FIELD_ERR", "interval_month")
    assert message.endswith(f"not {shown}")  # go's -1 means the caller gave 0


@pytest.mark.parametrize("interval", [1, 12])
def test_interval_bounds(interval: int) -> None:
    assert put(ROOT, [rotation(interval)])[0].data["interval_month"] == interval


@pytest.mark.parametrize(
    "body",
    [
        {"interval_month": "3"},
        {"interval_month": 3.0},
        {"interval_month": True},
        {"enabled": "yes"},
        {"every": 3},
        [],
    ],
)
def test_ill_typed_rotation_bodies_are_bad_bodies(body: object) -> None:
    assert refused(ROOT, [{"rotation": body}])[0] == "BAD_BODY_ERR"


def test_rotation_only_on_root_keys() -> None:
    code, target, message = refused(STANDARD, [rotation(3)])
    assert (code, target, message) == (
        "KEY_ROOT_REQ_ERR",
        None,
        "Rotation policy cannot be set on a standard key",
    )
    assert put(STANDARD, [dual()])[0].data == {"enabled": True}  # dual authorization is for any key


def test_several_policies_in_one_put_and_the_key_they_make() -> None:
    ids = Ids()
    update = put_key_policies(ROOT, [rotation(3), dual()], None, new_id=ids, stamp=LATER)
    assert [p.kind for p in update.written] == [ROTATION, DUAL_AUTH]
    assert [p.id for p in update.written] == ids.made == ["pol-1", "pol-2"]
    key = update.apply_to(ROOT)
    assert key.policies == {ROTATION: update.written[0], DUAL_AUTH: update.written[1]}
    assert key.dual_auth.enabled is True
    assert ROOT.policies == {} and ROOT.dual_auth.enabled is False  # the input key is unchanged
    # one resource may carry both
    both = put(
        ROOT,
        [
            {
                "type": POLICY_TYPE,
                "rotation": {"interval_month": 2},
                "dualAuthDelete": {"enabled": True},
            }
        ],
    )
    assert [p.kind for p in both] == [ROTATION, DUAL_AUTH]


def test_a_put_keeps_the_policies_it_does_not_name() -> None:
    kept = key_policy(DUAL_AUTH, {"enabled": True})
    key = make_key(policies={DUAL_AUTH: kept}, dual_auth=True)
    update = put_key_policies(key, [rotation(4)], "rotation", new_id=Ids(), stamp=LATER)
    assert update.policies[DUAL_AUTH] is kept
    assert update.apply_to(key).dual_auth.enabled is True


@pytest.mark.parametrize(
    ("resources", "policy", "code"),
    [
        ([rotation(3), dual()], "rotation", "NUM_COLLECTION_RESOURCE_ERR"),
        ([dual()], "rotation", "BODY_QUERY_PARAM_MISMATCH_ERR"),
        ([rotation(3)], "dualAuthDelete", "BODY_QUERY_PARAM_MISMATCH_ERR"),
        (
            [{"rotation": {"interval_month": 2}, "dualAuthDelete": {"enabled": True}}],
            "rotation",
            "BODY_QUERY_PARAM_MISMATCH_ERR",
        ),
        ([rotation(3)], "Rotation", "INVALID_QUERY_PARAM_ERR"),
        ([rotation(3), rotation(4)], None, "BAD_BODY_ERR"),
        (
            [rotation(3), {"rotation": {"interval_month": 2}, "dualAuthDelete": {}}],
            None,
            "BAD_BODY_ERR",
        ),
        ([], None, "BAD_BODY_ERR"),
        (None, None, "BAD_BODY_ERR"),
        ({"rotation": {"interval_month": 3}}, None, "BAD_BODY_ERR"),
        (["rotation"], None, "BAD_BODY_ERR"),
        ([{"type": POLICY_TYPE}], None, "BAD_BODY_ERR"),
        ([rotation(3, extra_field=1)], None, "BAD_BODY_ERR"),
        ([rotation(3, type=7)], None, "BAD_BODY_ERR"),
        ([rotation(3, type="application/vnd.ibm.kms.key+json")], None, "INVALID_FIELD_ERR"),
    ],
)
def test_malformed_puts(resources: object, policy: str | None, code: str) -> None:
    assert refused(ROOT, resources, policy)[0] == code


def test_an_unknown_policy_param_names_its_target() -> None:
    assert refused(ROOT, [rotation(3)], "bogus")[:2] == ("INVALID_QUERY_PARAM_ERR", "policy")
    assert len(put(ROOT, [rotation(3)], "")) == 1  # an empty `?policy=` is no filter


def test_members_match_case_insensitively_and_read_only_fields_are_ignored() -> None:
    resource = {
        "Type": POLICY_TYPE,
        "Rotation": {"Enabled": True, "INTERVAL_MONTH": 6},
        "id": "x",
        "crn": "crn:v1:...",
        "creationDate": "2020-01-01T00:00:00Z",
        "createdBy": "IBMid-x",
        "lastUpdateDate": "2020-01-01T00:00:00Z",
        "updatedBy": "IBMid-y",
    }
    assert put(ROOT, [resource])[0].data == {"enabled": True, "interval_month": 6}
    assert (
        refused(ROOT, [{"rotation": {"enabled": True, "Enabled": False, "interval_month": 1}}])[0]
        == "BAD_BODY_ERR"
    )


def test_dual_authorization_cannot_be_turned_off_once_on() -> None:
    on = make_key(policies={DUAL_AUTH: key_policy(DUAL_AUTH, {"enabled": True})}, dual_auth=True)
    inherited = make_key(dual_auth=True)  # from the instance policy, with no key policy record
    for key in (on, inherited):
        code, target, message = refused(key, [dual(False)])
        assert (code, target) == ("INVALID_FIELD_ERR", "enabled")
        assert key.id in message
        assert put(key, [dual(True)])[0].data == {"enabled": True}


def test_a_key_without_dual_authorization_may_record_it_off_then_turn_it_on() -> None:
    update = put_key_policies(ROOT, [dual(False)], "dualAuthDelete", new_id=Ids(), stamp=LATER)
    key = update.apply_to(ROOT)
    assert key.policies[DUAL_AUTH].data == {"enabled": False}
    assert key.dual_auth.enabled is False
    assert put(key, [{"dualAuthDelete": {}}])[0].data == {
        "enabled": True
    }  # enabled defaults to true


def test_get_lists_the_policies_rotation_first() -> None:
    rot = key_policy(ROTATION, {"enabled": True, "interval_month": 1}, "r")
    two = key_policy(DUAL_AUTH, {"enabled": True}, "d")
    key = make_key(policies={DUAL_AUTH: two, ROTATION: rot})
    assert key_policies(key, None) == (rot, two)
    assert key_policies(key, "dualAuthDelete") == (two,)
    assert key_policies(ROOT, None) == ()  # a fresh key: an empty list (go integration test)
    assert key_policies(ROOT, "rotation") == ()
    error = refusal(lambda: key_policies(key, "metrics"))
    assert (error.code, error.target, error.what) == (
        "INVALID_QUERY_PARAM_ERR",
        "policy",
        "Key policies could not be retrieved",
    )


@pytest.mark.parametrize(
    ("rotation_body", "dual_body", "overrides"),
    [
        (None, None, PolicyOverrides()),
        ({"interval_month": 3}, None, PolicyOverrides(RotationRequest(True, 3))),  # go's shape
        (
            {"enabled": False},
            {"enabled": False},
            PolicyOverrides(RotationRequest(False, None), False),
        ),
        (None, {"enabled": True}, PolicyOverrides(None, True)),
    ],
)
def test_policy_overrides(
    rotation_body: object, dual_body: object, overrides: PolicyOverrides
) -> None:
    assert parse_policy_overrides(rotation_body, dual_body, extractable=False) == overrides


def test_policy_overrides_that_fail() -> None:
    error = refusal(lambda: parse_policy_overrides({"interval_month": 3}, None, extractable=True))
    assert (error.code, error.what) == ("KEY_ROOT_REQ_ERR", "Key could not be created")
    error = refusal(lambda: parse_policy_overrides({"interval_month": -1}, None, extractable=False))
    assert (error.code, error.target) == ("INVALID_FIELD_ERR", "interval_month")
    assert error.message.endswith("not 0")
    assert (
        refusal(lambda: parse_policy_overrides(None, {"enabled": 1}, extractable=True)).code
        == "BAD_BODY_ERR"
    )
    # a standard key may still take dual authorization
    assert parse_policy_overrides(None, {"enabled": True}, extractable=True) == PolicyOverrides(
        None, True
    )


def rotating(interval: int = 3, enabled: bool = True, **fields: Any) -> Key:
    policy = key_policy(ROTATION, {"enabled": enabled, "interval_month": interval})
    return make_key(policies={ROTATION: policy}, **fields)


@pytest.mark.parametrize(
    ("key", "due_at"),
    [
        (rotating(3), T0 + timedelta(days=90)),  # months are 30 days
        (
            rotating(1, last_rotate=datetime(2024, 3, 1, tzinfo=UTC)),
            datetime(2024, 3, 31, tzinfo=UTC),
        ),
        (rotating(12), T0 + timedelta(days=360)),
        (rotating(3, enabled=False), None),
        (rotating(3, imported=True), None),  # new material must come from the owner
        (rotating(3, extractable=True), None),
        (ROOT, None),
    ],
)
def test_next_rotation(key: Key, due_at: datetime | None) -> None:
    assert next_rotation_at(key) == due_at
    if due_at is not None:
        assert not rotation_due(key, due_at - timedelta(microseconds=1))
        assert rotation_due(key, due_at)
        assert rotation_due(key, due_at + timedelta(days=400))
    else:
        assert not rotation_due(key, T0 + timedelta(days=4000))


@pytest.mark.parametrize("state", [KeyState.SUSPENDED, KeyState.DEACTIVATED, KeyState.DESTROYED])
def test_only_active_keys_rotate_by_themselves(state: KeyState) -> None:
    key = rotating(1, state=state)
    assert next_rotation_at(key) == T0 + timedelta(days=30)
    assert not rotation_due(key, T0 + timedelta(days=31))
