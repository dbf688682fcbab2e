"""Repositories of `store.ports` for an account's users (spec §10) and its identity account
settings (spec §4.4), on the unit of work's connection."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from strongroom.identity.models import AccountRole, Membership, User
from strongroom.identity.settings_rules import DEFAULTS, IdentitySettings
from strongroom.identity.user_models import UserProfile, UserSettings
from strongroom.store.sql import tables as t
from strongroom.store.sql.repos import _meta_in, _meta_out


def _membership(row: Any) -> Membership:
    return Membership(row.account_id, row.iam_id, AccountRole(row.role), row.created_at, row.state)


class SqlAccountUsers:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def user_by_email(self, email: str) -> User | None:
        u = t.users
        # E-mail addresses compare case-insensitively; the oldest user wins if two differ in case.
        row = self.conn.execute(
            sa.select(u)
            .where(sa.func.lower(u.c.email) == email.lower())
            .order_by(u.c.created_at, u.c.iam_id)
        ).first()
        if row is None:
            return None
        return User(
            row.iam_id, row.email, row.given_name, row.family_name, row.created_at, row.realm
        )

    def memberships(self, account_id: str) -> Sequence[Membership]:
        m = t.memberships
        rows = self.conn.execute(
            sa.select(m).where(m.c.account_id == account_id).order_by(m.c.created_at, m.c.iam_id)
        )
        return [_membership(r) for r in rows]

    def member_states(self, account_id: str) -> Mapping[str, str]:
        m = t.memberships
        rows = self.conn.execute(
            sa.select(m.c.iam_id, m.c.state).where(m.c.account_id == account_id)
        )
        return {r.iam_id: r.state for r in rows}

    def set_state(self, account_id: str, iam_id: str, state: str) -> bool:
        m = t.memberships
        result = self.conn.execute(
            m.update().where(m.c.account_id == account_id, m.c.iam_id == iam_id).values(state=state)
        )
        return result.rowcount == 1

    def remove(self, account_id: str, iam_id: str) -> bool:
        p, m = t.user_profiles, t.memberships
        self.conn.execute(p.delete().where(p.c.account_id == account_id, p.c.iam_id == iam_id))
        result = self.conn.execute(
            m.delete().where(m.c.account_id == account_id, m.c.iam_id == iam_id)
        )
        return result.rowcount == 1

    def profile(self, account_id: str, iam_id: str) -> UserProfile | None:
        p = t.user_profiles
        row = self.conn.execute(
            sa.select(p).where(p.c.account_id == account_id, p.c.iam_id == iam_id)
        ).first()
        if row is None:
            return None
        return UserProfile(
            account_id=row.account_id,
            iam_id=row.iam_id,
            user_id=row.user_id,
            firstname=row.firstname,
            lastname=row.lastname,
            email=row.email,
            phonenumber=row.phonenumber,
            altphonenumber=row.altphonenumber,
            photo=row.photo,
            invited_by=row.invited_by,
            added_on=row.added_on,
            settings=UserSettings(
                row.language, row.notification_language, row.allowed_ip_addresses, row.self_manage
            ),
        )

    def put_profile(self, profile: UserProfile) -> None:
        p = t.user_profiles
        values = {
            "user_id": profile.user_id,
            "firstname": profile.firstname,
            "lastname": profile.lastname,
            "email": profile.email,
            "phonenumber": profile.phonenumber,
            "altphonenumber": profile.altphonenumber,
            "photo": profile.photo,
            "invited_by": profile.invited_by,
            "added_on": profile.added_on,
            "language": profile.settings.language,
            "notification_language": profile.settings.notification_language,
            "allowed_ip_addresses": profile.settings.allowed_ip_addresses,
            "self_manage": profile.settings.self_manage,
        }
        where = (p.c.account_id == profile.account_id, p.c.iam_id == profile.iam_id)
        if self.conn.execute(p.update().where(*where).values(**values)).rowcount == 0:
            self.conn.execute(
                p.insert().values(account_id=profile.account_id, iam_id=profile.iam_id, **values)
            )


class SqlIdentitySettings:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def get(self, account_id: str) -> IdentitySettings | None:
        s = t.identity_account_settings
        row = self.conn.execute(sa.select(s).where(s.c.account_id == account_id)).first()
        if row is None:
            return None
        # Fields a later version adds read as their default until written.
        return IdentitySettings(row.account_id, {**DEFAULTS, **row.settings}, _meta_in(row))

    def add(self, settings: IdentitySettings) -> bool:
        """False when the account's settings were written meanwhile (first write raced)."""
        if settings.meta is None:
            raise ValueError("stored settings carry a version")
        try:
            with self.conn.begin_nested():
                self.conn.execute(
                    t.identity_account_settings.insert().values(
                        account_id=settings.account_id,
                        settings=dict(settings.values),
                        **_meta_out(settings.meta),
                    )
                )
        except IntegrityError:
            return False
        return True

    def update(self, settings: IdentitySettings, expected_tag: str) -> bool:
        if settings.meta is None:
            raise ValueError("stored settings carry a version")
        s = t.identity_account_settings
        result = self.conn.execute(
            s.update()
            .where(s.c.account_id == settings.account_id, s.c.entity_tag == expected_tag)
            .values(settings=dict(settings.values), **_meta_out(settings.meta))
        )
        return result.rowcount == 1
