"""Between IBM's policy documents, the stored record, and the engine's model.

A stored policy keeps the document exactly as sent (spec §1 fact 9); the columns the list
filters need are copied out of it here, and the engine's `Policy` is parsed from it again when
an account's policy set is compiled.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from strongroom import ids
from strongroom.policy.compile import CustomRole
from strongroom.policy.documents import policy_from_v1, policy_from_v2
from strongroom.policy.model import Condition, Policy
from strongroom.store.ports import StoredPolicy, StoredRole


def to_model(stored: StoredPolicy) -> Policy:
    parse = policy_from_v2 if stored.version == "v2" else policy_from_v1
    policy = parse(stored.document, policy_id=stored.id, account_id=stored.account_id)
    return policy if stored.state == "active" else replace(policy, active=False)


def custom_role_model(role: StoredRole) -> CustomRole:
    return CustomRole(role.crn, role.account_id, role.service_name, frozenset(role.actions))


def _equals(conditions: tuple[Condition, ...], key: str) -> str | None:
    for condition in conditions:
        if (
            condition.key == key
            and condition.operator == "stringEquals"
            and isinstance(condition.value, str)
        ):
            return condition.value
    return None


def new_record(
    document: Mapping[str, Any],
    *,
    version: str,
    account_id: str,
    by: str,
    now: datetime,
    policy_id: str | None = None,
) -> StoredPolicy:
    """A stored policy for a document already parsed and validated (the parse must succeed)."""
    policy_id = policy_id or ids.new_uuid()
    parse = policy_from_v2 if version == "v2" else policy_from_v1
    model = parse(document, policy_id=policy_id, account_id=account_id)
    return StoredPolicy(
        id=policy_id,
        account_id=account_id,
        type=model.type,
        version=version,
        document=dict(document),
        subject_iam_id=_equals(model.subject, "iam_id"),
        subject_group_id=_equals(model.subject, "access_group_id"),
        subject_service=_equals(model.subject, "serviceName")
        if model.type == "authorization"
        else None,
        service_name=_equals(model.resource, "serviceName"),
        service_type=_equals(model.resource, "serviceType"),
        state="active",
        created_at=now,
        created_by_id=by,
        last_modified_at=now,
        last_modified_by_id=by,
        entity_tag=ids.new_entity_tag(1),
    )
