"""The pure-Python model the stateful API test (reliability.md A2) runs beside the server.

It holds what one account should contain after each step and decides, with its own few lines of
matching, what the policy decision point should answer. Only the role -> actions table comes
from the shipped catalogs (`strongroom.policy.catalog`); no engine code is used, so the engine
and this model can disagree, which is the point (reliability.md A2, "ties back to C1").

The model is deliberately small: subjects are matched by `iam_id` or by access group (every
identity is a member of the Public Access group), resources by `accountId` plus `serviceName`
or `serviceType` plus an optional `serviceInstance`, all with `stringEquals`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from strongroom.policy.catalog import Catalog

PUBLIC_ACCESS = "AccessGroupId-PublicAccess"

# Key states (spec kms-api.md §2.2) and their timing rules, written out again here on purpose.
ACTIVE, SUSPENDED, DEACTIVATED, DESTROYED = 1, 2, 3, 5
LIVE = (ACTIVE, SUSPENDED, DEACTIVATED)


@dataclass
class Versioned:
    """An object with an entity tag: the tag last read, and every tag it ever had."""

    id: str
    etag: str
    seen: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.seen.append(self.etag)


@dataclass
class ServiceIdM(Versioned):
    iam_id: str = ""
    name: str = ""
    locked: bool = False


@dataclass
class ApiKeyM(Versioned):
    iam_id: str = ""
    name: str = ""
    value: str = ""
    disabled: bool = False


@dataclass
class GroupM(Versioned):
    name: str = ""
    members: dict[str, None] = field(default_factory=dict)  # in the order they were added


@dataclass
class PolicyM(Versioned):
    version: str = "v2"  # the API it was made with
    subject_key: str = "iam_id"  # or access_group_id
    subject: str = ""
    resource: dict[str, str] = field(default_factory=dict)  # accountId, serviceName/Type, ...
    roles: tuple[str, ...] = ()


@dataclass
class RoleM(Versioned):
    name: str = ""
    crn: str = ""
    service: str = ""
    actions: tuple[str, ...] = ()


@dataclass
class KeyM:
    id: str
    root: bool
    dual_auth: bool
    state: int = ACTIVE
    last_action_at: datetime | None = None
    deleted_at: datetime | None = None
    last_rotate_at: datetime | None = None
    set_for_deletion_by: str | None = None
    set_for_deletion_at: datetime | None = None
    versions: int = 1


@dataclass
class Model:
    catalog: Catalog
    account: str
    owner: str
    instance: str  # the Key Protect instance's GUID
    service_ids: dict[str, ServiceIdM] = field(default_factory=dict)
    api_keys: dict[str, ApiKeyM] = field(default_factory=dict)
    groups: dict[str, GroupM] = field(default_factory=dict)
    policies: dict[str, PolicyM] = field(default_factory=dict)
    roles: dict[str, RoleM] = field(default_factory=dict)
    keys: dict[str, KeyM] = field(default_factory=dict)
    deleted: dict[str, str] = field(default_factory=dict)  # id -> path that must answer 404
    deleted_policies: dict[str, PolicyM] = field(default_factory=dict)  # kept, restorable
    gone_iam_ids: dict[str, None] = field(default_factory=dict)  # of deleted service IDs
    events: int = 0  # audit events the steps should have left in the account

    def locked(self, iam_id: str) -> bool:
        """A locked service ID cannot be a policy's subject, and its policies cannot change or
        go (spec ibm-platform-api.md §6.1) until it is unlocked."""
        return any(s.locked for s in self.service_ids.values() if s.iam_id == iam_id)

    # -- the decision point -----------------------------------------------------------------

    def groups_of(self, iam_id: str) -> set[str]:
        return {g.id for g in self.groups.values() if iam_id in g.members} | {PUBLIC_ACCESS}

    def _grants(self, role: str, service: str, action: str) -> bool:
        custom = next((r for r in self.roles.values() if r.crn == role), None)
        if custom is not None:
            return custom.service == service and action in custom.actions
        return action in self.catalog.actions_of(service, role)

    def _resource_matches(self, policy: dict[str, str], asked: dict[str, str]) -> bool:
        service = asked.get("serviceName", "")
        found = self.catalog.service(service)
        for key, value in policy.items():
            if key == "serviceType":
                if found is None or found.kind != value:
                    return False
            elif asked.get(key) != value:
                return False
        return True

    def permits(self, iam_id: str, action: str, resource: dict[str, str]) -> bool:
        groups = self.groups_of(iam_id)
        service = resource["serviceName"]
        for policy in self.policies.values():
            if policy.subject_key == "iam_id" and policy.subject != iam_id:
                continue
            if policy.subject_key == "access_group_id" and policy.subject not in groups:
                continue
            if not self._resource_matches(policy.resource, resource):
                continue
            if any(self._grants(role, service, action) for role in policy.roles):
                return True
        return False

    # -- Key Protect lifecycle (spec kms-api.md §2.2, §3.3, §3.4) -------------------------------

    def key_action(self, key: KeyM, action: str, now: datetime, caller: str) -> int:
        """The status the action should answer, applying it to `key` when it succeeds."""
        if key.state == 0:  # purged
            return 404
        allowed = {
            "disable": (ACTIVE,),
            "enable": (SUSPENDED,),
            "rotate": (ACTIVE, DEACTIVATED),
            "delete": LIVE,
            "restore": (DESTROYED,),
            "purge": (DESTROYED,),
            "setKeyForDeletion": LIVE,
            "unsetKeyForDeletion": LIVE,
        }[action]
        if action == "rotate" and not key.root:
            return 400
        if key.state not in allowed:
            # KEY_DELETED_ERR (410) for a deleted key, else KEY_ACTION_INVALID_STATE_ERR (409)
            return 410 if key.state == DESTROYED else 409
        if (
            action == "enable"
            and key.last_action_at
            and now < key.last_action_at + timedelta(seconds=30)
        ):
            return 409
        if action == "restore":
            assert key.deleted_at is not None
            if now < key.deleted_at + timedelta(seconds=30):
                return 409
            if now > key.deleted_at + timedelta(days=30):
                return 400
        if action == "purge":
            assert key.deleted_at is not None
            if now < key.deleted_at + timedelta(hours=4):
                return 409
        if (
            action == "rotate"
            and key.last_rotate_at
            and now < key.last_rotate_at + timedelta(hours=1)
        ):
            return 409
        if action in ("setKeyForDeletion", "unsetKeyForDeletion") and not key.dual_auth:
            return 409
        if action == "delete" and key.dual_auth:
            # a live authorization (7 days) set by another identity (spec kms-api.md §3.3)
            set_by, set_at = key.set_for_deletion_by, key.set_for_deletion_at
            if set_by in (None, caller) or set_at is None or now >= set_at + timedelta(days=7):
                return 409
        self._apply(key, action, now, caller)
        return 204

    @staticmethod
    def _apply(key: KeyM, action: str, now: datetime, caller: str) -> None:
        if action == "disable":
            key.state, key.last_action_at = SUSPENDED, now
        elif action == "enable":
            key.state, key.last_action_at = ACTIVE, now
        elif action == "rotate":
            key.last_rotate_at = now
            key.versions += 1
        elif action == "delete":
            key.state, key.deleted_at, key.last_action_at = DESTROYED, now, now
        elif action == "restore":
            key.state, key.deleted_at, key.last_action_at = ACTIVE, None, now
            key.set_for_deletion_by = None
        elif action == "purge":
            key.state = 0
        elif action == "setKeyForDeletion":
            key.set_for_deletion_by, key.set_for_deletion_at = caller, now
        elif action == "unsetKeyForDeletion":
            key.set_for_deletion_by, key.set_for_deletion_at = None, None
