"""A task run at once and then every `interval` seconds on a daemon thread, until stopped: the
server's housekeeping (the key-management sweep, kms/sweep.py). Started by `strongroom serve`
through `bootstrap.Runtime.start_background`, never at import or by building a runtime, so tests
run the task themselves when they choose."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("strongroom")


class Periodic:
    def __init__(self, name: str, interval: float, task: Callable[[], object]) -> None:
        if interval <= 0:
            raise ValueError("a periodic task needs an interval above 0 seconds")
        self.name = name
        self.interval = interval
        self._task = task
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10) -> None:
        """Ask the thread to stop and wait for a run in progress to finish."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._task()
            except Exception:  # the next run may succeed: a task's failure must not end the loop
                log.exception("periodic task %s failed", self.name)
            self._stop.wait(self.interval)
