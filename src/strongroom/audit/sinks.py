"""Audit sinks beside the database (reliability.md A3 b: "With 2 sinks, a request succeeds while
≥ 1 sink accepts it"; Vault's audit devices).

`FileSink` appends one JSON line per event to a file (`STRONGROOM_AUDIT_FILE`) and fsyncs it
before the call is answered. The file is opened for each event with O_APPEND, so a rotated or
removed file is simply created again, and a line is written whole by one write. Each line is
`{"account_id", "seq", "hash", "event"}`: `seq` and `hash` are the database chain's when the
database took the event too (null when it did not), so the two copies can be compared.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, Protocol

from strongroom.audit.chain import canonical


class Sink(Protocol):
    name: str

    def write(
        self, account_id: str, seq: int | None, digest: str | None, event: dict[str, Any]
    ) -> None:
        """Store the event durably, or raise."""
        ...


class FileSink:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = f"file:{path}"
        self._lock = threading.Lock()

    def check(self) -> None:
        """Raise unless the file can be opened for appending (checked at start)."""
        os.close(os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600))

    def write(
        self, account_id: str, seq: int | None, digest: str | None, event: dict[str, Any]
    ) -> None:
        line = canonical({"account_id": account_id, "seq": seq, "hash": digest, "event": event})
        data = (line + "\n").encode("utf-8")
        with self._lock:  # one writer per process; O_APPEND keeps other processes' lines whole
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                written = os.write(fd, data)
                if written != len(data):
                    raise OSError(f"short write to the audit file {self.path}")
                os.fsync(fd)
            finally:
                os.close(fd)
