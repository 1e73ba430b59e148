"""Worker processes (a service's process pools) that end with the service that owns them.

A service killed outright (SIGKILL, the OOM killer) never shuts its pools down, and their workers
would wait for work forever: each holds both ends of the pool's queue (and, from a fork server, that
server's liveness pipe), so neither they nor the fork server ever see the end of file that would
stop them. `watch_owner` in a pool's initializer ends the worker once the owner is gone.
"""

from __future__ import annotations

import os
import select
import threading
import time


def watch_owner(owner: int) -> None:
    """From a pool's initializer: end this worker process when process `owner` ends, however it ends."""
    threading.Thread(target=_exit_with, args=(owner,), name="owner-watch", daemon=True).start()


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
    except PermissionError:
        return True
    return True
