"""A killed service leaves no pool workers behind (kit's `watch_owner` in the pool's initializer)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.orphans import left_after_killing

_OWNER = """
import os, sys, time
from concurrent.futures import ProcessPoolExecutor
from duban_kit.workers import watch_owner

pool = ProcessPoolExecutor(max_workers=2, initializer=watch_owner, initargs=(os.getpid(),))
list(pool.map(abs, range(8)))  # the workers are up
print(os.getpid(), flush=True)
time.sleep(3600)
"""


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="reads /proc (Linux)")
def test_pool_workers_end_when_their_owner_is_killed() -> None:
    assert left_after_killing(_OWNER, started=2) == set()  # the two workers are gone too
