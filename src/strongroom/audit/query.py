"""What a reader asks of the trail: one account's events, filtered, a page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class AuditQuery:
    account_id: str
    action: str | None = None
    outcome: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    after_seq: int = 0  # the page token: events after this sequence number
    limit: int = 100
