"""The housekeeping thread (strongroom/periodic.py): runs at once, then every interval, survives
a failing run, and stops when asked."""

from __future__ import annotations

import threading

import pytest

from strongroom.periodic import Periodic


def test_runs_at_once_then_repeatedly_through_failures_until_stopped() -> None:
    runs: list[int] = []
    third = threading.Event()

    def task() -> None:
        runs.append(len(runs))
        if len(runs) == 3:
            third.set()
        if len(runs) == 2:
            raise RuntimeError("a failing run")  # logged; the loop goes on

    periodic = Periodic("test", 0.01, task)
    periodic.start()
    assert third.wait(5), "the task did not run three times"
    periodic.stop()
    assert not periodic.running
    stopped_at = len(runs)
    threading.Event().wait(0.05)
    assert len(runs) == stopped_at  # nothing runs after stop


def test_a_long_interval_still_runs_once_at_start_and_stops_at_once() -> None:
    ran = threading.Event()
    periodic = Periodic("slow", 3600, ran.set)
    periodic.start()
    assert ran.wait(5)
    periodic.stop(timeout=5)  # does not wait out the hour
    assert not periodic.running


def test_an_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="above 0"):
        Periodic("never", 0, lambda: None)
