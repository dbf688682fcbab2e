"""Where every audit event is stored: the one path from a built event to its sinks
(reliability.md A3 b, c, d).

It hashes the event's sensitive fields (audit/hashing.py), appends it to the database chain
with a signed head (audit/chain.py) and copies it to every other sink (audit/sinks.py). The
event counts as recorded when at least one sink took it; with none, the caller fails closed
(or, failing open, goes ahead and the loss is logged).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from strongroom.audit.chain import HeadSigner
from strongroom.audit.hashing import AuditHasher
from strongroom.audit.sinks import Sink

log = logging.getLogger("strongroom.audit")


class ChainLog(Protocol):
    def append(
        self,
        account_id: str,
        at: datetime,
        event: dict[str, Any],
        signer: HeadSigner,
        *,
        isolated: bool = False,
    ) -> tuple[int, str]: ...


class AuditWriter:
    def __init__(
        self,
        hasher: AuditHasher,
        signer: HeadSigner,
        sinks: Sequence[Sink] = (),
        *,
        fail_closed: bool = True,
    ) -> None:
        self.hasher = hasher
        self.signer = signer
        self.sinks = tuple(sinks)
        self.fail_closed = fail_closed

    @property
    def isolated(self) -> bool:
        """Whether the database append needs a savepoint: when a failure there must leave the
        transaction usable, for another sink or to fail open. Failing closed with the database
        alone, a failure rolls everything back anyway."""
        return bool(self.sinks) or not self.fail_closed

    def append(self, chain: ChainLog, account_id: str, at: datetime, event: dict[str, Any]) -> int:
        """Store the event in the caller's transaction and in the other sinks; how many sinks
        took it. Raises what the database raised when it is the only sink and fails closed."""
        event = self.hasher.redact(event)
        taken = 0
        seq: int | None = None
        digest: str | None = None
        try:
            seq, digest = chain.append(account_id, at, event, self.signer, isolated=self.isolated)
            taken += 1
        except Exception:
            if not self.isolated:
                raise
            log.exception("audit event not stored in the database; trace %s", _trace(event))
        for sink in self.sinks:
            try:
                sink.write(account_id, seq, digest, event)
                taken += 1
            except Exception:
                log.exception("audit sink %s failed; trace %s", sink.name, _trace(event))
        return taken


def _trace(event: dict[str, Any]) -> str:
    return str(event.get("correlationId", ""))
