"""The audit trail at the HTTP edge (reliability.md A3; docs/architecture.md, "Audit trail").

Pure ASGI, inside RequestContext (which sets the trace). It opens the request's audit record
(audit/context.py). A mutation's event is written by the unit of work in the mutation's own
transaction; a call that committed nothing (a refusal, a wrap or unwrap, a failed mutation) gets
its event here, after the app has answered and before the answer leaves: the response start is
held until the event is stored. Failing closed, an audited call whose event cannot be stored
answers 503 instead, and what the app produced (a wrapped key, say) is never sent.

Unauthenticated 401s are counted per source and action within a window instead of written one by
one (audit/coalesce.py), so they cannot be turned into a stream of writes.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from strongroom.api.errors import edge_envelope
from strongroom.audit import context, events
from strongroom.audit.service import AuditService
from strongroom.ratelimit import source_key

log = logging.getLogger("strongroom.audit")
DENIALS = frozenset({401, 403})
UNAVAILABLE = "the audit trail cannot record this call, so it was not carried out"


class AuditTrail:
    def __init__(self, app: ASGIApp, *, audit: AuditService) -> None:
        self.app = app
        self.audit = audit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        trace = str(state.get("trace", ""))
        client = scope.get("client")
        record = context.RequestAudit(
            method=scope["method"],
            path=scope["path"],
            address=client[0] if client else None,
            correlation_id=trace,
            request_id=str(state.get("correlation_id") or trace),
            now=self.audit.clock.now,
            fail_closed=self.audit.fail_closed,
            writer=self.audit.writer,
        )
        reset = context.current.set(record)
        started = refused = False

        async def audited_send(message: Message) -> None:
            nonlocal started, refused
            if message["type"] == "http.response.start":
                started = True
                if _needs_event(record, message["status"]) and not await self._settle(
                    record, message["status"]
                ):
                    refused = True
                    await _unavailable(scope, send, trace)
                    return
            elif refused:
                return  # the app's own answer is dropped with its start
            await send(message)

        try:
            await self.app(scope, receive, audited_send)
        except Exception:
            # An unhandled error: Starlette's outermost middleware answers 500 outside ours.
            if not started and _needs_event(record, 500):
                await self._settle(record, 500)
            raise
        finally:
            context.current.reset(reset)

    async def _settle(self, record: context.RequestAudit, status: int) -> bool:
        """Store the call's event (its transaction did not); False: answer 503 instead."""
        required = events.audited(record.method, record.path, record.final_action())
        account, at, event = record.event(status)
        if status == 401 and record.initiator_id is None and self.audit.denials.enabled:
            write, ended = self.audit.denials.admit(
                source_key(record.address), str(event["action"]), at, account, event
            )
            if ended is not None:
                await run_in_threadpool(self._summary, ended.account, ended.at, ended.event)
            if not write:
                record.written = True  # counted: its window's summary event will carry it
                return True
        try:
            await run_in_threadpool(self.audit.record, account, at, event)
        except Exception:
            log.exception("audit event not written; trace %s", record.correlation_id)
            # A refused read stays refused; a mutation or key operation is not answered.
            return not (record.fail_closed and required) or status == 503
        record.written = True
        return True

    def _summary(self, account: str, at: datetime, event: dict[str, Any]) -> None:
        try:
            self.audit.record(account, at, event)
        except Exception:
            log.exception("the count of repeated 401s was not written")


def _needs_event(record: context.RequestAudit, status: int) -> bool:
    """Cheap, and false for most reads: no event stored yet, and one is due."""
    if record.written:
        return False
    if status in DENIALS or record.failed:
        return True
    return events.audited(record.method, record.path, record.final_action())


async def _unavailable(scope: Scope, send: Send, trace: str) -> None:
    body = json.dumps(
        edge_envelope(scope["method"], scope["path"], trace, 503, "audit_unavailable", UNAVAILABLE)
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
