"""Trusted-profile bodies and responses (spec §4.3), field names exactly as the SDK sends them.

Types are checked here (a 400 naming the field); the rules on the values (cr_type, conditions,
identity types, accounts) are checked in identity/profile_requests.py, so that they hold for
every caller of the use cases.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from strongroom.api.schemas.identity import _Body, history_out, ibm_time
from strongroom.identity.claim_rules import to_documents
from strongroom.identity.profile_models import ClaimRule, Profile, ProfileIdentity, ProfileLink
from strongroom.identity.profile_requests import (
    LinkSpec,
    ProfileChanges,
    RuleSpec,
    check_identity,
    check_link,
    check_rule,
)


class CreateProfileBody(_Body):
    name: str
    account_id: str
    description: str | None = None
    email: str | None = None


class UpdateProfileBody(_Body):
    name: str | None = None
    description: str | None = None
    email: str | None = None

    def changes(self) -> ProfileChanges:
        return ProfileChanges(name=self.name, description=self.description, email=self.email)


class ClaimRuleBody(_Body):
    """`create_claim_rule` and `update_claim_rule` (same fields)."""

    type: str
    conditions: list[Any]
    context: dict[str, Any] | None = None  # IBM's request context; not kept
    name: str | None = None
    realm_name: str | None = None
    cr_type: str | None = None
    expiration: int | None = None

    def spec(self) -> RuleSpec:
        return check_rule(
            type=self.type,
            conditions=self.conditions,
            name=self.name,
            realm_name=self.realm_name,
            cr_type=self.cr_type,
            expiration=self.expiration,
        )


class LinkTargetBody(_Body):
    crn: str
    namespace: str | None = None
    name: str | None = None
    component_type: str | None = None
    component_name: str | None = None


class CreateLinkBody(_Body):
    cr_type: str
    link: LinkTargetBody
    name: str | None = None
    is_cross_account: bool | None = None

    def spec(self) -> LinkSpec:
        return check_link(
            cr_type=self.cr_type,
            link=self.link.model_dump(),
            name=self.name,
            is_cross_account=self.is_cross_account,
        )


class IdentityBody(_Body):
    identifier: str
    type: str
    accounts: list[str] | None = None
    description: str | None = None

    def identity(self, field: str = "") -> ProfileIdentity:
        return check_identity(
            identifier=self.identifier,
            type=self.type,
            accounts=self.accounts,
            description=self.description,
            field=field,
        )


class SetIdentitiesBody(_Body):
    identities: list[IdentityBody] | None = None


def profile_out(profile: Profile, *, include_history: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": profile.id,
        "entity_tag": profile.meta.entity_tag,
        "crn": profile.crn,
        "name": profile.name,
        "description": profile.description,
        "email": profile.email,
        "created_at": ibm_time(profile.meta.created_at),
        "modified_at": ibm_time(profile.meta.modified_at),
        "iam_id": profile.iam_id,
        "account_id": profile.account_id,
    }
    if include_history:
        body["history"] = history_out(profile.meta.history)
    return body


def rule_out(rule: ClaimRule) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": rule.id,
        "entity_tag": rule.entity_tag,
        "created_at": ibm_time(rule.created_at),
        "modified_at": ibm_time(rule.modified_at),
        "name": rule.name,
        "type": rule.type.value,
        "expiration": rule.expiration,
        "conditions": to_documents(rule.conditions),
    }
    if rule.realm_name is not None:
        body["realm_name"] = rule.realm_name
    if rule.cr_type is not None:
        body["cr_type"] = rule.cr_type
    return body


def link_out(link: ProfileLink) -> dict[str, Any]:
    target = {
        key: value
        for key in ("crn", "namespace", "name", "component_type", "component_name")
        if (value := getattr(link.link, key)) is not None
    }
    return {
        "id": link.id,
        "entity_tag": link.entity_tag,
        "created_at": ibm_time(link.created_at),
        "modified_at": ibm_time(link.modified_at),
        "name": link.name,
        "cr_type": link.cr_type,
        "is_cross_account": link.is_cross_account,
        "link": target,
    }


def identity_out(identity: ProfileIdentity) -> dict[str, Any]:
    return {
        "iam_id": identity.iam_id,
        "identifier": identity.identifier,
        "type": identity.type.value,
        "accounts": list(identity.accounts),
        "description": identity.description,
    }


def identities_out(tag: str, identities: Sequence[ProfileIdentity]) -> dict[str, Any]:
    return {"entity_tag": tag, "identities": [identity_out(i) for i in identities]}
