"""IAM Policy Management use cases: access and authorization policies through v1 and v2
(spec §6.1, §6.2, §6.4), with seed 003 table 4 (who may grant what).

Every use case takes its route's `Guard` and checks the declared action against the policy
resource before it reads a body or an object: a caller that may not manage policies learns
nothing, not even whether an id exists. An object in another account answers as missing.
Each write runs in one unit of work that also bumps the account's access revision, and the
`on_change` callback (the authorizer's `invalidate`) runs after it commits, so the next check
on this node sees the change.

Deleting keeps the policy with state `deleted`: IBM lists deleted policies with
`state=deleted` and restores them with `PATCH {"state": "active"}` (spec §6.1).

Creating or restoring a policy counts the account's active policies, and the subject's, after
the revision bump, whose row lock serialises the account's writers: a create past
`policies_per_account` or `policies_per_subject` (limits.yaml) is IBM's 422 "Exceeded maximum
policies quota" and never overshoots under concurrency (reliability.md C7).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from strongroom import ids
from strongroom.access import policy_checks as checks
from strongroom.access.records import custom_role_model, new_record, to_model
from strongroom.authz import Guard, Resource
from strongroom.clock import Clock
from strongroom.errors import Invalid, Locked, NotFound, PreconditionFailed, QuotaExceeded
from strongroom.identity.requests import check_if_match
from strongroom.limits import Limits, load_limits
from strongroom.policy import Catalog, Policy
from strongroom.policy.compile import CustomRole
from strongroom.store.ports import Page, PolicyQuery, StoredPolicy, UnitOfWork, UnitOfWorkFactory

SERVICE = "iam-access-management"
STATES = ("active", "deleted")
SCAN_PAGE = 500  # rows read at a time when a filter has no column (tags, service group)

OnChange = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class PolicyFilters:
    """The list filters of `GET /v1/policies` and `GET /v2/policies` (spec §6.1, §6.2)."""

    account_id: str | None
    iam_id: str | None = None
    access_group_id: str | None = None
    type: str | None = None
    service_type: str | None = None
    service_name: str | None = None
    service_group_id: str | None = None
    tag_name: str | None = None
    tag_value: str | None = None
    state: str | None = None
    sort: str = "created_at"
    descending: bool = False
    offset: int = 0
    limit: int = 50


def _missing(policy_id: str) -> NotFound:
    return NotFound("policy", policy_id, code="policy_not_found")


class PolicyService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        catalog: Catalog,
        on_change: OnChange,
        limits: Limits | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._catalog = catalog
        self._on_change = on_change
        self._limits = limits or load_limits()

    # -- create ---------------------------------------------------------------------------------

    def create_v1(self, guard: Guard, body: object) -> StoredPolicy:
        return self._create(guard, body, "v1")

    def create_v2(self, guard: Guard, body: object) -> StoredPolicy:
        return self._create(guard, body, "v2")

    def _create(self, guard: Guard, body: object, version: str) -> StoredPolicy:
        with self._uow(write=True) as uow:
            record = self.add_in(uow, guard, body, version)
        self._on_change(record.account_id)
        return record

    def add_in(
        self, uow: UnitOfWork, guard: Guard, body: object, version: str = "v1"
    ) -> StoredPolicy:
        """Create a policy inside the caller's unit of work, checked as `POST /v1/policies`
        checks it (`_create` is this plus commit; a user invitation's `iam_policy`, spec §10,
        calls it directly). `guard` must carry the policy-create action; the caller commits and
        then calls its own `on_change`."""
        # A policy lives in the caller's account; its resource must name that account (§6.1).
        return self._add_in(
            uow, guard.principal.account_id, guard.principal.iam_id, body, version, guard
        )

    def grant_in(self, uow: UnitOfWork, account_id: str, by: str, body: object) -> StoredPolicy:
        """A v2 policy the platform grants on its own authority, in the caller's unit of work:
        a resource key's policy for its service ID (spec §8), made by whoever may create the
        key, as IBM's resource controller does. Validated like any other; the caller commits
        and then calls its own `on_change`."""
        return self._add_in(uow, account_id, by, body, "v2", None)

    def revoke_in(self, uow: UnitOfWork, policy_id: str, by: str) -> None:
        """Delete a policy the platform granted (`grant_in`), in the caller's unit of work."""
        current = uow.policies.get(policy_id)
        if current is None or current.state != "active":
            return
        uow.revisions.bump(current.account_id)
        updated = replace(
            current,
            state="deleted",
            last_modified_at=self._clock.now(),
            last_modified_by_id=by,
            entity_tag=_next_tag(current),
        )
        self._store(uow, updated, current)

    def _add_in(
        self,
        uow: UnitOfWork,
        account: str,
        by: str,
        body: object,
        version: str,
        admin: Guard | None,
    ) -> StoredPolicy:
        doc = checks.document_of(body, version)
        policy_id = ids.new_uuid()
        policy = checks.parse(doc, version, policy_id=policy_id, account_id=account)
        if admin is not None:
            self._require_administrator(admin, policy)
        record = new_record(
            doc, version=version, account_id=account, by=by, now=self._clock.now(),
            policy_id=policy_id,
        )  # fmt: skip
        self._validate_in(uow, policy, version)
        self._require_room(uow, record)
        uow.policies.add(record)
        return record

    # -- read -----------------------------------------------------------------------------------

    def get(self, guard: Guard, policy_id: str) -> StoredPolicy:
        return self._load(guard, policy_id)

    def list_policies(self, guard: Guard, filters: PolicyFilters) -> Page[StoredPolicy]:
        account = filters.account_id
        guard.require(Resource(account or guard.principal.account_id, SERVICE, "policy"))
        if not account:
            raise Invalid(
                "the query parameter `account_id` is required",
                field="account_id",
                code="missing_required_query_parameter",
            )
        if filters.state is not None and filters.state not in STATES:
            raise Invalid(f"`state` is `active` or `deleted`, not `{filters.state}`", field="state")
        query = PolicyQuery(
            account_id=account,
            iam_id=filters.iam_id,
            access_group_id=filters.access_group_id,
            type=filters.type,
            service_type=filters.service_type,
            service_name=filters.service_name,
            state=filters.state or "active",
            sort=filters.sort,
            descending=filters.descending,
            offset=filters.offset,
            limit=filters.limit,
        )
        with self._uow() as uow:
            if not (filters.tag_name or filters.tag_value or filters.service_group_id):
                return uow.policies.list(query)
            return self._scan(uow, query, filters)

    @staticmethod
    def _scan(uow: UnitOfWork, query: PolicyQuery, filters: PolicyFilters) -> Page[StoredPolicy]:
        """Filters the store has no column for (access tags, service group): read the matching
        rows in order and filter here, then cut the page."""
        kept: list[StoredPolicy] = []
        offset = 0
        while True:
            page = uow.policies.list(replace(query, offset=offset, limit=SCAN_PAGE))
            kept.extend(p for p in page.items if _extra_match(to_model(p), filters))
            if not page.has_more:
                break
            offset += SCAN_PAGE
        end = filters.offset + filters.limit
        return Page(kept[filters.offset : end], len(kept) > end)

    # -- change ---------------------------------------------------------------------------------

    def replace_v1(
        self, guard: Guard, policy_id: str, if_match: str | None, body: object
    ) -> StoredPolicy:
        return self._replace(guard, policy_id, if_match, body, "v1")

    def replace_v2(
        self, guard: Guard, policy_id: str, if_match: str | None, body: object
    ) -> StoredPolicy:
        return self._replace(guard, policy_id, if_match, body, "v2")

    def _replace(
        self, guard: Guard, policy_id: str, if_match: str | None, body: object, version: str
    ) -> StoredPolicy:
        current = self._load(guard, policy_id, by_target=True)
        if current.state != "active":
            raise Invalid(
                f"policy `{policy_id}` is deleted; restore it with"
                ' `PATCH /v1/policies/{id}` and `{"state": "active"}` first',
                field="state",
            )
        if current.version != version:
            # The two families' documents differ (operators, rules, patterns); a policy is
            # replaced through the family that wrote it, so its href never changes.
            raise Invalid(
                f"policy `{policy_id}` was written through /{current.version}/policies;"
                " replace it there",
                field="body",
            )
        check_if_match(if_match, current.entity_tag)
        doc = checks.document_of(body, version)
        if doc.get("type") != current.type:
            raise Invalid(
                f"a policy's type cannot change (policy `{policy_id}` is `{current.type}`)",
                field="type",
            )
        policy = checks.parse(doc, version, policy_id=policy_id, account_id=current.account_id)
        # Administrator of what it granted before and of what it will grant (seed 003 table 4).
        self._require_administrator(guard, to_model(current))
        self._require_administrator(guard, policy)
        fresh = new_record(
            doc,
            version=version,
            account_id=current.account_id,
            by=guard.principal.iam_id,
            now=self._clock.now(),
            policy_id=policy_id,
        )
        updated = replace(
            fresh,
            created_at=current.created_at,
            created_by_id=current.created_by_id,
            entity_tag=_next_tag(current),
        )
        with self._uow(write=True) as uow:
            self._validate_in(uow, policy, version)
            # Nor away from a locked service ID: that takes its access as a delete would (§6.1;
            # found by reliability.md A2).
            self._require_unlocked_subject(uow, to_model(current))
            moved = (updated.subject_iam_id, updated.subject_group_id) != (
                current.subject_iam_id,
                current.subject_group_id,
            )
            if moved:  # one more policy for the new subject; the account's count is unchanged
                self._require_subject_room(uow, updated)
            self._store(uow, updated, current)
        self._on_change(current.account_id)
        return updated

    def update_state(
        self, guard: Guard, policy_id: str, if_match: str | None, state: object
    ) -> StoredPolicy:
        """`PATCH /v1/policies/{id}` (spec §6.1): `active` restores a deleted policy; `deleted`
        deletes it as DELETE does. Setting the state it already has changes nothing."""
        current = self._load(guard, policy_id, by_target=True)
        check_if_match(if_match, current.entity_tag)
        if state not in STATES:
            raise Invalid(f"`state` is `active` or `deleted`, not `{state}`", field="state")
        if state == current.state:
            return current
        model = to_model(current)
        self._require_administrator(guard, model)
        updated = self._stamped(current, guard, state=str(state))
        with self._uow(write=True) as uow:
            if state == "active":
                # The roles it names must still exist (a custom role may have gone meanwhile).
                self._validate_in(uow, model, current.version)
                self._require_room(uow, current)
            else:
                uow.revisions.bump(current.account_id)
                # `deleted` is a delete, refused as DELETE is (found by reliability.md A2).
                self._require_unlocked_subject(uow, model)
            self._store(uow, updated, current)
        self._on_change(current.account_id)
        return updated

    def delete(self, guard: Guard, policy_id: str) -> None:
        current = self._load(guard, policy_id, by_target=True)
        if current.state != "active":
            raise _missing(policy_id)
        model = to_model(current)
        self._require_administrator(guard, model)
        with self._uow(write=True) as uow:
            uow.revisions.bump(current.account_id)
            # IBM: a policy whose subject is a locked service ID cannot be deleted (§6.1).
            self._require_unlocked_subject(uow, model)
            self._store(uow, self._stamped(current, guard, state="deleted"), current)
        self._on_change(current.account_id)

    # -- helpers --------------------------------------------------------------------------------
    # Guard and administrator checks run outside any unit of work: the authorizer reads the
    # store itself, and a unit of work must not open inside another (an in-memory SQLite
    # database has a single connection). The write then re-checks the entity tag it read.

    def _load(self, guard: Guard, policy_id: str, *, by_target: bool = False) -> StoredPolicy:
        """The policy, if the caller may see it. Reads are checked against the account's access
        management; changes (`by_target`) only keep other accounts out here, and the caller's
        Administrator role on the policy's target is checked by `_require_administrator`."""
        with self._uow() as uow:
            found = uow.policies.get(policy_id)
        if found is None:
            # Ask about the caller's own account, so a caller that may not read policies is
            # refused whether or not the id exists (no existence oracle).
            guard.require(Resource(guard.principal.account_id, SERVICE, "policy", policy_id))
            raise _missing(policy_id)
        if by_target:
            if found.account_id != guard.principal.account_id:
                raise _missing(policy_id)
            return found
        resource = Resource(found.account_id, SERVICE, "policy", found.id)
        guard.require(resource, missing=_missing(policy_id))
        return found

    def _validate_in(self, uow: UnitOfWork, policy: Policy, version: str) -> None:
        """Validate inside the writing unit of work, after bumping the account's revision: the
        bump locks the account's revision row, so a concurrent custom-role delete in the same
        account waits for this commit (or this for it) and never sees a stale answer."""
        uow.revisions.bump(policy.account_id)
        checks.check(policy, version, self._catalog, self._custom_roles(uow, policy))
        self._require_unlocked_subject(uow, policy)

    def _require_room(self, uow: UnitOfWork, record: StoredPolicy) -> None:
        """One more active policy stays within the account's and its subject's limits; called
        after `_validate_in`'s revision bump, which holds the account's lock (C7)."""
        account, limits = record.account_id, self._limits
        if uow.policies.count_active(account) >= limits.policies_per_account:
            raise QuotaExceeded(
                f"Exceeded maximum policies quota: account `{account}` has"
                f" {limits.policies_per_account} active policies, the most allowed (limit"
                " `policies_per_account`); delete one first"
            )
        self._require_subject_room(uow, record)

    def _require_subject_room(self, uow: UnitOfWork, record: StoredPolicy) -> None:
        account, limits = record.account_id, self._limits
        subject = record.subject_iam_id or record.subject_group_id
        if subject is None:
            return  # an authorization policy: its subject is a service, not an identity
        held = uow.policies.count_active(
            account, iam_id=record.subject_iam_id, group_id=record.subject_group_id
        )
        if held >= limits.policies_per_subject:
            raise QuotaExceeded(
                f"Exceeded maximum policies quota: subject `{subject}` has"
                f" {limits.policies_per_subject} active policies, the most allowed (limit"
                " `policies_per_subject`); delete one first"
            )

    def _require_administrator(self, guard: Guard, policy: Policy) -> None:
        """Seed 003 table 4: only an administrator of the target may grant access to it (and,
        spec §6.4, an authorization's author needs at least that access on the target).

        The route's own action (`iam-access-management.policies.create`, `.update`, `.delete`)
        is checked against each target resource: the access-management catalog is marked
        `acts_on_instances`, so its Administrator role is looked up there while the caller's
        policy must match the target (kms, a kms instance, all services, ...)."""
        for target in checks.admin_targets(policy):
            attributes = {k: v for k, v in target.items() if k not in ("accountId", "serviceName")}
            guard.require(
                Resource(target["accountId"], target.get("serviceName", ""), attributes=attributes)
            )

    @staticmethod
    def _custom_roles(uow: UnitOfWork, policy: Policy) -> list[CustomRole]:
        """The account's custom roles, plus any other account's role the policy names (so the
        refusal can say whose it is)."""
        roles = [custom_role_model(r) for r in uow.roles.list(policy.account_id)]
        for role in policy.roles:
            owner = checks.custom_role_account(role)
            if owner is not None and owner[0] != policy.account_id:
                found = uow.roles.get_by_name(*owner)
                if found is not None and found.crn == role:
                    roles.append(custom_role_model(found))
        return roles

    @staticmethod
    def _require_unlocked_subject(uow: UnitOfWork, policy: Policy) -> None:
        """IBM: a locked service ID cannot be a policy's subject (spec §6.1)."""
        iam_id = checks.equals(policy.subject, "iam_id")
        if iam_id is None:
            return
        sid = uow.service_ids.get_by_iam_id(iam_id)
        if sid is not None and sid.locked:
            raise Locked("service ID", sid.id)

    def _stamped(self, current: StoredPolicy, guard: Guard, *, state: str) -> StoredPolicy:
        return replace(
            current,
            state=state,
            last_modified_at=self._clock.now(),
            last_modified_by_id=guard.principal.iam_id,
            entity_tag=_next_tag(current),
        )

    @staticmethod
    def _store(uow: UnitOfWork, updated: StoredPolicy, current: StoredPolicy) -> None:
        if not uow.policies.update(updated, expected_tag=current.entity_tag):
            raise PreconditionFailed(f"policy `{current.id}` changed meanwhile; read it again")


def _next_tag(current: StoredPolicy) -> str:
    return ids.new_entity_tag(ids.entity_tag_version(current.entity_tag) + 1)


def _extra_match(policy: Policy, filters: PolicyFilters) -> bool:
    tagged = filters.tag_name is not None or filters.tag_value is not None
    if tagged and not any(
        (filters.tag_name is None or tag.key == filters.tag_name)
        and (filters.tag_value is None or tag.value == filters.tag_value)
        for tag in policy.tags
    ):
        return False
    if filters.service_group_id is not None:
        return checks.equals(policy.resource, "service_group_id") == filters.service_group_id
    return True
