"""Reading and writing the audit trail (reliability.md A3).

Each account reads its own chain alone: the caller's guard is checked for
`iam-access-management.audit.read` on the account, and a token acts in its own account only,
so another account's events are refused like any other of its resources.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from strongroom.audit import chain, context
from strongroom.audit.query import AuditQuery
from strongroom.authz import Guard, Resource
from strongroom.clock import Clock
from strongroom.store.ports import UnitOfWorkFactory

SERVICE = "iam-access-management"


class AuditService:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, *, fail_closed: bool) -> None:
        self._uow = uow
        self.clock = clock
        self.fail_closed = fail_closed

    def record(self, account_id: str, at: datetime, event: dict[str, Any]) -> None:
        """An event in a transaction of its own (a call that committed nothing: a refusal, a
        wrap). Raises whatever the store raises."""
        token = context.current.set(None)  # this write is the event, not a call to audit
        try:
            with self._uow(write=True) as unit:
                unit.audit_log.append(account_id, at, event)
        finally:
            context.current.reset(token)

    def _authorize(self, guard: Guard, account_id: str) -> None:
        guard.require(Resource(account_id=account_id, service_name=SERVICE))

    def find(self, guard: Guard, query: AuditQuery) -> tuple[list[chain.Record], int | None]:
        """A page of the account's events and the seq the next page starts after (None: last)."""
        self._authorize(guard, query.account_id)
        with self._uow() as unit:
            page = unit.audit_log.find(AuditQuery(**{**_fields(query), "limit": query.limit + 1}))
        more = len(page) > query.limit
        page = page[: query.limit]
        return page, (page[-1].seq if more and page else None)

    def export(self, guard: Guard, query: AuditQuery) -> Iterator[chain.Record]:
        """Every matching event, in chain order, read a page at a time."""
        self._authorize(guard, query.account_id)
        after = query.after_seq
        while True:
            with self._uow() as unit:
                page = unit.audit_log.find(
                    AuditQuery(**{**_fields(query), "after_seq": after, "limit": 500})
                )
            yield from page
            if len(page) < 500:
                return
            after = page[-1].seq

    def verify(self, guard: Guard, account_id: str) -> chain.Verdict:
        self._authorize(guard, account_id)
        return self.verify_chain(account_id)

    def verify_chain(self, account_id: str) -> chain.Verdict:
        """The chain check itself, for operators and tests (no caller to authorize)."""
        with self._uow() as unit:
            return chain.verify(
                account_id, unit.audit_log.chain(account_id), unit.audit_log.head(account_id)
            )


def _fields(query: AuditQuery) -> dict[str, Any]:
    return {
        "account_id": query.account_id,
        "action": query.action,
        "outcome": query.outcome,
        "start": query.start,
        "end": query.end,
        "after_seq": query.after_seq,
        "limit": query.limit,
    }
