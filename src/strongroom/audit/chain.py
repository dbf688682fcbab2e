"""The hash chain that makes the trail tamper-evident (reliability.md A3 d).

Each account's events are numbered 1, 2, 3, … and each stores
`hash = SHA-256(prev_hash || canonical JSON of {account, seq, event})`, the first one chained to
`GENESIS`. The chain head (last seq and hash) is stored apart, so deleting the newest events is
seen too. An edited event changes its hash; a deleted one breaks the numbering or the link; two
events swapped carry sequence numbers their hashes were not made with.

The hashes are unkeyed, so someone able to rewrite the whole table could recompute every link.
The head is therefore also signed (A3 d): `mac = HMAC-SHA-256(head key, account || seq || hash)`
with a key derived from the root key (bootstrap), which the database does not hold. A rewritten
chain ends in a head whose signature the rewriter cannot make. What a signature cannot show is a
rollback to an older head saved by the attacker with its signature; the file sink
(audit/sinks.py) keeps a copy off the database for that.
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


class HeadSigner:
    """Signs and checks chain heads with a deployment secret."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def sign(self, account_id: str, seq: int, digest: str) -> str:
        body = canonical({"account": account_id, "seq": seq, "hash": digest})
        return hmac.new(self._key, body.encode("utf-8"), hashlib.sha256).hexdigest()

    def valid(self, account_id: str, seq: int, digest: str, mac: str) -> bool:
        return hmac.compare_digest(self.sign(account_id, seq, digest), mac)


@dataclass(frozen=True, slots=True)
class Head:
    seq: int
    hash: str
    mac: str = ""


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


def verify(
    account_id: str, records: Iterable[Record], head: Head | None, signer: HeadSigner
) -> Verdict:
    """Walk `records` in stored order (by seq) and check every link, then the head and its
    signature."""
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
    if head is None:
        if last == 0:
            return Verdict(account_id, True, 0, 0)
        return bad("the chain head is missing", last)
    if (head.seq, head.hash, last) == (0, GENESIS, 0):
        return Verdict(account_id, True, 0, 0)  # a head made by an append that rolled back
    if (head.seq, head.hash) != (last, prev):
        if head.seq > last:
            return bad(f"events {last + 1} to {head.seq} are missing", last + 1)
        return bad("the chain head does not match the newest event", last)
    if not signer.valid(account_id, head.seq, head.hash, head.mac):
        # Every link holds, but not made by this deployment: the chain was rewritten.
        return bad("the chain head's signature is not valid: the chain was rewritten", last)
    return Verdict(account_id, True, count, last)


def _columns(event: dict[str, Any]) -> tuple[str, str]:
    return str(event.get("action", ""))[:128], str(event.get("outcome", ""))
