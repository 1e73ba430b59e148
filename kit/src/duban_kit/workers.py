"""Worker processes (a service's process pools) that end with the service that owns them.

A service killed outright (SIGKILL, the OOM killer) never shuts its pools down, and their workers
would wait for work forever: each holds both ends of the pool's queue (and, from a fork server, that
server's liveness pipe), so neither they nor the fork server ever see the end of file that would
stop them. `watch_owner` in a pool's initializer ends the worker once the owner is gone.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import threading
import time

_WATCH_STACK_BYTES = 256 * 1024
_M_ARENA_MAX = -8  # glibc's mallopt parameter (malloc.h)


def watch_owner(owner: int) -> None:
    """From a pool's initializer: end this worker process when process `owner` ends, however it ends."""
    # Workers may run under an address-space limit (RLIMIT_AS). A thread would take 8 MiB of it for its
    # stack and, with glibc, 64 MiB more for a malloc arena of its own: a small stack, one arena.
    _one_malloc_arena()
    previous = threading.stack_size(_WATCH_STACK_BYTES)
    try:
        threading.Thread(target=_exit_with, args=(owner,), name="owner-watch", daemon=True).start()
    finally:
        threading.stack_size(previous)


def _one_malloc_arena() -> None:
    with contextlib.suppress(Exception):  # not glibc: nothing to do
        ctypes.CDLL(None).mallopt(_M_ARENA_MAX, 1)


def _exit_with(owner: int) -> None:
    try:
        watched = os.pidfd_open(owner)
    except (AttributeError, OSError):  # not Linux ≥ 5.3: ask every second
        while _alive(owner):
            time.sleep(1.0)
    else:
        select.select([watched], [], [])  # readable once the process has ended
    os._exit(0)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, and not ours to signal
        pass
    return True
