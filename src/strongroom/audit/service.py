"""Reading and writing the audit trail (reliability.md A3).

Each account reads its own chain alone: the caller's guard is checked for
`iam-access-management.audit.read` on the account, and a token acts in its own account only,
so another account's events are refused like any other of its resources. The audit-hash helper
(`hash`) is checked for `iam-access-management.audit.hash`, an Administrator's action: it answers
whether a guessed value appears in the trail, so it is not given to every reader.

Every event is stored through one `AuditWriter` (audit/writer.py).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from strongroom.audit import chain, context, events
from strongroom.audit.coalesce import DenialCoalescer
from strongroom.audit.query import AuditQuery
from strongroom.audit.writer import AuditWriter
from strongroom.authz import Guard, Resource
from strongroom.clock import Clock
from strongroom.store.ports import UnitOfWork, UnitOfWorkFactory

SERVICE = "iam-access-management"
SWEEP_INITIATOR = "strongroom-kms-sweep"
log = logging.getLogger("strongroom.audit")


class AuditService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        writer: AuditWriter,
        denials: DenialCoalescer | None = None,
    ) -> None:
        self._uow = uow
        self.clock = clock
        self.writer = writer
        self.fail_closed = writer.fail_closed
        self.denials = denials or DenialCoalescer(0)

    def record(self, account_id: str, at: datetime, event: dict[str, Any]) -> None:
        """An event in a transaction of its own (a call that committed nothing: a refusal, a
        wrap). Raises when no sink took it."""
        token = context.current.set(None)  # this write is the event, not a call to audit
        try:
            with self._uow(write=True) as unit:
                taken = self.writer.append(unit.audit_log, account_id, at, event)
        finally:
            context.current.reset(token)
        if taken == 0:
            raise context.AuditUnavailable("no audit sink took the event")

    def service_change(
        self,
        unit: UnitOfWork,
        *,
        account_id: str,
        service: str,
        instance_id: str,
        key_id: str,
        verb: str,
        at: datetime,
    ) -> None:
        """The event of a key change the KMS sweep made (kms/sweep.py), in its unit of work:
        failing closed, no sink taking it rolls the change back."""
        event = events.service_event(
            action=f"{service}.secrets.{verb}",
            now=at,
            initiator_id=SWEEP_INITIATOR,
            target_id=events.crn(
                account_id, service, instance=instance_id, resource_type="key", resource=key_id
            ),
            correlation_id=str(uuid.uuid4()),
        )
        try:
            taken = self.writer.append(unit.audit_log, account_id, at, event)
        except Exception as exc:
            raise context.AuditUnavailable("no audit sink took the sweep's event") from exc
        if taken == 0 and self.fail_closed:
            raise context.AuditUnavailable("no audit sink took the sweep's event")

    def flush_denials(self, now: datetime | None = None) -> int:
        """Write the counted 401s of every window ended by `now` (all if None); how many
        summary events were written (audit/coalesce.py)."""
        written = 0
        for summary in self.denials.flush(now):
            try:
                self.record(summary.account, summary.at, summary.event)
                written += 1
            except Exception:
                log.exception("the count of %s repeated 401s was not written",
                              summary.event.get("repeated", {}).get("count"))  # fmt: skip
        return written

    def hash(self, guard: Guard, value: str) -> str:
        """`hmac-sha256:<hex>` of `value` as the trail stores it (Vault's /sys/audit-hash)."""
        guard.require(Resource(account_id=guard.principal.account_id, service_name=SERVICE))
        return self.writer.hasher.hash(value)

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
                account_id,
                unit.audit_log.chain(account_id),
                unit.audit_log.head(account_id),
                self.writer.signer,
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
