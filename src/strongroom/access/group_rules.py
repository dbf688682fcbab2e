"""Dynamic membership rules of an access group (spec §5.1 `Rule`): a user whose login through
`realm_name` asserts claims meeting every condition is a member for `expiration` hours.
Conditions are checked by identity/claim_rules.py and stored exactly as sent."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from strongroom import ids
from strongroom.access import group_requests as req
from strongroom.access.group_base import GroupBase, not_found
from strongroom.access.group_models import GroupRule
from strongroom.authz import Guard
from strongroom.errors import PreconditionFailed, QuotaExceeded
from strongroom.identity.requests import check_if_match
from strongroom.store.ports import UnitOfWork


def _rule_missing(rule_id: str, group_id: str) -> Exception:
    return not_found(f"rule `{rule_id}` not found in access group `{group_id}`", "rule", rule_id)


class RuleOps(GroupBase):
    def add_rule(self, guard: Guard, group_id: str, body: Any) -> GroupRule:
        with self._uow(write=True) as uow:
            group = self._load(uow, guard, group_id)
            self._not_public(group, "rules")
            spec = req.rule_spec(body)
            uow.revisions.bump(group.account_id)
            most = self._limits.rules_per_access_group
            if len(uow.group_rules.of_group(group.id)) >= most:
                raise QuotaExceeded(
                    f"access group `{group_id}` already has {most} dynamic rules, the most"
                    " allowed (limit `rules_per_access_group`); delete one first"
                )
            now, by = self._now(), guard.principal.iam_id
            rule = GroupRule(
                id=f"ClaimRule-{ids.new_uuid()}",
                group_id=group.id,
                account_id=group.account_id,
                name=spec.name,
                expiration=spec.expiration,
                realm_name=spec.realm_name,
                conditions=spec.conditions,
                created_at=now,
                created_by_id=by,
                last_modified_at=now,
                last_modified_by_id=by,
                entity_tag=ids.new_entity_tag(1),
            )
            uow.group_rules.add(rule)
        self._on_change(group.account_id)
        return rule

    def list_rules(self, guard: Guard, group_id: str) -> list[GroupRule]:
        with self._uow() as uow:
            group = self._load(uow, guard, group_id)
            return list(uow.group_rules.of_group(group.id))

    def get_rule(self, guard: Guard, group_id: str, rule_id: str) -> GroupRule:
        with self._uow() as uow:
            return self._load_rule(uow, guard, group_id, rule_id)

    def replace_rule(
        self, guard: Guard, group_id: str, rule_id: str, if_match: str | None, body: Any
    ) -> GroupRule:
        with self._uow(write=True) as uow:
            current = self._load_rule(uow, guard, group_id, rule_id)
            check_if_match(if_match, current.entity_tag)
            spec = req.rule_spec(body)
            uow.revisions.bump(current.account_id)
            updated = replace(
                current,
                name=spec.name,
                expiration=spec.expiration,
                realm_name=spec.realm_name,
                conditions=spec.conditions,
                last_modified_at=self._now(),
                last_modified_by_id=guard.principal.iam_id,
                entity_tag=ids.new_entity_tag(ids.entity_tag_version(current.entity_tag) + 1),
            )
            if not uow.group_rules.update(updated, expected_tag=current.entity_tag):
                raise PreconditionFailed(f"rule `{rule_id}` changed meanwhile; read it again")
        self._on_change(current.account_id)
        return updated

    def remove_rule(self, guard: Guard, group_id: str, rule_id: str) -> None:
        with self._uow(write=True) as uow:
            current = self._load_rule(uow, guard, group_id, rule_id)
            uow.revisions.bump(current.account_id)
            uow.group_rules.delete(current.id)
        self._on_change(current.account_id)

    def _load_rule(self, uow: UnitOfWork, guard: Guard, group_id: str, rule_id: str) -> GroupRule:
        group = self._load(uow, guard, group_id)
        rule = uow.group_rules.get(rule_id)
        if rule is None or rule.group_id != group.id:
            raise _rule_missing(rule_id, group_id)
        return rule
