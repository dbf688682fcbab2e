"""Unauthenticated 401s, counted instead of written one by one (reliability.md A3 a, T4).

A call with no valid credential costs the caller nothing, and each 401 is an audited call: one
event write each would let anyone turn requests into database writes. So, per source (IPv4
address or IPv6 /64, ratelimit.source_key) and action, the first 401 of a window is written at
once as usual; the ones after it in the same window are counted in memory and written as one
event when the window ends, carrying `repeated: {count, firstTime, lastTime}`. Every 401 is
still accounted for: the events with reasonCode 401 and no `repeated`, plus the sum of the
summaries' `repeated.count`, is the number of 401s answered. Pending counts are written by
`flush` (the audit-flush task of `strongroom serve`, and on shutdown); a node that dies loses at
most one window's counts.

A 401 whose caller was identified (a Key Protect refusal of a valid token) is not coalesced.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from strongroom.audit.events import event_time

MAX_TRACKED = 10_000  # (source, action) pairs remembered; past it, 401s are written one by one


@dataclass(slots=True)
class _Window:
    started: datetime
    count: int = 0  # repeats after the first, not yet written
    first: datetime | None = None
    last: datetime | None = None
    account: str = ""
    event: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Summary:
    """A window's repeats: one event for the chain of `account`."""

    account: str
    at: datetime
    event: dict[str, Any]


class DenialCoalescer:
    def __init__(self, window_seconds: float, max_tracked: int = MAX_TRACKED) -> None:
        self.window = timedelta(seconds=window_seconds)
        self.max_tracked = max_tracked
        self._windows: OrderedDict[tuple[str, str], _Window] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.window > timedelta(0)

    def admit(
        self, source: str, action: str, now: datetime, account: str, event: dict[str, Any]
    ) -> tuple[bool, Summary | None]:
        """(whether to write this 401's event now, an ended window's summary to write)."""
        key = (source, action)
        with self._lock:
            window = self._windows.get(key)
            if window is not None and now - window.started < self.window:
                window.count += 1
                window.first = window.first or now
                window.last, window.account, window.event = now, account, event
                return False, None
            ended = self._windows.pop(key, None)
            if len(self._windows) >= self.max_tracked:
                return True, _summary(ended)  # too many sources: no coalescing for this one
            self._windows[key] = _Window(started=now)
            return True, _summary(ended)

    def flush(self, now: datetime | None = None) -> list[Summary]:
        """The summaries of the windows that have ended by `now` (all of them if None)."""
        with self._lock:
            done = [
                k for k, w in self._windows.items() if now is None or now - w.started >= self.window
            ]
            return [s for s in (_summary(self._windows.pop(k)) for k in done) if s is not None]


def _summary(window: _Window | None) -> Summary | None:
    if window is None or window.count == 0 or window.first is None or window.last is None:
        return None
    event = dict(window.event)
    event["repeated"] = {
        "count": window.count,
        "firstTime": event_time(window.first),
        "lastTime": event_time(window.last),
    }
    event["message"] = f"{event.get('message', '')} ({window.count} times)"
    return Summary(window.account, window.last, event)
