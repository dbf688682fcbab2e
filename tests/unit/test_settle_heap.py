"""`strongroom serve` hides its startup heap from the collector and collects young objects less
often (cli/serve.py, settle_heap)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from strongroom.cli.serve import YOUNG_THRESHOLD, settle_heap


@pytest.fixture
def restored_gc() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.usefixtures("restored_gc")
def test_settle_heap_freezes_what_is_alive_and_raises_the_young_threshold() -> None:
    alive = [{"n": i} for i in range(100)]  # containers the collector tracks
    _, middle, old = gc.get_threshold()
    settle_heap()
    assert gc.get_freeze_count() >= len(alive)
    assert gc.get_threshold() == (YOUNG_THRESHOLD, middle, old)
    # What is made afterwards is collected as before: a cycle still goes.
    cycle: list[object] = []
    cycle.append(cycle)
    del cycle
    assert gc.collect() >= 1
