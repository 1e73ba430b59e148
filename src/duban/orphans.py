"""Child processes that never outlive `duban up`: the kernel stops them when their parent dies.

`duban up` stops its children in order when it can (Ctrl-C, SIGTERM: see `runtime.StopSignals`). When
it cannot — SIGKILL, a crash, an OOM kill — Linux's parent-death signal (`prctl(PR_SET_PDEATHSIG)`)
sends each child SIGTERM, so no service goes on reconnecting to a NATS that is gone. The signal is
armed between fork and exec (`preexec_fn`), and a child whose parent is already gone by then exits at
once. The kernel sends it when the *thread* that forked the child ends, so children are forked from
the event loop's thread, never from a worker thread. Elsewhere than Linux this is a no-op.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> Callable[[], None] | None:
    """A `preexec_fn` arming the parent-death signal for the child, or None where there is none."""
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before fork: the child only calls it
    parent = os.getpid()

    def arm() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before the signal was armed
            os._exit(1)

    return arm
