"""Server-side repositories of `store.ports`: token signing keys, refresh tokens, server facts."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from strongroom.store.ports import AuthFailures, RefreshToken, SigningKey
from strongroom.store.sql import tables as t


class SqlSigningKeys:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def add(self, key: SigningKey) -> None:
        self.conn.execute(
            t.signing_keys.insert().values(
                kid=key.kid,
                created_at=key.created_at,
                sealed_private_key=key.sealed_private_key,
                public_jwk=key.public_jwk,
                retired_at=key.retired_at,
                publish_until=key.publish_until,
            )
        )

    def all(self) -> list[SigningKey]:
        rows = self.conn.execute(sa.select(t.signing_keys).order_by(t.signing_keys.c.created_at))
        return [
            SigningKey(
                r.kid,
                r.created_at,
                r.sealed_private_key,
                r.public_jwk,
                r.retired_at,
                r.publish_until,
            )
            for r in rows
        ]

    def retire(self, kid: str, retired_at: datetime, publish_until: datetime) -> None:
        s = t.signing_keys
        self.conn.execute(
            s.update()
            .where(s.c.kid == kid)
            .values(retired_at=retired_at, publish_until=publish_until)
        )

    def delete_unpublished(self, now: datetime) -> int:
        s = t.signing_keys
        return self.conn.execute(
            s.delete().where(s.c.publish_until.is_not(None), s.c.publish_until < now)
        ).rowcount


class SqlRefreshTokens:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def add(self, token: RefreshToken) -> None:
        self.conn.execute(
            t.refresh_tokens.insert().values(
                id=token.id,
                digest=token.digest,
                family_id=token.family_id,
                iam_id=token.iam_id,
                account_id=token.account_id,
                apikey_id=token.apikey_id,
                client_id=token.client_id,
                scope=token.scope,
                issued_at=token.issued_at,
                expires_at=token.expires_at,
                used_at=token.used_at,
                revoked_at=token.revoked_at,
            )
        )

    def get_by_digest(self, digest: str) -> RefreshToken | None:
        r = t.refresh_tokens
        row = self.conn.execute(sa.select(r).where(r.c.digest == digest)).first()
        if row is None:
            return None
        return RefreshToken(
            row.id, row.digest, row.family_id, row.iam_id, row.account_id, row.apikey_id,
            row.client_id, row.scope, row.issued_at, row.expires_at, row.used_at, row.revoked_at,
        )  # fmt: skip

    def mark_used(self, token_id: str, when: datetime) -> bool:
        r = t.refresh_tokens
        result = self.conn.execute(
            r.update().where(r.c.id == token_id, r.c.used_at.is_(None)).values(used_at=when)
        )
        return result.rowcount == 1

    def revoke_family(self, family_id: str, when: datetime) -> int:
        r = t.refresh_tokens
        return self.conn.execute(
            r.update()
            .where(r.c.family_id == family_id, r.c.revoked_at.is_(None))
            .values(revoked_at=when)
        ).rowcount


class SqlMeta:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def get(self, key: str) -> str | None:
        m = t.server_meta
        value = self.conn.execute(sa.select(m.c.value).where(m.c.key == key)).scalar_one_or_none()
        return None if value is None else str(value)

    def put_new(self, key: str, value: str) -> bool:
        # A savepoint keeps a lost race from poisoning the surrounding transaction (PostgreSQL).
        try:
            with self.conn.begin_nested():
                self.conn.execute(t.server_meta.insert().values(key=key, value=value))
        except IntegrityError:
            return False
        return True


class SqlAuthFailures:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def get(self, subject: str, *, for_update: bool = False) -> AuthFailures | None:
        f = t.auth_failures
        query = sa.select(f).where(f.c.subject == subject)
        if for_update:
            query = query.with_for_update()  # PostgreSQL; SQLite writers are serialised anyway
        row = self.conn.execute(query).first()
        if row is None:
            return None
        return AuthFailures(
            row.subject,
            row.failures,
            row.window_start,
            row.lockouts,
            row.locked_until,
            row.last_failure,
        )

    def put(self, record: AuthFailures) -> None:
        f = t.auth_failures
        values = {
            "failures": record.failures,
            "window_start": record.window_start,
            "lockouts": record.lockouts,
            "locked_until": record.locked_until,
            "last_failure": record.last_failure,
        }
        if self.conn.execute(
            f.update().where(f.c.subject == record.subject).values(**values)
        ).rowcount:
            return
        # A savepoint keeps a lost insert race from poisoning the transaction (PostgreSQL):
        # the other writer's row is then updated instead.
        try:
            with self.conn.begin_nested():
                self.conn.execute(f.insert().values(subject=record.subject, **values))
        except IntegrityError:
            self.conn.execute(f.update().where(f.c.subject == record.subject).values(**values))

    def prune(self, idle_before: datetime, now: datetime) -> int:
        f = t.auth_failures
        running = sa.and_(f.c.locked_until.is_not(None), f.c.locked_until > now)
        return self.conn.execute(
            f.delete().where(f.c.last_failure < idle_before, sa.not_(running))
        ).rowcount

    def count(self) -> int:
        return int(
            self.conn.execute(sa.select(sa.func.count()).select_from(t.auth_failures)).scalar_one()
        )
