"""Change notices between nodes sharing one PostgreSQL database (docs/deployment.md).

Every bump of an account's access revision also sends `NOTIFY strongroom_access, '<account>'` in
the same transaction (access_repos.SqlRevisions.bump), so PostgreSQL delivers it exactly when the
change commits. Each node keeps one `AccessListener`: a connection of its own, LISTENing on a
daemon thread, that hands each notice's account to the authorizer (`invalidate`). A lost
connection is opened again; notices sent meanwhile are lost, so a reconnect drops every cached
account (`on_reset`). The authorizer's periodic revision check stays the bound when notices are
late or lost. SQLite needs none of this: one process serves it, and its writers invalidate.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import psycopg
from sqlalchemy.engine import make_url

log = logging.getLogger("strongroom")

ACCESS_CHANNEL = "strongroom_access"


def libpq_conninfo(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as psycopg takes it (no `+psycopg` driver part)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class AccessListener:
    def __init__(
        self,
        url: str,
        on_change: Callable[[str], None],
        on_reset: Callable[[], None],
        *,
        retry_seconds: float = 1.0,
        poll_seconds: float = 0.2,
    ) -> None:
        self._conninfo = libpq_conninfo(url)
        self._on_change = on_change
        self._on_reset = on_reset
        self._retry = retry_seconds
        self._poll = poll_seconds
        self._stop = threading.Event()
        self.listening = threading.Event()  # set while LISTEN is in effect
        self._thread = threading.Thread(target=self._run, name="access-listener", daemon=True)

    def start(self, wait: float = 5.0) -> bool:
        """Start listening; True once LISTEN is in effect (within `wait` seconds)."""
        self._thread.start()
        return self.listening.wait(wait)

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen()
            except Exception as exc:  # a lost connection: open it again after a pause
                log.warning("the access-change listener lost its connection: %s", exc)
            self.listening.clear()
            # Notices sent while not listening are lost: every cached account is suspect.
            self._on_reset()
            self._stop.wait(self._retry)

    def _listen(self) -> None:
        with psycopg.connect(
            self._conninfo, autocommit=True, keepalives=1, keepalives_idle=10, connect_timeout=10
        ) as conn:
            conn.execute(f"LISTEN {ACCESS_CHANNEL}")
            # Anything cached before LISTEN took effect may predate a notice never received.
            self._on_reset()
            self.listening.set()
            while not self._stop.is_set():
                # Returns after `poll` seconds without a notice, so `stop` is seen promptly.
                for notice in conn.notifies(timeout=self._poll):
                    self._on_change(notice.payload)
