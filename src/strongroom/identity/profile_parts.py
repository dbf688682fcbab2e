"""A trusted profile's claim rules, links and identities (spec §4.3).

They are parts of the profile: reading them is the profile's `get` action, changing them its
`update` action (catalogs/iam-identity.yaml), both checked on the profile itself, so a profile
of another account answers 404 for all of them. They change no policy, so no access revision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from strongroom import ids
from strongroom.authz import Guard
from strongroom.clock import Clock
from strongroom.errors import Invalid, NotFound, PreconditionFailed, QuotaExceeded
from strongroom.identity.profile_models import (
    ClaimRule,
    IdentityType,
    LinkTarget,
    Profile,
    ProfileIdentity,
    ProfileLink,
)
from strongroom.identity.profile_requests import MAX_RULES, LinkSpec, RuleSpec
from strongroom.identity.profiles import load_profile
from strongroom.identity.requests import check_if_match
from strongroom.store.ports import UnitOfWork, UnitOfWorkFactory


class ProfilePartService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    # -- claim rules ----------------------------------------------------------------------------

    def create_rule(self, guard: Guard, profile_id: str, spec: RuleSpec) -> ClaimRule:
        now = self._clock.now()
        with self._uow(write=True) as uow:
            load_profile(uow, guard, profile_id)
            if uow.profile_rules.count_for(profile_id) >= MAX_RULES:
                raise QuotaExceeded(
                    f"trusted profile `{profile_id}` has {MAX_RULES} claim rules, the most it"
                    " may have; delete one first"
                )
            rule = ClaimRule(
                id=f"ClaimRule-{ids.new_uuid()}",
                profile_id=profile_id,
                type=spec.type,
                name=spec.name,
                realm_name=spec.realm_name,
                cr_type=spec.cr_type,
                expiration=spec.expiration,
                conditions=spec.conditions,
                created_at=now,
                modified_at=now,
                entity_tag=ids.new_entity_tag(1),
            )
            uow.profile_rules.add(rule)
        return rule

    def list_rules(self, guard: Guard, profile_id: str) -> Sequence[ClaimRule]:
        with self._uow() as uow:
            load_profile(uow, guard, profile_id)
            return uow.profile_rules.list_for(profile_id)

    def get_rule(self, guard: Guard, profile_id: str, rule_id: str) -> ClaimRule:
        with self._uow() as uow:
            load_profile(uow, guard, profile_id)
            return self._rule(uow, profile_id, rule_id)

    def update_rule(
        self, guard: Guard, profile_id: str, rule_id: str, if_match: str | None, spec: RuleSpec
    ) -> ClaimRule:
        with self._uow(write=True) as uow:
            load_profile(uow, guard, profile_id)
            current = self._rule(uow, profile_id, rule_id)
            check_if_match(if_match, current.entity_tag)
            updated = replace(
                current,
                type=spec.type,
                name=spec.name,
                realm_name=spec.realm_name,
                cr_type=spec.cr_type,
                expiration=spec.expiration,
                conditions=spec.conditions,
                modified_at=self._clock.now(),
                entity_tag=ids.new_entity_tag(ids.entity_tag_version(current.entity_tag) + 1),
            )
            if not uow.profile_rules.update(updated, expected_tag=current.entity_tag):
                raise PreconditionFailed(f"claim rule `{rule_id}` changed meanwhile; read it again")
            return updated

    def delete_rule(self, guard: Guard, profile_id: str, rule_id: str) -> None:
        with self._uow(write=True) as uow:
            load_profile(uow, guard, profile_id)
            if not uow.profile_rules.delete(profile_id, rule_id):
                raise NotFound("claim rule", rule_id)

    @staticmethod
    def _rule(uow: UnitOfWork, profile_id: str, rule_id: str) -> ClaimRule:
        rule = uow.profile_rules.get(profile_id, rule_id)
        if rule is None:
            raise NotFound("claim rule", rule_id)
        return rule

    # -- links ----------------------------------------------------------------------------------

    def create_link(self, guard: Guard, profile_id: str, spec: LinkSpec) -> ProfileLink:
        now = self._clock.now()
        link = ProfileLink(
            id=f"ProfileLink-{ids.new_uuid()}",
            profile_id=profile_id,
            name=spec.name,
            cr_type=spec.cr_type,
            is_cross_account=spec.is_cross_account,
            link=spec.link,
            created_at=now,
            modified_at=now,
            entity_tag=ids.new_entity_tag(1),
        )
        with self._uow(write=True) as uow:
            load_profile(uow, guard, profile_id)
            uow.profile_links.add(link)
        return link

    def list_links(self, guard: Guard, profile_id: str) -> Sequence[ProfileLink]:
        with self._uow() as uow:
            load_profile(uow, guard, profile_id)
            return uow.profile_links.list_for(profile_id)

    def get_link(self, guard: Guard, profile_id: str, link_id: str) -> ProfileLink:
        with self._uow() as uow:
            load_profile(uow, guard, profile_id)
            link = uow.profile_links.get(profile_id, link_id)
            if link is None:
                raise NotFound("link", link_id)
            return link

    def delete_link(self, guard: Guard, profile_id: str, link_id: str) -> None:
        with self._uow(write=True) as uow:
            load_profile(uow, guard, profile_id)
            if not uow.profile_links.delete(profile_id, link_id):
                raise NotFound("link", link_id)

    def delete_links_matching(
        self, guard: Guard, profile_id: str, cr_type: str | None, target: LinkTarget
    ) -> int:
        """`DELETE .../links?type=…&crn=…`: every link of that type whose link fields equal the
        ones given (unset fields match anything). 404 when none does."""
        with self._uow(write=True) as uow:
            load_profile(uow, guard, profile_id)
            if not cr_type:
                raise Invalid(
                    "the query parameter `type` (the links' cr_type) is required", field="type"
                )
            doomed = [
                link
                for link in uow.profile_links.list_for(profile_id)
                if link.cr_type == cr_type and _matches(link.link, target)
            ]
            if not doomed:
                raise NotFound("link of type", f"{cr_type}` matching `{target.crn or '*'}")
            for link in doomed:
                uow.profile_links.delete(profile_id, link.id)
            return len(doomed)

    # -- identities -----------------------------------------------------------------------------

    def get_identities(
        self, guard: Guard, profile_id: str
    ) -> tuple[str, Sequence[ProfileIdentity]]:
        with self._uow() as uow:
            profile = load_profile(uow, guard, profile_id)
            return profile.identities_tag, uow.profile_identities.list_for(profile_id)

    def set_identities(
        self,
        guard: Guard,
        profile_id: str,
        if_match: str | None,
        identities: Sequence[ProfileIdentity],
    ) -> tuple[str, Sequence[ProfileIdentity]]:
        """Replace the whole set; If-Match names the set's tag (`*`: any)."""
        with self._uow(write=True) as uow:
            profile = load_profile(uow, guard, profile_id)
            check_if_match(if_match, profile.identities_tag)
            uow.profile_identities.replace_all(profile_id, identities)
            tag = self._bump(uow, profile)
            return tag, uow.profile_identities.list_for(profile_id)

    def set_identity(
        self, guard: Guard, profile_id: str, path_type: str, identity: ProfileIdentity
    ) -> ProfileIdentity:
        if identity.type.value != path_type:
            raise Invalid(
                f"`type` `{identity.type.value}` differs from the path's identity type"
                f" `{path_type}`",
                field="type",
            )
        with self._uow(write=True) as uow:
            profile = load_profile(uow, guard, profile_id)
            uow.profile_identities.put(profile_id, identity)
            self._bump(uow, profile)
        return identity

    def get_identity(
        self, guard: Guard, profile_id: str, path_type: str, identifier: str
    ) -> ProfileIdentity:
        with self._uow() as uow:
            load_profile(uow, guard, profile_id)
            return self._identity(uow, profile_id, path_type, identifier)

    def delete_identity(
        self, guard: Guard, profile_id: str, path_type: str, identifier: str
    ) -> None:
        with self._uow(write=True) as uow:
            profile = load_profile(uow, guard, profile_id)
            found = self._identity(uow, profile_id, path_type, identifier)
            uow.profile_identities.delete(profile_id, found.iam_id)
            self._bump(uow, profile)

    @staticmethod
    def _identity(
        uow: UnitOfWork, profile_id: str, path_type: str, identifier: str
    ) -> ProfileIdentity:
        # The path names an entry by what the client set (identifier) or by its iam_id.
        for entry in uow.profile_identities.list_for(profile_id):
            if entry.type.value == path_type and identifier in (entry.identifier, entry.iam_id):
                return entry
        if path_type not in tuple(IdentityType):
            raise Invalid(
                f"identity type must be user, serviceid or crn, not `{path_type}`",
                field="identity-type",
            )
        raise NotFound(f"{path_type} identity", identifier)

    @staticmethod
    def _bump(uow: UnitOfWork, profile: Profile) -> str:
        tag = ids.new_entity_tag(ids.entity_tag_version(profile.identities_tag) + 1)
        if not uow.profiles.set_identities_tag(profile.id, profile.identities_tag, tag):
            raise PreconditionFailed(
                f"the identities of trusted profile `{profile.id}` changed meanwhile; read them"
                " again"
            )
        return tag


def _matches(have: LinkTarget, want: LinkTarget) -> bool:
    return all(
        getattr(want, key) in (None, "", getattr(have, key))
        for key in ("crn", "namespace", "name", "component_type", "component_name")
    )
