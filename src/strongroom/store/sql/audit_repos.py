"""The audit trail's storage: events in one hash chain per account (audit/chain.py).

An append locks the account's chain head (`SELECT … FOR UPDATE` on PostgreSQL; SQLite's writers
are serialised already), so concurrent transactions extend the chain one after another. It runs
last in the caller's transaction (store/sql/uow.py), so the lock is held only until that commit.
The head carries its signature (`mac`, audit/chain.HeadSigner; migration 0013), made with a key
the database does not hold.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from strongroom.audit import chain
from strongroom.audit.query import AuditQuery
from strongroom.store.sql import tables as t

BATCH = 1000


class SqlAuditLog:
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def _lock_head(self, account_id: str) -> tuple[int, str]:
        heads = t.audit_heads
        select = sa.select(heads.c.seq, heads.c.hash).where(heads.c.account_id == account_id)
        row = self.conn.execute(select.with_for_update()).first()
        if row is None:
            insert = (postgresql if self.conn.dialect.name == "postgresql" else sqlite).insert
            self.conn.execute(
                insert(heads)
                .values(account_id=account_id, seq=0, hash=chain.GENESIS, mac="")
                .on_conflict_do_nothing()
            )
            row = self.conn.execute(select.with_for_update()).one()
        return int(row.seq), str(row.hash)

    def append(
        self,
        account_id: str,
        at: datetime,
        event: dict[str, Any],
        signer: chain.HeadSigner,
        *,
        isolated: bool = False,
    ) -> tuple[int, str]:
        """Append `event` and move the signed head; (its seq, its hash). `isolated`: in a
        savepoint, so a failure leaves the caller's transaction usable (another sink may still
        take the event, or the call fails open)."""
        if isolated:
            with self.conn.begin_nested():
                return self._append(account_id, at, event, signer)
        return self._append(account_id, at, event, signer)

    def _append(
        self, account_id: str, at: datetime, event: dict[str, Any], signer: chain.HeadSigner
    ) -> tuple[int, str]:
        seq, prev = self._lock_head(account_id)
        seq += 1
        digest = chain.link(prev, account_id, seq, event)
        self.conn.execute(
            t.audit_events.insert().values(
                account_id=account_id,
                seq=seq,
                event_time=at,
                action=str(event["action"])[:128],
                outcome=str(event["outcome"]),
                event=chain.canonical(event),
                prev_hash=prev,
                hash=digest,
            )
        )
        self.conn.execute(
            t.audit_heads.update()
            .where(t.audit_heads.c.account_id == account_id)
            .values(seq=seq, hash=digest, mac=signer.sign(account_id, seq, digest))
        )
        return seq, digest

    def head(self, account_id: str) -> chain.Head | None:
        h = t.audit_heads
        row = self.conn.execute(
            sa.select(h.c.seq, h.c.hash, h.c.mac).where(h.c.account_id == account_id)
        ).first()
        return None if row is None else chain.Head(int(row.seq), str(row.hash), str(row.mac))

    def sign_unsigned_heads(self, signer: chain.HeadSigner) -> int:
        """Sign the heads stored before heads were signed (migration 0013); bootstrap does it
        once, the first time it starts on a database that has them."""
        h = t.audit_heads
        rows = self.conn.execute(sa.select(h.c.account_id, h.c.seq, h.c.hash).where(h.c.mac == ""))
        signed = 0
        for row in rows.all():
            mac = signer.sign(row.account_id, int(row.seq), row.hash)
            self.conn.execute(h.update().where(h.c.account_id == row.account_id).values(mac=mac))
            signed += 1
        return signed

    def find(self, query: AuditQuery) -> list[chain.Record]:
        """Events of one account in chain order, from `query.after_seq`, filtered."""
        e = t.audit_events
        stmt = sa.select(e).where(e.c.account_id == query.account_id, e.c.seq > query.after_seq)
        if query.action:
            stmt = stmt.where(e.c.action == query.action)
        if query.outcome:
            stmt = stmt.where(e.c.outcome == query.outcome)
        if query.start is not None:
            stmt = stmt.where(e.c.event_time >= query.start)
        if query.end is not None:
            stmt = stmt.where(e.c.event_time < query.end)
        rows = self.conn.execute(stmt.order_by(e.c.seq).limit(query.limit))
        return [_record(r) for r in rows]

    def chain(self, account_id: str) -> Iterator[chain.Record]:
        """Every event of the account as stored, ordered by seq, read in batches."""
        e = t.audit_events
        after: int | None = None
        while True:
            stmt = sa.select(e).where(e.c.account_id == account_id)
            if after is not None:
                stmt = stmt.where(e.c.seq > after)
            rows = self.conn.execute(stmt.order_by(e.c.seq).limit(BATCH)).all()
            for row in rows:
                yield _record(row)
            if len(rows) < BATCH:
                return
            after = int(rows[-1].seq)


def _record(row: Any) -> chain.Record:
    try:
        event = json.loads(row.event)
    except ValueError:
        event = {"unreadable": row.event}
    return chain.Record(
        row.account_id,
        int(row.seq),
        event,
        row.prev_hash,
        row.hash,
        (row.action, row.outcome),
    )
