"""Enterprise Management use cases for enterprises and their accounts (spec §9).

Each use case takes the route's `Guard` and runs in one unit of work, so a refused or invalid
request writes nothing. Decisions are made in the enterprise account (enterprise_tree.py). New
accounts get their owner and the owner's policies like any account (the `on_account_created`
hooks bootstrap also gives IdentityService); the enterprise itself grants nothing inside them.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import replace

from strongroom import ids
from strongroom.access.owner import grant_owner_like
from strongroom.authz import Guard, Resource
from strongroom.clock import Clock
from strongroom.errors import Conflict, Forbidden, Invalid, NotFound
from strongroom.identity.models import Account, AccountRole, Membership, User
from strongroom.identity.requests import CreatedApiKey
from strongroom.identity.service import AccountHook, IdentityService
from strongroom.resources import enterprise_requests as req
from strongroom.resources import enterprise_tree as tree
from strongroom.resources.enterprise_models import (
    ACTIVE,
    DELETED,
    SERVICE,
    AccountGroup,
    AccountNode,
    Changed,
    CreatedAccount,
    CreatedEnterprise,
    Enterprise,
    EnterpriseAccount,
    NodeQuery,
    Origin,
)
from strongroom.store.ports import Page, UnitOfWork, UnitOfWorkFactory


def new_id() -> str:
    return secrets.token_hex(16)


def known_user(uow: UnitOfWork, iam_id: str, field: str) -> User:
    user = uow.users.get(iam_id)
    if user is None:
        raise Invalid(f"`{field}` `{iam_id}` is not a known user", field=field)
    return user


class EnterpriseService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        identity: IdentityService,
        *,
        on_account_created: Sequence[AccountHook] = (),
        on_change: Callable[[str], None] = lambda account_id: None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._identity = identity
        self._on_account_created = tuple(on_account_created)
        self._on_change = on_change  # after commit: a new account's policies are live at once

    # -- enterprises ----------------------------------------------------------------------------

    def create_enterprise(self, guard: Guard, body: object) -> CreatedEnterprise:
        """A new enterprise account owned by the source account's owner; the source account
        becomes the enterprise's first child. The caller acts on the SOURCE account (its owner,
        or an Administrator of `enterprise` there). The answer also carries, once, the API key
        of an administrator service ID in the enterprise account: strongroom's way in."""
        spec = req.check_new_enterprise(body)
        missing = NotFound("account", spec.source_account_id)
        guard.require(Resource(spec.source_account_id, SERVICE, "enterprise"), missing=missing)
        by, now = guard.principal.iam_id, self._clock.now()
        with self._uow(write=True) as uow:
            source = uow.accounts.get(spec.source_account_id)
            if source is None or source.state != ACTIVE:
                raise missing
            if uow.enterprise_accounts.get(source.id) is not None:
                raise Conflict(f"account `{source.id}` is already in an enterprise")
            contact = known_user(uow, spec.primary_contact_iam_id, "primary_contact_iam_id")
            owner = known_user(uow, source.owner_iam_id, "source_account_id")
            account = self._new_account(uow, spec.name, owner)
            changed = Changed(now, by, now, by)
            enterprise = Enterprise(
                id=new_id(),
                account_id=account.id,
                name=spec.name,
                domain=spec.domain,
                state=ACTIVE,
                primary_contact_iam_id=contact.iam_id,
                primary_contact_email=contact.email,
                source_account_id=source.id,
                changed=changed,
            )
            uow.enterprises.add(enterprise)
            for member, origin in ((account.id, Origin.ENTERPRISE), (source.id, Origin.SOURCE)):
                uow.enterprise_accounts.add(
                    EnterpriseAccount(
                        member, enterprise.id, account.id, None, origin, ACTIVE, changed
                    )
                )
            sid, key = self._admin_service_id(uow, account.id, by)
        self._on_change(account.id)
        return CreatedEnterprise(enterprise.id, account.id, sid, key.key.id, key.value)

    def list_enterprises(
        self,
        guard: Guard,
        *,
        enterprise_account_id: str | None = None,
        account_group_id: str | None = None,
        account_id: str | None = None,
    ) -> list[Enterprise]:
        """The enterprise the caller's account is the enterprise account of, and (asked with
        `account_id` = the caller's own account) the enterprise that account belongs to."""
        tree.require_here(guard, "enterprise")
        mine = guard.principal.account_id
        with self._uow() as uow:
            found = [uow.enterprises.get_by_account(mine)]
            if account_id == mine:
                found.append(self._member_of(uow, mine))
            result: list[Enterprise] = []
            for e in found:
                if e is None or e in result:
                    continue
                if enterprise_account_id is not None and e.account_id != enterprise_account_id:
                    continue
                if account_group_id is not None:
                    group = uow.account_groups.get(account_group_id)
                    if group is None or group.enterprise_id != e.id:
                        continue
                if account_id is not None:
                    member = uow.enterprise_accounts.get(account_id)
                    if member is None or member.enterprise_id != e.id:
                        continue
                result.append(e)
            return result

    def get_enterprise(self, guard: Guard, enterprise_id: str) -> Enterprise:
        """The caller's own enterprise, or the one the caller's account belongs to."""
        tree.require_here(guard, "enterprise", enterprise_id)
        mine = guard.principal.account_id
        with self._uow() as uow:
            for found in (uow.enterprises.get_by_account(mine), self._member_of(uow, mine)):
                if found is not None and found.id == enterprise_id:
                    return found
        raise NotFound("enterprise", enterprise_id)

    @staticmethod
    def _member_of(uow: UnitOfWork, account_id: str) -> Enterprise | None:
        place = uow.enterprise_accounts.get(account_id)
        if place is None or place.state == DELETED:
            return None
        return uow.enterprises.get(place.enterprise_id)

    def update_enterprise(self, guard: Guard, enterprise_id: str, body: object) -> None:
        with self._uow(write=True) as uow:
            current = tree.load_enterprise(uow, guard, enterprise_id)
            changes = req.check_enterprise_changes(body)
            if "primary_contact_iam_id" in changes:
                contact = known_user(
                    uow, changes["primary_contact_iam_id"], "primary_contact_iam_id"
                )
                changes["primary_contact_email"] = contact.email
            changed = replace(
                current.changed, updated_at=self._clock.now(), updated_by=guard.principal.iam_id
            )
            uow.enterprises.update(replace(current, **changes, changed=changed))

    # -- accounts -------------------------------------------------------------------------------

    def create_account(self, guard: Guard, body: object) -> CreatedAccount:
        """A new account under `parent`, owned by `owner_iam_id` (an existing user), who gets the
        owner's policies there; with `options.create_iam_service_id_with_apikey_and_owner_
        policies` also a service ID with the same policies and an API key shown once."""
        tree.require_here(guard, "account")
        spec = req.check_new_account(body)
        by, now = guard.principal.iam_id, self._clock.now()
        with self._uow(write=True) as uow:
            ref = tree.resolve_parent(uow, guard, spec.parent)
            owner = known_user(uow, spec.owner_iam_id, "owner_iam_id")
            account = self._new_account(uow, spec.name, owner)
            uow.enterprise_accounts.add(
                EnterpriseAccount(
                    account.id,
                    ref.enterprise.id,
                    ref.enterprise.account_id,
                    ref.group_id,
                    Origin.CREATED,
                    ACTIVE,
                    Changed(now, by, now, by),
                )
            )
            created = CreatedAccount(account.id)
            if spec.with_service_id:
                sid, key = self._admin_service_id(uow, account.id, by)
                created = CreatedAccount(account.id, sid, key.key.id, key.value)
        self._on_change(account.id)
        return created

    def import_account(
        self, guard: Guard, enterprise_id: str, account_id: str, body: object
    ) -> None:
        """Brings a standalone account in. Two consents: `enterprise.account.import` in the
        enterprise account (the caller's token), and the same action granted to the same
        identity by the imported account's own policies (its owner, or an Administrator or
        Editor of `enterprise` there, as an ACTIVE member). Without the second it is 404."""
        missing = NotFound("account", account_id)
        by, now = guard.principal.iam_id, self._clock.now()
        with self._uow(write=True) as uow:
            enterprise = tree.load_enterprise(uow, guard, enterprise_id, "account")
            parent = req.check_import(body)
            if parent is not None:
                tree.same_enterprise(parent, enterprise, "the import goes")
                group_id = tree.resolve_parent(uow, guard, parent).group_id
            else:
                group_id = None
            account = uow.accounts.get(account_id)
            if account is None or account.state != ACTIVE:
                raise missing
            try:
                guard.in_account(account_id).require(
                    Resource(account_id, SERVICE, "account", account_id)
                )
            except Forbidden:
                raise missing from None
            if uow.enterprise_accounts.get(account_id) is not None:
                raise Conflict(f"account `{account_id}` is already in an enterprise")
            uow.enterprise_accounts.add(
                EnterpriseAccount(
                    account_id,
                    enterprise.id,
                    enterprise.account_id,
                    group_id,
                    Origin.IMPORTED,
                    ACTIVE,
                    Changed(now, by, now, by),
                )
            )

    def list_accounts(
        self,
        guard: Guard,
        *,
        enterprise_id: str | None = None,
        account_group_id: str | None = None,
        parent: str | None = None,
        include_deleted: bool = False,
        offset: int = 0,
        limit: int = 100,
    ) -> Page[AccountNode]:
        """`parent`: its direct children; `account_group_id`: everything below that group;
        `enterprise_id` (or nothing, meaning the caller's enterprise): every account."""
        tree.require_here(guard, "account")
        with self._uow() as uow:
            scope = tree.list_scope(
                uow, guard, enterprise_id=enterprise_id, below_group=account_group_id, parent=parent
            )
            if scope is None:
                return Page([], False)
            enterprise, groups, parents = scope
            query = NodeQuery(enterprise.id, parents, include_deleted, offset, limit)
            page = uow.enterprise_accounts.list(query)
            return Page([self._node(uow, enterprise, groups, p) for p in page.items], page.has_more)

    def get_account(self, guard: Guard, account_id: str) -> AccountNode:
        with self._uow() as uow:
            enterprise, place = self._load_place(uow, guard, account_id)
            return self._node(uow, enterprise, tree.groups_by_id(uow, enterprise.id), place)

    def move_account(self, guard: Guard, account_id: str, body: object) -> None:
        with self._uow(write=True) as uow:
            enterprise, place = self._load_place(uow, guard, account_id)
            parent = req.check_move(body)
            if place.origin is Origin.ENTERPRISE:
                raise Conflict(f"account `{account_id}` is the enterprise account; it stays on top")
            if place.state == DELETED:
                raise Conflict(f"account `{account_id}` is deleted")
            tree.same_enterprise(parent, enterprise, f"account `{account_id}`")
            ref = tree.resolve_parent(uow, guard, parent)
            uow.enterprise_accounts.update(
                replace(
                    place, parent_group_id=ref.group_id, changed=self._touch(guard, place.changed)
                )
            )

    def delete_account(self, guard: Guard, account_id: str) -> None:
        """Only accounts the enterprise created may be deleted by it: the enterprise account,
        the source account and imported accounts have a life of their own. A deleted account
        keeps its row with state DELETED (`include_deleted` lists it); its API keys give no
        more tokens."""
        with self._uow(write=True) as uow:
            _, place = self._load_place(uow, guard, account_id)
            if place.origin is not Origin.CREATED:
                raise Conflict(
                    f"account `{account_id}` came into the enterprise as `{place.origin.value}`;"
                    " only accounts created in the enterprise can be deleted by it"
                )
            if place.state == DELETED:
                return
            touched = self._touch(guard, place.changed)
            uow.enterprise_accounts.update(replace(place, state=DELETED, changed=touched))
            uow.enterprise_accounts.set_account_state(account_id, DELETED)
            uow.revisions.bump(account_id)
        self._on_change(account_id)

    # -- helpers --------------------------------------------------------------------------------

    def _load_place(
        self, uow: UnitOfWork, guard: Guard, account_id: str
    ) -> tuple[Enterprise, EnterpriseAccount]:
        tree.require_here(guard, "account", account_id)
        place = uow.enterprise_accounts.get(account_id)
        enterprise = None if place is None else uow.enterprises.get(place.enterprise_id)
        if (
            place is None
            or enterprise is None
            or enterprise.account_id != guard.principal.account_id
        ):
            raise NotFound("account", account_id)
        return enterprise, place

    @staticmethod
    def _node(
        uow: UnitOfWork,
        enterprise: Enterprise,
        groups: dict[str, AccountGroup],
        place: EnterpriseAccount,
    ) -> AccountNode:
        account = uow.accounts.get(place.account_id)
        owner = None if account is None else uow.users.get(account.owner_iam_id)
        prefix = tree.path(enterprise, groups, place.parent_group_id)
        return AccountNode(
            place=place,
            parent=tree.parent_crn(enterprise, groups, place.parent_group_id),
            path=f"{prefix}/account:{place.account_id}",
            name=account.name if account else "",
            state=place.state if place.state == DELETED else (account.state if account else ""),
            owner_iam_id=account.owner_iam_id if account else "",
            owner_email=owner.email if owner else "",
        )

    def _touch(self, guard: Guard, changed: Changed) -> Changed:
        return replace(changed, updated_at=self._clock.now(), updated_by=guard.principal.iam_id)

    def _new_account(self, uow: UnitOfWork, name: str, owner: User) -> Account:
        now = self._clock.now()
        account = Account(ids.new_account_id(), name, owner.iam_id, now)
        uow.accounts.add(account)
        uow.users.add_membership(Membership(account.id, owner.iam_id, AccountRole.OWNER, now))
        for hook in self._on_account_created:
            hook(uow, account, owner)
        return account

    def _admin_service_id(
        self, uow: UnitOfWork, account_id: str, by: str
    ) -> tuple[str, CreatedApiKey]:
        """A service ID with the owner's two policies in `account_id`, and its API key."""
        sid, key = self._identity.add_admin_service_id(
            uow, account_id=account_id, name="enterprise administrator", by=by
        )
        grant_owner_like(uow, account_id, sid.iam_id, self._clock.now())
        return sid.id, key
