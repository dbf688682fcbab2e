"""Trusted-profile repositories of `store.ports` (spec §4.3): profiles, claim rules, links and
identities, on the unit of work's connection."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from strongroom.identity.claim_rules import ClaimCondition, to_documents
from strongroom.identity.profile_models import (
    ClaimRule,
    IdentityType,
    LinkTarget,
    Profile,
    ProfileIdentity,
    ProfileLink,
    RuleType,
)
from strongroom.store.ports import ListQuery, Page
from strongroom.store.sql import tables as t
from strongroom.store.sql.filters import to_sql
from strongroom.store.sql.repos import _meta_in, _meta_out, _page


class SqlProfiles:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    @staticmethod
    def _values(profile: Profile) -> dict[str, Any]:
        return {
            "id": profile.id,
            "iam_id": profile.iam_id,
            "account_id": profile.account_id,
            "name": profile.name,
            "description": profile.description,
            "name_folded": profile.name.casefold(),
            "description_folded": profile.description.casefold(),
            "email": profile.email,
            "identities_tag": profile.identities_tag,
            **_meta_out(profile.meta),
        }

    @staticmethod
    def _model(row: Any) -> Profile:
        return Profile(
            id=row.id,
            iam_id=row.iam_id,
            account_id=row.account_id,
            name=row.name,
            description=row.description,
            email=row.email,
            meta=_meta_in(row),
            identities_tag=row.identities_tag,
        )

    def add(self, profile: Profile) -> bool:
        try:
            # A savepoint, so that a duplicate name leaves the outer transaction usable.
            with self.conn.begin_nested():
                self.conn.execute(t.profiles.insert().values(**self._values(profile)))
        except IntegrityError:
            return False
        return True

    def _one(self, *where: sa.ColumnElement[bool]) -> Profile | None:
        row = self.conn.execute(sa.select(t.profiles).where(*where)).first()
        return None if row is None else self._model(row)

    def get(self, profile_id: str) -> Profile | None:
        return self._one(t.profiles.c.id == profile_id)

    def get_by_iam_id(self, iam_id: str) -> Profile | None:
        return self._one(t.profiles.c.iam_id == iam_id)

    def get_by_name(self, account_id: str, name: str) -> Profile | None:
        p = t.profiles
        return self._one(p.c.account_id == account_id, p.c.name == name)

    def list(self, query: ListQuery) -> Page[Profile]:
        p = t.profiles
        stmt = sa.select(p).where(p.c.account_id == query.account_id)
        if query.name is not None:
            stmt = stmt.where(p.c.name == query.name)
        if query.filter is not None:
            stmt = stmt.where(to_sql(query.filter, p.c))
        rows, more = _page(self.conn, stmt, query, p)
        return Page([self._model(r) for r in rows], more)

    def update(self, profile: Profile, expected_tag: str) -> bool:
        p = t.profiles
        result = self.conn.execute(
            p.update()
            .where(p.c.id == profile.id, p.c.entity_tag == expected_tag)
            .values(**self._values(profile))
        )
        return result.rowcount == 1

    def set_identities_tag(self, profile_id: str, expected_tag: str, new_tag: str) -> bool:
        p = t.profiles
        result = self.conn.execute(
            p.update()
            .where(p.c.id == profile_id, p.c.identities_tag == expected_tag)
            .values(identities_tag=new_tag)
        )
        return result.rowcount == 1

    def delete(self, profile_id: str) -> bool:
        return (
            self.conn.execute(t.profiles.delete().where(t.profiles.c.id == profile_id)).rowcount
            == 1
        )

    def count(self, account_id: str) -> int:
        p = t.profiles
        stmt = sa.select(sa.func.count()).select_from(p).where(p.c.account_id == account_id)
        return int(self.conn.execute(stmt).scalar_one())


class SqlClaimRules:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    @staticmethod
    def _values(rule: ClaimRule) -> dict[str, Any]:
        return {
            "id": rule.id,
            "profile_id": rule.profile_id,
            "type": rule.type.value,
            "name": rule.name,
            "realm_name": rule.realm_name,
            "cr_type": rule.cr_type,
            "expiration": rule.expiration,
            "conditions": to_documents(rule.conditions),
            "created_at": rule.created_at,
            "modified_at": rule.modified_at,
            "entity_tag": rule.entity_tag,
        }

    @staticmethod
    def _model(row: Any) -> ClaimRule:
        return ClaimRule(
            id=row.id,
            profile_id=row.profile_id,
            type=RuleType(row.type),
            name=row.name,
            realm_name=row.realm_name,
            cr_type=row.cr_type,
            expiration=row.expiration,
            conditions=tuple(
                ClaimCondition(c["claim"], c["operator"], c["value"]) for c in row.conditions
            ),
            created_at=row.created_at,
            modified_at=row.modified_at,
            entity_tag=row.entity_tag,
        )

    def add(self, rule: ClaimRule) -> None:
        self.conn.execute(t.profile_claim_rules.insert().values(**self._values(rule)))

    def get(self, profile_id: str, rule_id: str) -> ClaimRule | None:
        r = t.profile_claim_rules
        row = self.conn.execute(
            sa.select(r).where(r.c.profile_id == profile_id, r.c.id == rule_id)
        ).first()
        return None if row is None else self._model(row)

    def list_for(self, profile_id: str) -> Sequence[ClaimRule]:
        r = t.profile_claim_rules
        stmt = sa.select(r).where(r.c.profile_id == profile_id).order_by(r.c.created_at, r.c.id)
        return [self._model(row) for row in self.conn.execute(stmt)]

    def update(self, rule: ClaimRule, expected_tag: str) -> bool:
        r = t.profile_claim_rules
        result = self.conn.execute(
            r.update()
            .where(r.c.id == rule.id, r.c.entity_tag == expected_tag)
            .values(**self._values(rule))
        )
        return result.rowcount == 1

    def delete(self, profile_id: str, rule_id: str) -> bool:
        r = t.profile_claim_rules
        stmt = r.delete().where(r.c.profile_id == profile_id, r.c.id == rule_id)
        return self.conn.execute(stmt).rowcount == 1

    def delete_for(self, profile_id: str) -> int:
        r = t.profile_claim_rules
        return self.conn.execute(r.delete().where(r.c.profile_id == profile_id)).rowcount

    def count_for(self, profile_id: str) -> int:
        r = t.profile_claim_rules
        stmt = sa.select(sa.func.count()).select_from(r).where(r.c.profile_id == profile_id)
        return int(self.conn.execute(stmt).scalar_one())


class SqlProfileLinks:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    @staticmethod
    def _values(link: ProfileLink) -> dict[str, Any]:
        return {
            "id": link.id,
            "profile_id": link.profile_id,
            "name": link.name,
            "cr_type": link.cr_type,
            "is_cross_account": link.is_cross_account,
            "crn": link.link.crn,
            "namespace": link.link.namespace,
            "link_name": link.link.name,
            "component_type": link.link.component_type,
            "component_name": link.link.component_name,
            "created_at": link.created_at,
            "modified_at": link.modified_at,
            "entity_tag": link.entity_tag,
        }

    @staticmethod
    def _model(row: Any) -> ProfileLink:
        return ProfileLink(
            id=row.id,
            profile_id=row.profile_id,
            name=row.name,
            cr_type=row.cr_type,
            is_cross_account=row.is_cross_account,
            link=LinkTarget(
                crn=row.crn,
                namespace=row.namespace,
                name=row.link_name,
                component_type=row.component_type,
                component_name=row.component_name,
            ),
            created_at=row.created_at,
            modified_at=row.modified_at,
            entity_tag=row.entity_tag,
        )

    def add(self, link: ProfileLink) -> None:
        self.conn.execute(t.profile_links.insert().values(**self._values(link)))

    def get(self, profile_id: str, link_id: str) -> ProfileLink | None:
        k = t.profile_links
        row = self.conn.execute(
            sa.select(k).where(k.c.profile_id == profile_id, k.c.id == link_id)
        ).first()
        return None if row is None else self._model(row)

    def list_for(self, profile_id: str) -> Sequence[ProfileLink]:
        k = t.profile_links
        stmt = sa.select(k).where(k.c.profile_id == profile_id).order_by(k.c.created_at, k.c.id)
        return [self._model(row) for row in self.conn.execute(stmt)]

    def delete(self, profile_id: str, link_id: str) -> bool:
        k = t.profile_links
        stmt = k.delete().where(k.c.profile_id == profile_id, k.c.id == link_id)
        return self.conn.execute(stmt).rowcount == 1

    def delete_for(self, profile_id: str) -> int:
        k = t.profile_links
        return self.conn.execute(k.delete().where(k.c.profile_id == profile_id)).rowcount


class SqlProfileIdentities:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    @staticmethod
    def _values(profile_id: str, position: int, identity: ProfileIdentity) -> dict[str, Any]:
        return {
            "profile_id": profile_id,
            "iam_id": identity.iam_id,
            "position": position,
            "identifier": identity.identifier,
            "type": identity.type.value,
            "accounts": list(identity.accounts),
            "description": identity.description,
        }

    def list_for(self, profile_id: str) -> Sequence[ProfileIdentity]:
        i = t.profile_identities
        stmt = sa.select(i).where(i.c.profile_id == profile_id).order_by(i.c.position)
        return [
            ProfileIdentity(
                identifier=row.identifier,
                type=IdentityType(row.type),
                iam_id=row.iam_id,
                accounts=tuple(row.accounts),
                description=row.description,
            )
            for row in self.conn.execute(stmt)
        ]

    def replace_all(self, profile_id: str, identities: Sequence[ProfileIdentity]) -> None:
        self.delete_for(profile_id)
        if identities:
            self.conn.execute(
                t.profile_identities.insert(),
                [self._values(profile_id, n, identity) for n, identity in enumerate(identities)],
            )

    def put(self, profile_id: str, identity: ProfileIdentity) -> None:
        i = t.profile_identities
        where = (i.c.profile_id == profile_id, i.c.iam_id == identity.iam_id)
        position = self.conn.execute(sa.select(i.c.position).where(*where)).scalar()
        if position is not None:
            self.conn.execute(
                i.update().where(*where).values(**self._values(profile_id, position, identity))
            )
            return
        last = self.conn.execute(
            sa.select(sa.func.max(i.c.position)).where(i.c.profile_id == profile_id)
        ).scalar()
        position = 0 if last is None else int(last) + 1
        self.conn.execute(i.insert().values(**self._values(profile_id, position, identity)))

    def delete(self, profile_id: str, iam_id: str) -> bool:
        i = t.profile_identities
        stmt = i.delete().where(i.c.profile_id == profile_id, i.c.iam_id == iam_id)
        return self.conn.execute(stmt).rowcount == 1

    def delete_for(self, profile_id: str) -> int:
        i = t.profile_identities
        return self.conn.execute(i.delete().where(i.c.profile_id == profile_id)).rowcount
