"""Instance policies (spec kms-api.md §3.6, Appendix A; go `instances.go`; kpdocs
settings-key-create-import-access.md, manage-dual-auth.md, error-messages.md) and their effects.
Pure: the stamp and id maker come in.

A PUT carries `{policy_type, policy_data: {enabled, attributes?}}` resources, one per type, or
exactly one with `?policy=<type>`. Attributes by type:
- `allowedNetwork`: `allowed_network` = `public-and-private` | `private-only`, required when
  enabled (go sends `""` when disabling: the stored value, else `public-and-private`, is kept);
- `allowedIP`: `allowed_ip`, IPv4 or IPv6 CIDR subnets (java `AllowedIPProperties`), at least
  one when enabled; host bits may be set (kpdocs' own example is `65.128.226.252/24`);
- `keyCreateImportAccess`: five booleans, each omitted one takes its default (kpdocs: omitted
  attributes are reset, not kept), stored in full so a GET shows what applies;
- `rotation`: `interval_month` 1..12, required when enabled and none is stored;
- `dualAuthDelete`, `metrics`: no attributes (BAD_BODY_ERR).
A disabled policy keeps the attributes it is not given, so enabling it again restores them.
Instance policies only shape keys created afterwards.
"""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from strongroom.kms.errors import KmsError
from strongroom.kms.fields import bad_body, boolean, integer, invalid_field, members, string
from strongroom.kms.key_policies import (
    CREATE_WHAT,
    DUAL_AUTH,
    INTERVAL_MAX,
    INTERVAL_MIN,
    ROTATION,
    PolicyOverrides,
    RotationRequest,
    dual_auth_policy,
    parse_policy_param,
    rotation_policy,
)
from strongroom.kms.models import InstancePolicy, KeyPolicy, Stamp

ALLOWED_NETWORK = "allowedNetwork"
ALLOWED_IP = "allowedIP"
KEY_CREATE_IMPORT_ACCESS = "keyCreateImportAccess"
METRICS = "metrics"
# Appendix A's order, which GET follows.
KINDS = (DUAL_AUTH, ALLOWED_NETWORK, ALLOWED_IP, KEY_CREATE_IMPORT_ACCESS, METRICS, ROTATION)
NETWORKS = ("public-and-private", "private-only")
ACCESS_DEFAULTS: Mapping[str, bool] = {
    "create_root_key": True,
    "create_standard_key": True,
    "import_root_key": True,
    "import_standard_key": True,
    "enforce_token": False,
}
WHAT = "Instance policy could not be created"  # kpdocs error-messages.md §4
READ_ONLY = ("creationDate", "createdBy", "updatedBy", "lastUpdated")


@dataclass(frozen=True, slots=True)
class NewKeyPolicies:
    """What a new key takes from the instance's policies (and the overrides) (spec §3.1)."""

    dual_auth: bool
    policies: Mapping[str, KeyPolicy]  # by kind


def _read(attributes: object, allowed: Iterable[str]) -> dict[str, Any]:
    return members(
        {} if attributes is None else attributes, allowed, where="`attributes`", what=WHAT
    )


def _network(value: object, enabled: bool, stored: Mapping[str, Any]) -> dict[str, Any]:
    data = _read(value, ("allowed_network",))
    given = string(data["allowed_network"], "allowed_network", WHAT) if data else ""
    if given and given not in NETWORKS:
        raise invalid_field(
            "allowed_network",
            f"`allowed_network` must be public-and-private or private-only, not `{given}`",
            WHAT,
        )
    if not given and enabled:
        raise invalid_field(
            "allowed_network", "an enabled allowedNetwork policy needs `allowed_network`", WHAT
        )
    return {"allowed_network": given or stored.get("allowed_network", NETWORKS[0])}


def _cidr(value: object) -> str:
    if isinstance(value, str) and "/" in value:
        try:
            ipaddress.ip_network(value, strict=False)
            return value
        except ValueError:
            pass
    raise invalid_field(
        "allowed_ip", f"`{value}` is not an IP subnet in CIDR notation such as 10.0.0.0/8", WHAT
    )


def _ips(value: object, enabled: bool, stored: Mapping[str, Any]) -> dict[str, Any]:
    data = _read(value, ("allowed_ip",))
    if "allowed_ip" in data:
        listed = data["allowed_ip"]
        if not isinstance(listed, list):
            raise bad_body("the field `allowed_ip` must be a list of strings", WHAT)
        if enabled and not listed:
            raise invalid_field(
                "allowed_ip", "an enabled allowedIP policy needs at least one subnet", WHAT
            )
        return {"allowed_ip": [_cidr(item) for item in listed]}
    if enabled:
        raise invalid_field("allowed_ip", "an enabled allowedIP policy needs `allowed_ip`", WHAT)
    return {"allowed_ip": stored["allowed_ip"]} if "allowed_ip" in stored else {}


def _access(value: object) -> dict[str, Any]:
    data = _read(value, ACCESS_DEFAULTS)
    return {
        name: boolean(data.get(name, default), name, WHAT)
        for name, default in ACCESS_DEFAULTS.items()
    }


def _rotation(value: object, enabled: bool, stored: Mapping[str, Any]) -> dict[str, Any]:
    data = _read(value, ("interval_month",))
    if "interval_month" in data:
        interval = integer(data["interval_month"], "interval_month", WHAT)
        if not INTERVAL_MIN <= interval <= INTERVAL_MAX:
            raise invalid_field(
                "interval_month", f"`interval_month` must be 1 to 12, not {interval}", WHAT
            )
        return {"interval_month": interval}
    if "interval_month" in stored:
        return {"interval_month": stored["interval_month"]}
    if enabled:
        raise invalid_field(
            "interval_month", "an enabled rotation policy needs `interval_month`", WHAT
        )
    return {}


def _attributes(
    kind: str, enabled: bool, value: object, stored: Mapping[str, Any]
) -> dict[str, Any]:
    if kind == ALLOWED_NETWORK:
        return _network(value, enabled, stored)
    if kind == ALLOWED_IP:
        return _ips(value, enabled, stored)
    if kind == KEY_CREATE_IMPORT_ACCESS:
        return _access(value)
    if kind == ROTATION:
        return _rotation(value, enabled, stored)
    if value is not None:  # dualAuthDelete, metrics
        raise bad_body(f"a `{kind}` policy takes no `attributes`", WHAT)
    return {}


def put_instance_policies(
    instance_id: str,
    current: Sequence[InstancePolicy],
    resources: object,
    policy_param: str | None,
    *,
    stamp: Stamp,
) -> tuple[InstancePolicy, ...]:
    """`PUT /instance/policies`: the policies the request writes, in its order (each replaces
    the instance's policy of that type). `policy_param` is the raw `?policy=` value."""
    wanted = parse_policy_param(policy_param, KINDS, what=WHAT)
    if not isinstance(resources, list) or not resources:
        raise bad_body("the body needs at least one policy resource", WHAT)
    if wanted is not None and len(resources) > 1:
        raise KmsError(
            "NUM_COLLECTION_RESOURCE_ERR",
            f"with `?policy={wanted}` the body holds exactly one policy resource",
            what=WHAT,
        )
    by_kind = {policy.kind: policy for policy in current}
    out: list[InstancePolicy] = []
    for resource in resources:
        data = members(
            resource,
            ("policy_type", "policy_data"),
            where="a policy resource",
            what=WHAT,
            ignored=READ_ONLY,
        )
        kind = string(data.get("policy_type", ""), "policy_type", WHAT)
        if wanted is not None and kind != wanted:
            raise KmsError(
                "BODY_QUERY_PARAM_MISMATCH_ERR",
                f"the body sets a `{kind}` policy but the query names `{wanted}`",
                what=WHAT,
            )
        if kind not in KINDS:
            raise invalid_field(
                "policy_type", f"`{kind}` is not a policy type; use one of {', '.join(KINDS)}", WHAT
            )
        if any(policy.kind == kind for policy in out):
            raise bad_body(f"the body sets the `{kind}` policy twice", WHAT)
        if "policy_data" not in data:
            raise bad_body(f"the `{kind}` policy needs `policy_data`", WHAT)
        policy_data = members(
            data["policy_data"], ("enabled", "attributes"), where="`policy_data`", what=WHAT
        )
        if "enabled" not in policy_data:
            raise invalid_field("enabled", f"the `{kind}` policy needs `enabled`", WHAT)
        enabled = boolean(policy_data["enabled"], "enabled", WHAT)
        previous = by_kind.get(kind)
        stored = previous.attributes if previous is not None else {}
        attributes = _attributes(kind, enabled, policy_data.get("attributes"), stored)
        created = previous.created if previous is not None else stamp
        out.append(InstancePolicy(instance_id, kind, enabled, attributes, created, stamp))
    return tuple(out)


def instance_policies(
    policies: Iterable[InstancePolicy], policy_param: str | None
) -> tuple[InstancePolicy, ...]:
    """`GET /instance/policies`: the types that have been set, in Appendix A's order, or only
    the one `?policy=` names."""
    wanted = parse_policy_param(
        policy_param, KINDS, what="Instance policies could not be retrieved"
    )
    by_kind = {policy.kind: policy for policy in policies}
    return tuple(by_kind[kind] for kind in KINDS if kind in by_kind and wanted in (None, kind))


def enabled_policy(policies: Iterable[InstancePolicy], kind: str) -> InstancePolicy | None:
    return next((p for p in policies if p.kind == kind and p.enabled), None)


def check_create_allowed(
    policies: Iterable[InstancePolicy], *, extractable: bool, imported: bool, with_token: bool
) -> None:
    """Creating or importing a key under `keyCreateImportAccess` (409 KEY_CREATE_IMPORT_ACCESS_ERR).
    `enforce_token` "takes precedence over import_root_key and import_standard_key" (kpdocs):
    with it, an import is allowed exactly when it uses an import token."""
    policy = enabled_policy(policies, KEY_CREATE_IMPORT_ACCESS)
    if policy is None:
        return
    access = {**ACCESS_DEFAULTS, **policy.attributes}
    kind = "standard" if extractable else "root"
    if imported and access["enforce_token"]:
        if not with_token:
            raise _access_refused("importing keys without an import token")
        return
    verb = "import" if imported else "create"
    if not access[f"{verb}_{kind}_key"]:
        raise _access_refused(f"{'importing' if imported else 'creating'} {kind} keys")


def check_import_token(policies: Iterable[InstancePolicy], *, with_token: bool, what: str) -> None:
    """New material for an imported key at rotate or restore: `enforce_token` applies there too
    (kpdocs: "affect imported keys during creation, rotation, and restoration")."""
    policy = enabled_policy(policies, KEY_CREATE_IMPORT_ACCESS)
    if policy is not None and policy.attributes.get("enforce_token") and not with_token:
        raise _access_refused("importing key material without an import token", what)


def _access_refused(action: str, what: str = CREATE_WHAT) -> KmsError:
    return KmsError(
        "KEY_CREATE_IMPORT_ACCESS_ERR",
        f"the keyCreateImportAccess instance policy does not allow {action}",
        what=what,
    )


def new_key_policies(
    policies: Iterable[InstancePolicy],
    *,
    extractable: bool,
    new_id: Callable[[], str],
    stamp: Stamp,
    overrides: PolicyOverrides | None = None,
) -> NewKeyPolicies:
    """The dual authorization and key policies of a new key (spec §3.1).

    `POST /keys` (`overrides` None): dual authorization when the instance's dualAuthDelete
    policy is on; a root key gets an enabled rotation policy with the instance's interval when
    the instance's rotation policy is on.
    `POST /keys_with_policy_overrides`: the rotation policy is the resource's alone (none sent,
    none made: go integration test), taking the instance's interval when it gives none; dual
    authorization is the resource's when given, else the instance's (so the instance policy still
    guards keys whose creator did not decide)."""
    policies = list(policies)
    dual = enabled_policy(policies, DUAL_AUTH) is not None
    instance_rotation = enabled_policy(policies, ROTATION)
    interval = instance_rotation.attributes.get("interval_month") if instance_rotation else None
    made: dict[str, KeyPolicy] = {}
    request: RotationRequest | None = None
    if overrides is None:
        if not extractable and interval is not None:
            request = RotationRequest(True, int(interval))
    else:
        request = overrides.rotation
        if overrides.dual_auth is not None:
            dual = overrides.dual_auth
    if request is not None:
        made[ROTATION] = rotation_policy(
            request,
            None,
            root=not extractable,
            fallback_interval=None if interval is None else int(interval),
            new_id=new_id,
            stamp=stamp,
            what=CREATE_WHAT,
        )
    if dual:
        made[DUAL_AUTH] = dual_auth_policy(True, None, new_id=new_id, stamp=stamp)
    return NewKeyPolicies(dual, made)


def check_source_ip(policies: Iterable[InstancePolicy], client_ip: str | None) -> None:
    """An enabled `allowedIP` policy admits requests only from its subnets. Key Protect answers
    401 UNAUTHORIZED_ERR ("The user does not have access to the specified resource", kpdocs
    error-messages.md §35), so do we; an unknown or unparsable client address is outside.
    An IPv4-mapped IPv6 address counts as its IPv4 address (dual-stack listeners). The caller
    skips the check for other services' identities ("an allowed IP policy does not affect
    requests from other IBM Cloud services", java `AllowedIPProperties`)."""
    policy = enabled_policy(policies, ALLOWED_IP)
    if policy is None:
        return
    address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None
    with contextlib.suppress(ValueError):
        address = ipaddress.ip_address(client_ip or "")
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for text in policy.attributes.get("allowed_ip", ()):
        network = ipaddress.ip_network(text, strict=False)
        if address is not None and network.version == address.version and address in network:
            return
    raise KmsError(
        "UNAUTHORIZED_ERR",
        f"the instance's allowedIP policy does not admit requests from `{client_ip}`",
    )
