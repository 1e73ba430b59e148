"""Alert latency on the default stack — what `duban up` runs: SQLite files, one nats-server.

Each run offers submissions at a fixed rate and times every incident from just before its publish
until its `alert.raised` arrives (`bench.pipeline.latency`); an incident whose alert never arrives
counts as infinitely late. Three runs: 20 incidents a second (nothing else), and 500 submissions a
second in the stress mix (a fifth incidents) and in the realistic mix (incidents as often as in
the simulated year).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from duban.isolated import isolated_stack

from .pipeline import LatencyResult, latency
from .workload import workload

#: (rate per second, mix) of each run, in this order.
RUNS: tuple[tuple[int, str], ...] = ((20, "incidents"), (500, "realistic"), (500, "stress"))
STACK = "default stack (SQLite)"


async def measure(
    *, nats_url: str, namespace: str, home: Path, seconds: float, progress: Callable[[str], None] = print
) -> list[LatencyResult]:
    results: list[LatencyResult] = []
    progress("  starting the four services on SQLite (the default stack) …")
    async with isolated_stack(nats_url=nats_url, database_url=None, namespace=namespace, home=home) as stack:
        for rate, mix in RUNS:
            # a slow rate needs longer for enough incidents to make a p99 (20/s: 400 over 20 s)
            duration = max(seconds, 20.0) if rate < 100 else seconds
            results.append(
                await latency(
                    stack,
                    workload(f"{namespace}-{mix}-{rate}", mix),
                    rate,
                    duration,
                    mix=mix,
                    stack_name=STACK,
                    progress=progress,
                )
            )
    return results
