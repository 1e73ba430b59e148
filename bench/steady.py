"""The highest steady offered rate the pipeline sustains: submissions at a fixed rate, backlog watched.

A burst (everything published at once, then drained) measures how fast a backlog is worked off;
a service in production sees a steady stream. Here submissions are offered at a fixed rate for some
seconds, every durable consumer's backlog (pending + unacknowledged) is sampled meanwhile, and the
rate counts as sustained when the publisher kept the pace, the backlog did not grow over the window
(its level in the last third no higher than in the first third, give or take half a second's
messages — each submission becomes several, one per consumer it reaches — since the services work
in batches and the backlog saw-tooths), and it was worked off within
two seconds of the last submission. The search starts near
the burst rate, climbs while sustained and falls back while not, then halves the gap once.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from nats.js.api import PubAck

from duban.runtime import Stack

from .raw import paced
from .stack import ConsumerTrace, cpu_seconds, sample_consumers, service_pids
from .workload import Workload

SAMPLE_SECONDS = 0.5
#: After the last submission, how long the backlog may take to go (the services batch their work).
DRAIN_GRACE_SECONDS = 2.0


@dataclass
class SteadyTrial:
    rate: int
    seconds: float
    achieved_rate: float
    backlog_early: float  # mean messages outstanding over every consumer, first third of the window
    backlog_late: float  # … last third
    drain_seconds: float  # from the last submission until no backlog (nan: not within the grace)
    cpu_ms_per_submission: float  # the four services' CPU over the trial and its drain
    messages_per_submission: float = 1.0  # acknowledged over every consumer, per submission offered

    @property
    def sustained(self) -> bool:
        kept_pace = self.achieved_rate >= 0.95 * self.rate
        no_growth = self.backlog_late <= self.backlog_early + 0.5 * self.rate * max(1.0, self.messages_per_submission)
        return kept_pace and no_growth and not math.isnan(self.drain_seconds)


@dataclass
class SteadyResult:
    trials: list[SteadyTrial] = field(default_factory=list)

    @property
    def best(self) -> SteadyTrial | None:
        sustained = [t for t in self.trials if t.sustained]
        return max(sustained, key=lambda t: t.rate) if sustained else None

    @property
    def rate(self) -> float:
        best = self.best
        return float(best.rate) if best else float("nan")


async def trial(stack: Stack, workload: Workload, rate: int, seconds: float) -> SteadyTrial:
    total = max(1, int(rate * seconds))
    submissions = workload.take(total)
    traces = [ConsumerTrace(spec) for spec in stack.settings.topology.consumers]
    pids = service_pids(stack)
    cpu_before = sum(cpu_seconds(pid) for pid in pids.values())
    sending = asyncio.Event()
    backlog: list[tuple[float, int]] = []

    async with stack.client() as nc:
        js = nc.jetstream()
        subject = stack.settings.subjects.inbound_submission
        acks: list[asyncio.Future[PubAck]] = []

        async def send(n: int) -> None:
            submission = submissions[n]
            acks.append(
                await js.publish_async(subject, submission.body, headers={"Nats-Msg-Id": submission.submission_id})
            )

        async def watch() -> None:
            while True:
                await sample_consumers(nc, traces)
                if sending.is_set():
                    backlog.append((time.perf_counter(), sum(t.samples[-1].outstanding for t in traces)))
                await asyncio.sleep(SAMPLE_SECONDS)

        watcher = asyncio.create_task(watch())
        await asyncio.sleep(0)
        sending.set()
        started = time.perf_counter()
        took = await paced(rate, total, send)
        await asyncio.gather(*acks)
        ended = time.perf_counter()
        drain = float("nan")
        while time.perf_counter() - ended < DRAIN_GRACE_SECONDS:
            await sample_consumers(nc, traces)
            if sum(t.samples[-1].outstanding for t in traces) == 0:
                drain = time.perf_counter() - ended
                break
            await asyncio.sleep(0.1)
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
    cpu = sum(cpu_seconds(pid) for pid in pids.values()) - cpu_before
    window = [n for at, n in backlog if started <= at <= ended]
    third = max(1, len(window) // 3)
    return SteadyTrial(
        rate=rate,
        seconds=seconds,
        achieved_rate=total / took,
        backlog_early=statistics.fmean(window[:third]) if window else 0.0,
        backlog_late=statistics.fmean(window[-third:]) if window else 0.0,
        drain_seconds=drain,
        cpu_ms_per_submission=cpu * 1000 / total,
        messages_per_submission=sum(t.processed() for t in traces) / total,
    )


async def search(
    stack: Stack,
    workload: Workload,
    *,
    start: int,
    seconds: float,
    trials: int,
    progress: Callable[[str], None] = print,
) -> SteadyResult:
    """Up ×1.3 while sustained, down ×0.7 while not, then once halfway between the best and the first failure."""
    result = SteadyResult()
    rate = max(20, _round(start))
    low: int | None = None  # highest sustained so far
    high: int | None = None  # lowest not sustained so far
    for _ in range(trials):
        outcome = await trial(stack, workload, rate, seconds)
        result.trials.append(outcome)
        progress(
            f"  steady {rate:,}/s for {seconds:.0f}s: {'sustained' if outcome.sustained else 'NOT sustained'} "
            f"(sent {outcome.achieved_rate:,.0f}/s, backlog {outcome.backlog_early:,.0f} → "
            f"{outcome.backlog_late:,.0f}, "
            f"drained in {outcome.drain_seconds:.1f}s, {outcome.cpu_ms_per_submission:.2f} CPU-ms/submission)"
        )
        await asyncio.sleep(1.0)
        if outcome.sustained:
            low = rate if low is None else max(low, rate)
        else:
            high = rate if high is None else min(high, rate)
        if low is not None and high is not None:
            middle = _round((low + high) / 2)
            if middle in (low, high) or high - low <= max(20, low // 10):
                break
            rate = middle
        elif low is not None:
            rate = _round(rate * 1.3)
        else:
            rate = max(10, _round(rate * 0.7))
    return result


def _round(rate: float) -> int:
    """To two significant figures: rates read as 1,300/s, not 1,287/s."""
    if rate < 100:
        return max(1, round(rate / 5) * 5)
    step = 10 ** (len(str(int(rate))) - 2)
    return int(round(rate / step) * step)
