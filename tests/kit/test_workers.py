"""A killed service leaves no pool workers behind (kit's `watch_owner` in the pool's initializer)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

_OWNER = """
import os, sys, time
from concurrent.futures import ProcessPoolExecutor
from duban_kit.workers import watch_owner

pool = ProcessPoolExecutor(max_workers=2, initializer=watch_owner, initargs=(os.getpid(),))
list(pool.map(abs, range(8)))  # the workers are up
print(os.getpid(), flush=True)
time.sleep(3600)
"""


def marked(marker: str) -> set[int]:
    """The processes whose environment carries `marker` (the owner and what it started)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if f"DUBAN_TEST_OWNER={marker}".encode() in (entry / "environ").read_bytes().split(b"\0"):
                    found.add(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="reads /proc (Linux)")
def test_pool_workers_end_when_their_owner_is_killed() -> None:
    marker = f"{os.getpid()}-{time.monotonic_ns()}"
    owner = subprocess.Popen(
        [sys.executable, "-c", _OWNER], stdout=subprocess.PIPE, env={**os.environ, "DUBAN_TEST_OWNER": marker}
    )
    try:
        assert owner.stdout is not None
        owner.stdout.readline()
        assert len(marked(marker) - {owner.pid}) >= 2  # the two workers
    finally:
        owner.kill()
        owner.wait()
    deadline = time.monotonic() + 30
    while (left := marked(marker)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, f"orphaned workers: {sorted(left)}"
