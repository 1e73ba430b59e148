"""Whether a process killed outright leaves processes behind (the pool workers it started, say)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

MARK = "DUBAN_TEST_OWNER"


def marked(marker: str) -> set[int]:
    """The processes whose environment carries `marker`: the owner and every process it started."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if f"{MARK}={marker}".encode() in (entry / "environ").read_bytes().split(b"\0"):
                    found.add(int(entry.name))
    return found


def left_after_killing(script: str, *, started: int, grace_seconds: float = 30.0) -> set[int]:
    """Run `script` (it prints a line once its processes are up), check it started at least `started`
    processes besides itself, SIGKILL it, and return those still running after `grace_seconds`."""
    marker = f"{os.getpid()}-{time.monotonic_ns()}"
    owner = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, env={**os.environ, MARK: marker})
    try:
        assert owner.stdout is not None
        owner.stdout.readline()
        assert len(marked(marker) - {owner.pid}) >= started
    finally:
        owner.kill()
        owner.wait()
    deadline = time.monotonic() + grace_seconds
    while (left := marked(marker)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left
