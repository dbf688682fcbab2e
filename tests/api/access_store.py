"""Put policies and custom roles straight into a live server's store (the Policy Management API
has its own tests), then tell its authorizer, as the API does after a change commits."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from strongroom import ids
from strongroom.access.group_models import AccessGroup, FederatedLogin, GroupMember, GroupRule
from strongroom.access.records import new_record
from strongroom.store.ports import StoredRole
from strongroom.testing.server import LiveServer


@dataclass(frozen=True)
class PolicyEntry:
    document: Mapping[str, Any]
    version: str = "v2"
    state: str = "active"


@dataclass(frozen=True)
class RoleEntry:
    crn: str
    service: str
    actions: tuple[str, ...]


def store_access(
    server: LiveServer,
    account_id: str,
    policies: Iterable[PolicyEntry],
    roles: Iterable[RoleEntry] = (),
    *,
    by: str | None = None,
) -> list[str]:
    """Store policies (and custom roles) in one account in one unit of work; their new ids."""
    now = datetime.now(UTC)
    by = by or server.iam_id
    stored: list[str] = []
    with server.runtime.uow(write=True) as unit:
        for role in roles:
            unit.roles.add(
                StoredRole(
                    id=ids.new_uuid(),
                    account_id=account_id,
                    name=role.crn.rsplit(":", 1)[-1],
                    service_name=role.service,
                    display_name=role.crn.rsplit(":", 1)[-1],
                    description="",
                    actions=role.actions,
                    crn=role.crn,
                    created_at=now,
                    created_by_id=by,
                    last_modified_at=now,
                    last_modified_by_id=by,
                    entity_tag=ids.new_entity_tag(1),
                )
            )
        for entry in policies:
            record = new_record(
                entry.document,
                version=entry.version,
                account_id=account_id,
                by=by,
                now=now,
                policy_id=str(uuid.uuid4()),
            )
            if entry.state != "active":
                record = dataclasses.replace(record, state=entry.state)
            unit.policies.add(record)
            stored.append(record.id)
        unit.revisions.bump(account_id)
    server.container.authorizer.invalidate(account_id)
    return stored


def store_memberships(
    server: LiveServer,
    account_id: str,
    members: Mapping[str, Iterable[str]],
    rules: Iterable[GroupRule] = (),
    logins: Iterable[FederatedLogin] = (),
) -> None:
    """Make access groups (with the given ids) in one account with these static members, dynamic
    rules and identity-provider logins, as the Access Groups API would leave them; then tell the
    authorizer."""
    now = datetime.now(UTC)
    by = server.iam_id
    rules = list(rules)
    groups = dict.fromkeys([*members, *(r.group_id for r in rules)])
    with server.runtime.uow(write=True) as unit:
        for group_id in groups:
            unit.access_groups.add(
                AccessGroup(group_id, account_id, group_id, "", now, by, now, by, "1-x")
            )
            for iam_id in members.get(group_id, ()):
                kind = "service" if iam_id.startswith("iam-ServiceId-") else "user"
                kind = "profile" if iam_id.startswith("iam-Profile-") else kind
                unit.group_members.add(GroupMember(group_id, account_id, iam_id, kind, now, by))
        for rule in rules:
            unit.group_rules.add(dataclasses.replace(rule, account_id=account_id))
        for login in logins:
            unit.federated_logins.put(dataclasses.replace(login, account_id=account_id))
        unit.revisions.bump(account_id)
    server.container.authorizer.invalidate(account_id)


def access_policy(
    iam_id: str, account_id: str, roles: Iterable[str], **resource: str
) -> dict[str, Any]:
    """A v2 access policy granting `roles` to `iam_id` on resources with these attributes."""
    attributes = [{"key": "accountId", "operator": "stringEquals", "value": account_id}]
    attributes += [{"key": k, "operator": "stringEquals", "value": v} for k, v in resource.items()]
    return {
        "type": "access",
        "subject": {"attributes": [{"key": "iam_id", "operator": "stringEquals", "value": iam_id}]},
        "resource": {"attributes": attributes},
        "control": {"grant": {"roles": [{"role_id": r} for r in roles]}},
    }
