"""Fault injection for the reliability tests: crash or stall a service at an exact point, once.

Off unless `DUBAN_FAULT` is set, e.g. `DUBAN_FAULT=after_commit:40` kills the process with SIGKILL
right after the 40th committed consumer batch, before its messages are acknowledged. Points:

- `before_commit:N`  inside the N-th consumer transaction, after its writes, before COMMIT;
- `after_commit:N`   after the N-th consumer transaction commits, before its messages are acked;
- `before_publish:N` in the outbox relay, after the N-th batch is read, before it is published;
- `slow_handler:S`   every consumer batch takes S seconds longer (ack-wait and heartbeat tests).

With `DUBAN_FAULT_MARKER=<file>` a crash happens once: the marker is written before the kill and a
restarted process sees it and runs normally.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import os
import signal
from dataclasses import dataclass
from pathlib import Path

FAULT_ENV = "DUBAN_FAULT"
MARKER_ENV = "DUBAN_FAULT_MARKER"

#: Set while a consumer batch is being applied, so that only its transactions count.
in_consumer_batch: contextvars.ContextVar[bool] = contextvars.ContextVar("in_consumer_batch", default=False)


@dataclass
class Faults:
    point: str | None = None
    value: float = 0.0
    marker: Path | None = None
    _count: int = 0

    @classmethod
    def from_env(cls) -> Faults:
        spec = os.environ.get(FAULT_ENV, "")
        if not spec:
            return cls()
        point, _, value = spec.partition(":")
        marker = os.environ.get(MARKER_ENV)
        return cls(point=point, value=float(value or 0), marker=Path(marker) if marker else None)

    def crash_at(self, point: str) -> None:
        """Kill this process (SIGKILL, no cleanup) when `point` is reached for the configured time."""
        if self.point != point:
            return
        self._count += 1
        if self._count != int(self.value):
            return
        if self.marker is not None:
            if self.marker.exists():
                return
            self.marker.write_text(point, encoding="utf-8")
        os.kill(os.getpid(), signal.SIGKILL)

    async def stall(self) -> None:
        if self.point == "slow_handler" and self.value > 0:
            await asyncio.sleep(self.value)


@functools.cache
def faults() -> Faults:
    """The faults of this process, read from the environment on first use."""
    return Faults.from_env()
