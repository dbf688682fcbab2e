"""Trusted profiles (spec §4.3): create, list, read, update, delete, and which profile a token
request may act as (spec §3.1). Claim rules, links and identities are in `profile_parts`.

As in identity/service.py, every use case a route calls takes the route's `Guard` and checks it
before it reads anything a caller could learn from; a profile of another account answers exactly
like a missing one. Each runs in one unit of work.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from strongroom import ids
from strongroom.authz import Guard, Resource
from strongroom.clock import Clock
from strongroom.crn import CRN, CRNError
from strongroom.errors import Conflict, Invalid, NotFound, PreconditionFailed, QuotaExceeded
from strongroom.identity import profile_trust
from strongroom.identity.models import HistoryRecord, first_version, next_version
from strongroom.identity.profile_models import Profile
from strongroom.identity.profile_requests import (
    ProfileChanges,
    ProfileSelector,
    check_account_id,
    check_email,
)
from strongroom.identity.requests import check_description, check_if_match, check_name
from strongroom.limits import Limits, load_limits
from strongroom.store.ports import ListQuery, Page, PolicyQuery, UnitOfWork, UnitOfWorkFactory

SERVICE = "iam-identity"
RESOURCE_TYPE = "profile"

# Run inside the unit of work that deletes a profile, before the profile row goes (e.g. removing
# it from access groups). Wired in bootstrap.
ProfileHook = Callable[[UnitOfWork, Profile], None]
OnChange = Callable[[str], None]


def missing(profile_id: str) -> NotFound:
    return NotFound("trusted profile", profile_id)


def load_profile(uow: UnitOfWork, guard: Guard, profile_id: str) -> Profile:
    """The profile if the guard permits its action on it; else the same 404 as a missing one."""
    found = uow.profiles.get(profile_id)
    if found is None:
        raise missing(profile_id)
    resource = Resource(found.account_id, SERVICE, RESOURCE_TYPE, found.id)
    guard.require(resource, missing=missing(profile_id))
    return found


def history_record(guard: Guard, now: Any, action: str, params: list[str]) -> HistoryRecord:
    message = {"create": "Created", "update": "Updated"}.get(action, action.title())
    return HistoryRecord(
        now,
        guard.principal.iam_id,
        guard.principal.account_id,
        action,
        tuple(params),
        f"{message} trusted profile",
    )


class ProfileService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        *,
        on_change: OnChange,
        on_profile_deleted: Sequence[ProfileHook] = (),
        limits: Limits | None = None,
    ) -> None:
        self._limits = limits or load_limits()
        self._uow = uow
        self._clock = clock
        # After a delete commits: the authorizer drops the account's compiled policies.
        self._on_change = on_change
        self._on_profile_deleted = tuple(on_profile_deleted)

    # -- profiles -------------------------------------------------------------------------------

    def create_profile(
        self, guard: Guard, *, account_id: str, name: str, description: str = "", email: str = ""
    ) -> Profile:
        # Spec §4.3: an unknown or foreign account is a 400, and the same 400 for both.
        check_account_id(account_id)
        if account_id != guard.principal.account_id:
            raise Invalid(f"account `{account_id}` does not exist", field="account_id")
        guard.require(Resource(account_id, SERVICE, RESOURCE_TYPE))
        check_name(name, "trusted profile")
        check_description(description)
        check_email(email)
        now = self._clock.now()
        profile_id = ids.new_profile_id()
        profile = Profile(
            id=profile_id,
            iam_id=ids.profile_iam_id(profile_id),
            account_id=account_id,
            name=name,
            description=description,
            email=email,
            meta=first_version(
                now, guard.principal.iam_id, history_record(guard, now, "create", ["name"])
            ),
            identities_tag=ids.new_entity_tag(1),
        )
        with self._uow(write=True) as uow:
            # The account's row lock serialises the count and the insert (reliability.md C7).
            if uow.accounts.lock(account_id) is None:
                raise Invalid(f"account `{account_id}` does not exist", field="account_id")
            most = self._limits.profiles_per_account
            if uow.profiles.count(account_id) >= most:
                raise QuotaExceeded(
                    f"account `{account_id}` has {most} trusted profiles, the most it may have"
                    " (limit `profiles_per_account`); delete one first"
                )
            if not uow.profiles.add(profile):
                raise self._duplicate(name)
        return profile

    def list_profiles(self, guard: Guard, query: ListQuery) -> Page[Profile]:
        guard.require(Resource(query.account_id, SERVICE, RESOURCE_TYPE))
        with self._uow() as uow:
            return uow.profiles.list(query)

    def get_profile(self, guard: Guard, profile_id: str) -> Profile:
        with self._uow() as uow:
            return load_profile(uow, guard, profile_id)

    def update_profile(
        self, guard: Guard, profile_id: str, if_match: str | None, changes: ProfileChanges
    ) -> Profile:
        with self._uow(write=True) as uow:
            current = load_profile(uow, guard, profile_id)
            check_if_match(if_match, current.meta.entity_tag)
            fields = ("name", "description", "email")
            params = [n for n in fields if getattr(changes, n) is not None]
            name = current.name
            if changes.name is not None:
                name = check_name(changes.name, "trusted profile")
                other = uow.profiles.get_by_name(current.account_id, name)
                if other is not None and other.id != current.id:
                    raise self._duplicate(name)
            updated = replace(
                current,
                name=name,
                description=check_description(changes.description)
                if changes.description is not None
                else current.description,
                email=check_email(changes.email) if changes.email is not None else current.email,
                meta=next_version(
                    current.meta,
                    self._clock.now(),
                    history_record(guard, self._clock.now(), "update", params),
                ),
            )
            if not uow.profiles.update(updated, expected_tag=current.meta.entity_tag):
                raise PreconditionFailed(
                    f"trusted profile `{profile_id}` changed meanwhile; read it again"
                )
            return updated

    def delete_profile(self, guard: Guard, profile_id: str) -> None:
        """Deletes the profile with its rules, links and identities, and the policies that name
        it, in one unit of work; a token issued for it then matches no policy."""
        with self._uow(write=True) as uow:
            current = load_profile(uow, guard, profile_id)
            uow.profile_rules.delete_for(profile_id)
            uow.profile_links.delete_for(profile_id)
            uow.profile_identities.delete_for(profile_id)
            self._delete_policies_naming(uow, current)
            for hook in self._on_profile_deleted:
                hook(uow, current)
            uow.profiles.delete(profile_id)
            uow.revisions.bump(current.account_id)
        self._on_change(current.account_id)

    @staticmethod
    def _delete_policies_naming(uow: UnitOfWork, profile: Profile) -> None:
        query = PolicyQuery(account_id=profile.account_id, iam_id=profile.iam_id, state=None)
        while True:
            page = uow.policies.list(query)
            for policy in page.items:
                uow.policies.delete(policy.id)
            if not page.has_more:
                return

    @staticmethod
    def _duplicate(name: str) -> Conflict:
        return Conflict(f"a trusted profile named `{name}` already exists in this account")

    # -- token grants (spec §3.1) ---------------------------------------------------------------

    def profile_to_assume(
        self, selector: ProfileSelector, iam_id: str, account_id: str
    ) -> Profile | None:
        """The profile the assume grant names, if the caller may assume it; None when there is
        no such profile or the caller may not (one answer for both)."""
        with self._uow() as uow:
            profile = self._select(uow, selector, account_id)
            if profile is None:
                return None
            identities = uow.profile_identities.list_for(profile.id)
            if not profile_trust.may_assume(profile, identities, iam_id, account_id):
                return None
            return profile

    def profile_for_compute_resource(
        self, selector: ProfileSelector, claims: Mapping[str, Any]
    ) -> Profile | None:
        """The profile the cr-token grant names, if one of its links or Profile-CR rules admits
        the compute resource's verified claims; None otherwise (one answer for both)."""
        home = selector.account_id or profile_trust.resource_account(claims)
        with self._uow() as uow:
            profile = self._select(uow, replace(selector, account_id=home), home)
            if profile is None:
                return None
            if not profile_trust.admits_compute_resource(
                profile,
                uow.profile_links.list_for(profile.id),
                uow.profile_rules.list_for(profile.id),
                claims,
            ):
                return None
            return profile

    @staticmethod
    def _select(
        uow: UnitOfWork, selector: ProfileSelector, default_account: str | None
    ) -> Profile | None:
        found: Profile | None = None
        if selector.profile_id:
            found = uow.profiles.get(selector.profile_id)
            if found is None:
                return None
        if selector.profile_crn:
            try:
                crn = CRN.parse(selector.profile_crn)
            except CRNError:
                return None
            by_crn = uow.profiles.get(crn.resource)
            if by_crn is None or by_crn.crn != selector.profile_crn:
                return None
            if found is not None and found.id != by_crn.id:
                return None
            found = by_crn
        if selector.profile_name:
            account = selector.account_id or default_account
            if not account:
                return None
            by_name = uow.profiles.get_by_name(account, selector.profile_name)
            if by_name is None or (found is not None and found.id != by_name.id):
                return None
            found = by_name
        return found
