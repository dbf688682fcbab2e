"""Key policies: `rotation` and `dualAuthDelete` on one key (spec kms-api.md §3.6), the same
two set at creation by `POST /keys_with_policy_overrides` (§3.1), and when automatic rotation
is due. Pure: ids and stamps come in.

Rules (go `policy.go`, kpdocs set-rotation-policy.md and manage-dual-auth.md):
- a PUT without `?policy=` may carry several resources, one per kind; with `?policy=<kind>` it
  carries exactly that one (else NUM_COLLECTION_RESOURCE_ERR / BODY_QUERY_PARAM_MISMATCH_ERR);
- rotation only on root keys (KEY_ROOT_REQ_ERR); `interval_month` 1..12, omitted = keep the
  stored one (go `EnableRotationPolicy` sends only `enabled`), required when none is stored;
  go sends -1 for "0 given" so it is refused here like 0; `enabled` omitted = true;
- once a key's dual authorization is on it stays on (refused as INVALID_FIELD_ERR on `enabled`:
  Key Protect documents the rule but no reason code).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from strongroom.kms.errors import KmsError
from strongroom.kms.fields import bad_body, boolean, integer, invalid_field, members, string
from strongroom.kms.models import Key, KeyPolicy, KeyState, Stamp

ROTATION = "rotation"
DUAL_AUTH = "dualAuthDelete"
KINDS = (ROTATION, DUAL_AUTH)
POLICY_TYPE = "application/vnd.ibm.kms.policy+json"
WHAT = "Key policies could not be set"
CREATE_WHAT = "Key could not be created"
INTERVAL_MIN, INTERVAL_MAX = 1, 12
DAYS_PER_MONTH = 30  # "intervals of 30 days (or one month)" (kpdocs set-rotation-policy.md)
# Fields of a GET item that a client may send back unchanged in a PUT.
READ_ONLY = ("id", "crn", "creationDate", "createdBy", "lastUpdateDate", "updatedBy")


@dataclass(frozen=True, slots=True)
class RotationRequest:
    enabled: bool = True
    interval_month: int | None = None  # None: keep the stored one


@dataclass(frozen=True, slots=True)
class PolicyOverrides:
    """`rotation` / `dualAuthDelete` of a `keys_with_policy_overrides` resource; None = not
    given."""

    rotation: RotationRequest | None = None
    dual_auth: bool | None = None


@dataclass(frozen=True, slots=True)
class KeyPolicyUpdate:
    policies: Mapping[str, KeyPolicy]  # the key's policies after the PUT, by kind
    written: tuple[KeyPolicy, ...]  # the policies the PUT named, in its order (the response)

    def apply_to(self, key: Key) -> Key:
        """The key with these policies; its `dualAuthDelete.enabled` follows the policy."""
        dual = self.policies.get(DUAL_AUTH)
        enabled = key.dual_auth.enabled or bool(dual and dual.data["enabled"])
        return replace(
            key, policies=self.policies, dual_auth=replace(key.dual_auth, enabled=enabled)
        )


def parse_policy_param(value: str | None, kinds: Sequence[str], *, what: str) -> str | None:
    """`?policy=` of a policies GET or PUT: None when absent or empty."""
    if not value:
        return None
    if value not in kinds:
        raise KmsError(
            "INVALID_QUERY_PARAM_ERR",
            f"`{value}` is not a policy type; use one of {', '.join(kinds)}",
            what=what,
            target="policy",
        )
    return value


def parse_rotation(value: object, *, what: str) -> RotationRequest:
    data = members(value, ("enabled", "interval_month"), where="`rotation`", what=what)
    enabled = boolean(data["enabled"], "enabled", what) if "enabled" in data else True
    interval = None
    if "interval_month" in data:
        interval = integer(data["interval_month"], "interval_month", what)
        if not INTERVAL_MIN <= interval <= INTERVAL_MAX:
            shown = 0 if interval == -1 else interval  # go's -1 stands for 0
            raise invalid_field(
                "interval_month", f"`interval_month` must be 1 to 12, not {shown}", what
            )
    return RotationRequest(enabled, interval)


def parse_dual_auth(value: object, *, what: str) -> bool:
    data = members(value, ("enabled",), where="`dualAuthDelete`", what=what)
    return boolean(data["enabled"], "enabled", what) if "enabled" in data else True


def parse_key_policy_resources(
    resources: object, policy_param: str | None
) -> list[tuple[str, RotationRequest | bool]]:
    """The PUT body's `resources`, as (kind, request) in order. `policy_param` is already
    checked by `parse_policy_param`."""
    if not isinstance(resources, list) or not resources:
        raise bad_body("the body needs at least one policy resource", WHAT)
    if policy_param is not None and len(resources) > 1:
        raise KmsError(
            "NUM_COLLECTION_RESOURCE_ERR",
            f"with `?policy={policy_param}` the body holds exactly one policy resource",
            what=WHAT,
        )
    out: list[tuple[str, RotationRequest | bool]] = []
    for resource in resources:
        data = members(
            resource, ("type", *KINDS), where="a policy resource", what=WHAT, ignored=READ_ONLY
        )
        if "type" in data and string(data["type"], "type", WHAT) != POLICY_TYPE:
            raise invalid_field("type", f"the policy `type` must be `{POLICY_TYPE}`", WHAT)
        kinds = [kind for kind in KINDS if kind in data]
        if not kinds:
            raise bad_body("a policy resource needs `rotation` or `dualAuthDelete`", WHAT)
        if policy_param is not None and kinds != [policy_param]:
            raise KmsError(
                "BODY_QUERY_PARAM_MISMATCH_ERR",
                f"the body sets `{'`, `'.join(kinds)}` but the query names `{policy_param}`",
                what=WHAT,
            )
        for kind in kinds:
            if any(seen == kind for seen, _ in out):
                raise bad_body(f"the body sets the `{kind}` policy twice", WHAT)
            if kind == ROTATION:
                out.append((kind, parse_rotation(data[kind], what=WHAT)))
            else:
                out.append((kind, parse_dual_auth(data[kind], what=WHAT)))
    return out


def rotation_policy(
    request: RotationRequest,
    current: KeyPolicy | None,
    *,
    root: bool,
    fallback_interval: int | None = None,
    new_id: Callable[[], str],
    stamp: Stamp,
    what: str = WHAT,
) -> KeyPolicy:
    """The rotation policy a request makes of `current`. `fallback_interval`: the interval
    when neither the request nor `current` has one (the instance's, at creation)."""
    if not root:
        raise KmsError(
            "KEY_ROOT_REQ_ERR", "Rotation policy cannot be set on a standard key", what=what
        )
    interval = request.interval_month
    if interval is None and current is not None:
        interval = int(current.data["interval_month"])
    if interval is None:
        interval = fallback_interval
    if interval is None:
        raise invalid_field(
            "interval_month", "`interval_month` is required: the key has no rotation interval", what
        )
    data = {"enabled": request.enabled, "interval_month": interval}
    return _policy(ROTATION, data, current, new_id, stamp)


def _policy(
    kind: str,
    data: Mapping[str, Any],
    current: KeyPolicy | None,
    new_id: Callable[[], str],
    stamp: Stamp,
) -> KeyPolicy:
    if current is None:
        return KeyPolicy(id=new_id(), kind=kind, data=data, created=stamp, updated=stamp)
    return replace(current, data=data, updated=stamp)


def dual_auth_policy(
    enabled: bool, current: KeyPolicy | None, *, new_id: Callable[[], str], stamp: Stamp
) -> KeyPolicy:
    return _policy(DUAL_AUTH, {"enabled": enabled}, current, new_id, stamp)


def put_key_policies(
    key: Key,
    resources: object,
    policy_param: str | None,
    *,
    new_id: Callable[[], str],
    stamp: Stamp,
) -> KeyPolicyUpdate:
    """`PUT /keys/{id}/policies`: the key's policies after the request. `policy_param` is the
    raw `?policy=` value (None or empty when absent)."""
    wanted = parse_policy_param(policy_param, KINDS, what=WHAT)
    policies = dict(key.policies)
    written: list[KeyPolicy] = []
    for kind, request in parse_key_policy_resources(resources, wanted):
        current = policies.get(kind)
        if isinstance(request, RotationRequest):
            policy = rotation_policy(request, current, root=key.is_root, new_id=new_id, stamp=stamp)
        else:
            was_on = key.dual_auth.enabled or bool(current and current.data["enabled"])
            if was_on and not request:
                raise invalid_field(
                    "enabled",
                    f"the dual authorization policy of key `{key.id}` cannot be disabled once "
                    "enabled",
                    WHAT,
                )
            policy = dual_auth_policy(request, current, new_id=new_id, stamp=stamp)
        policies[kind] = policy
        written.append(policy)
    return KeyPolicyUpdate(policies, tuple(written))


def key_policies(key: Key, policy_param: str | None) -> tuple[KeyPolicy, ...]:
    """`GET /keys/{id}/policies`: the key's policies (rotation first), or only the one
    `?policy=` names; none is an empty list, not an error."""
    wanted = parse_policy_param(policy_param, KINDS, what="Key policies could not be retrieved")
    return tuple(
        key.policies[kind] for kind in KINDS if kind in key.policies and wanted in (None, kind)
    )


def parse_policy_overrides(
    rotation: object, dual_auth_delete: object, *, extractable: bool
) -> PolicyOverrides:
    """The `rotation` and `dualAuthDelete` members of a `POST /keys_with_policy_overrides`
    resource (None when absent). Rotation is for root keys only."""
    request = None
    if rotation is not None:
        if extractable:
            raise KmsError(
                "KEY_ROOT_REQ_ERR",
                "Rotation policy cannot be set on a standard key",
                what=CREATE_WHAT,
            )
        request = parse_rotation(rotation, what=CREATE_WHAT)
    dual = None if dual_auth_delete is None else parse_dual_auth(dual_auth_delete, what=CREATE_WHAT)
    return PolicyOverrides(request, dual)


def next_rotation_at(key: Key) -> datetime | None:
    """When the key's enabled rotation policy next rotates it: `interval_month` times 30 days after
    the last rotation (or the creation). None when it will not rotate by itself: no enabled
    policy, a standard key, or imported material (rotating it needs a new payload)."""
    policy = key.policies.get(ROTATION)
    if policy is None or not policy.data["enabled"] or not key.is_root or key.imported:
        return None
    since = key.last_rotate_at or key.created.at
    return since + timedelta(days=DAYS_PER_MONTH * int(policy.data["interval_month"]))


def rotation_due(key: Key, now: datetime) -> bool:
    """Whether automatic rotation should rotate the key at `now`: only Active keys rotate by
    themselves (a suspended, expired or deleted key waits, and catches up once Active)."""
    due = next_rotation_at(key)
    return due is not None and key.state is KeyState.ACTIVE and now >= due
