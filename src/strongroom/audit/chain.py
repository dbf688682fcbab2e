"""The hash chain that makes the trail tamper-evident (reliability.md A3 d).

Each account's events are numbered 1, 2, 3, … and each stores
`hash = SHA-256(prev_hash || canonical JSON of {account, seq, event})`, the first one chained to
`GENESIS`. The chain head (last seq and hash) is stored apart, so deleting the newest events is
seen too. An edited event changes its hash; a deleted one breaks the numbering or the link; two
events swapped carry sequence numbers their hashes were not made with.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def link(prev_hash: str, account_id: str, seq: int, event: dict[str, Any]) -> str:
    body = canonical({"account": account_id, "seq": seq, "event": event})
    return hashlib.sha256(prev_hash.encode("ascii") + body.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Record:
    account_id: str
    seq: int
    event: dict[str, Any]
    prev_hash: str
    hash: str
    # The stored copies of the event's action and outcome (the columns queries filter on).
    columns: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    account_id: str
    ok: bool
    events: int
    last_seq: int
    problem: str = ""
    bad_seq: int | None = None

    def body(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "ok": self.ok,
            "events": self.events,
            "last_seq": self.last_seq,
            "problem": self.problem or None,
            "bad_seq": self.bad_seq,
        }


def verify(account_id: str, records: Iterable[Record], head: tuple[int, str] | None) -> Verdict:
    """Walk `records` in stored order (by seq) and check every link, then the head."""
    prev, expected, count = GENESIS, 1, 0

    def bad(problem: str, seq: int | None) -> Verdict:
        return Verdict(account_id, False, count, expected - 1, problem, seq)

    for record in records:
        if record.seq != expected:
            return bad(f"event {expected} is missing (found {record.seq})", expected)
        # Hashes are not secrets, but the project's rule is one comparison for digests.
        if not hmac.compare_digest(record.prev_hash, prev):
            return bad(f"event {record.seq} does not follow event {record.seq - 1}", record.seq)
        altered = not hmac.compare_digest(
            link(prev, account_id, record.seq, record.event), record.hash
        )
        if altered or record.columns not in (None, _columns(record.event)):
            return bad(f"event {record.seq} was altered", record.seq)
        prev, expected, count = record.hash, expected + 1, count + 1
    last = expected - 1
    stored_seq, stored_hash = head if head is not None else (0, GENESIS)
    if (stored_seq, stored_hash) != (last, prev):
        if stored_seq > last:
            return bad(f"events {last + 1} to {stored_seq} are missing", last + 1)
        return bad("the chain head does not match the newest event", last)
    return Verdict(account_id, True, count, last)


def _columns(event: dict[str, Any]) -> tuple[str, str]:
    return str(event.get("action", ""))[:128], str(event.get("outcome", ""))
