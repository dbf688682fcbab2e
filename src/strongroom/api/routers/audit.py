"""The audit trail's API (reliability.md A3; docs/user-guide.md, "Audit trail"): one account's
CADF events, a page at a time or all as JSON lines, the check of its hash chain, and the
audit-hash helper (Vault's `/sys/audit-hash`): the `hmac-sha256:` form of a value, to search
the trail for it (reliability.md A3 c)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from strongroom.api.actions import iam_action
from strongroom.api.deps import CurrentGuard, Services
from strongroom.api.pagination import decode_token, encode_token, limit_of
from strongroom.audit.chain import Record, canonical
from strongroom.audit.query import AuditQuery
from strongroom.errors import Invalid

router = APIRouter()
READ = "iam-access-management.audit.read"
HASH = "iam-access-management.audit.hash"
MAX_INPUT = 64 * 1024  # longer than any credential or key payload the service accepts
NDJSON = "application/x-ndjson"


def _time(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise Invalid(f"`{name}` `{value[:64]}` is not an ISO 8601 time", field=name) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _query(
    guard: CurrentGuard,
    account_id: str | None,
    action: str | None,
    outcome: str | None,
    start: str | None,
    end: str | None,
    start_token: str | None = None,
    limit: int = 100,
) -> AuditQuery:
    return AuditQuery(
        account_id=account_id or guard.principal.account_id,
        action=action,
        outcome=outcome,
        start=_time(start, "start"),
        end=_time(end, "end"),
        after_seq=decode_token(start_token, "start_token"),
        limit=limit,
    )


def item(record: Record) -> dict[str, Any]:
    return {
        "seq": record.seq,
        "prev_hash": record.prev_hash,
        "hash": record.hash,
        "event": record.event,
    }


Outcome = Literal["success", "failure"]


@router.get("/v1/audit/events", **iam_action(READ))
def list_events(
    request: Request,
    guard: CurrentGuard,
    services: Services,
    account_id: str | None = None,
    action: Annotated[str | None, Query(max_length=128)] = None,
    outcome: Outcome | None = None,
    start: str | None = None,
    end: str | None = None,
    limit: int | None = None,
    start_token: str | None = None,
) -> dict[str, Any]:
    size = limit_of(limit, default=100)
    query = _query(guard, account_id, action, outcome, start, end, start_token, size)
    page, after = services.audit.find(guard, query)
    base = request.url.remove_query_params("start_token")
    body: dict[str, Any] = {
        "account_id": query.account_id,
        "limit": size,
        "first": {"href": str(base)},
        "events": [item(r) for r in page],
    }
    if after is not None:
        token = encode_token(after)
        body["next"] = {
            "href": str(base.include_query_params(start_token=token)),
            "start_token": token,
        }
    return body


@router.get(
    "/v1/audit/events/export",
    response_class=StreamingResponse,
    responses={200: {"description": "one event a line", "content": {NDJSON: {}}}},
    **iam_action(READ),
)
def export_events(
    guard: CurrentGuard,
    services: Services,
    account_id: str | None = None,
    action: Annotated[str | None, Query(max_length=128)] = None,
    outcome: Outcome | None = None,
    start: str | None = None,
    end: str | None = None,
) -> StreamingResponse:
    query = _query(guard, account_id, action, outcome, start, end)
    records = services.audit.export(guard, query)
    first = next(records, None)  # authorized and readable before the 200 is sent

    def lines() -> Iterator[str]:
        if first is None:
            return
        yield canonical(item(first)) + "\n"
        for record in records:
            yield canonical(item(record)) + "\n"

    return StreamingResponse(lines(), media_type=NDJSON)


@router.get("/v1/audit/verify", **iam_action(READ))
def verify_chain(
    guard: CurrentGuard, services: Services, account_id: str | None = None
) -> dict[str, Any]:
    return services.audit.verify(guard, account_id or guard.principal.account_id).body()


class HashInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    input: str = Field(max_length=MAX_INPUT, description="the value to hash, as it was sent")


class HashOutput(BaseModel):
    hash: str = Field(description="`hmac-sha256:<hex>`, as the audit trail stores the value")


@router.post("/v1/audit/hash", response_model=HashOutput, **iam_action(HASH))
def audit_hash(body: HashInput, guard: CurrentGuard, services: Services) -> dict[str, str]:
    return {"hash": services.audit.hash(guard, body.input)}
