"""Who is in which access group, as the policy engine needs it: one snapshot per account.

Policies whose subject is an `access_group_id` apply to the group's members (spec §5.1). A
member is static (added by iam_id), dynamic (a user whose latest login through an identity
provider realm met every condition of one of the group's rules, for the rule's `expiration`
hours after that login), or implicit: everyone in the account is in the Public Access group
while the account's `public_access_enabled` setting is on.

The snapshot is loaded with the account's policies and cached under the same access revision
(authz.LocalAuthorizer); every change to groups, members, rules, settings or logins bumps that
revision. Expiry needs no revision: `groups_of` compares the expiry times with the moment of the
check, so a lapsed dynamic membership stops counting at once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from strongroom.access.group_models import PUBLIC_ACCESS, FederatedLogin, GroupRule
from strongroom.identity.claim_rules import ClaimCondition, all_hold, check_conditions
from strongroom.store.ports import UnitOfWork

_PUBLIC = frozenset({PUBLIC_ACCESS})
_NONE: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class MembershipSnapshot:
    static: Mapping[str, frozenset[str]] = field(default_factory=dict)
    dynamic: Mapping[str, tuple[tuple[str, datetime], ...]] = field(default_factory=dict)
    public_access: bool = True

    def __post_init__(self) -> None:
        # Public Access folded into the static sets once, here, so that a check (groups_of, on
        # every request) builds no new set for a caller without dynamic memberships.
        if self.public_access:
            folded = {iam_id: groups | _PUBLIC for iam_id, groups in self.static.items()}
            object.__setattr__(self, "static", folded)

    def groups_of(self, iam_id: str, now: datetime) -> frozenset[str]:
        groups = self.static.get(iam_id, _PUBLIC if self.public_access else _NONE)
        timed = self.dynamic.get(iam_id)
        if timed:
            groups = groups | {group for group, expires in timed if expires > now}
        return groups

    def dynamic_members(self, group_id: str, now: datetime) -> dict[str, datetime]:
        """iam_id -> when the membership lapses, for the group's current dynamic members."""
        found: dict[str, datetime] = {}
        for iam_id, timed in self.dynamic.items():
            for group, expires in timed:
                if group == group_id and expires > now:
                    found[iam_id] = max(expires, found.get(iam_id, expires))
        return found


def dynamic_memberships(
    rules: Sequence[GroupRule], logins: Sequence[FederatedLogin]
) -> dict[str, tuple[tuple[str, datetime], ...]]:
    """For each login, each rule of the same realm whose conditions all hold on its claims:
    (group, logged_in_at + expiration hours)."""
    by_realm: dict[str, list[tuple[GroupRule, tuple[ClaimCondition, ...]]]] = defaultdict(list)
    for rule in rules:
        # Stored rules were checked when written; re-reading them is cheap and keeps one parser.
        by_realm[rule.realm_name].append((rule, check_conditions(list(rule.conditions))))
    found: dict[str, list[tuple[str, datetime]]] = defaultdict(list)
    for login in logins:
        for rule, conditions in by_realm.get(login.realm_name, ()):
            if all_hold(conditions, login.claims):
                expires = login.logged_in_at + timedelta(hours=rule.expiration)
                found[login.iam_id].append((rule.group_id, expires))
    return {iam_id: tuple(timed) for iam_id, timed in found.items()}


def load_memberships(uow: UnitOfWork, account_id: str) -> MembershipSnapshot:
    static: dict[str, set[str]] = defaultdict(set)
    for member in uow.group_members.in_account(account_id):
        static[member.iam_id].add(member.group_id)
    rules = uow.group_rules.in_account(account_id)
    logins = uow.federated_logins.in_account(account_id) if rules else ()
    return MembershipSnapshot(
        static={iam_id: frozenset(groups) for iam_id, groups in static.items()},
        dynamic=dynamic_memberships(rules, logins),
        public_access=uow.group_settings.get(account_id).public_access_enabled,
    )
