"""The pipeline under load: the four services as processes, on NATS and PostgreSQL.

- Throughput: publish N valid submissions as fast as JetStream takes them, then follow every durable
  consumer (consumer info, sampled) until all are drained or the time budget runs out. End-to-end
  throughput is N over the time from the first publish until the last consumer is drained; each
  stage's rate is the messages it acknowledged over the time it had work outstanding.
- Latency: submissions at a fixed rate (the same mix); for every incident, the time from just before
  its publish to the moment its `alert.raised` arrives (matched by the alert's `incident_id` label,
  the incident event's id, derived from the submission id).
- Memory: each service's resident set size at rest, the peak under load, and after.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nats
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import PubAck

from duban.isolated import isolated_stack
from duban.runtime import Stack

from .machine import PostgresMeter
from .raw import Latency, paced
from .stack import (
    ConsumerTrace,
    cpu_seconds,
    rss_mib,
    sample_consumers,
    scrape,
    service_pids,
    total,
)
from .steady import SteadyResult, search
from .workload import Submission, Workload
from .workload import workload as workload_of

SAMPLE_SECONDS = 0.25
ALERT_GRACE_SECONDS = 15.0  # after the last submission, for the last alerts to arrive
DRAIN_SECONDS = 15.0  # then for every consumer to catch up before the next rate


@dataclass
class StageResult:
    service: str
    processed: int
    seconds: float
    cpu_seconds: float
    db_seconds: float
    handler_seconds: float
    db_statements: int
    batches: int
    batch_messages: int

    @property
    def rate(self) -> float:
        return self.processed / self.seconds if self.seconds > 0 else float("nan")

    @property
    def mean_batch(self) -> float:
        return self.batch_messages / self.batches if self.batches else float("nan")


@dataclass
class ThroughputResult:
    submissions: int
    publish_seconds: float
    drained: bool
    seconds: float  # first publish → every consumer drained (or the budget)
    completed: int  # submissions fully through ingest, tasks/alerts and reports
    stages: list[StageResult]
    memory_rest: dict[str, float]
    memory_peak: dict[str, float]
    memory_after: dict[str, float]
    events: dict[str, int] = field(default_factory=dict)
    # The rest of the machine's CPU in the same span: the services' CPU is not all a submission costs.
    nats_cpu_seconds: float = 0.0
    postgres_cpu_seconds: float = 0.0
    client_cpu_seconds: float = 0.0  # this process: publishing the burst and following the consumers

    @property
    def rate(self) -> float:
        return self.completed / self.seconds if self.seconds > 0 else float("nan")


@dataclass
class LatencyResult:
    rate: int
    seconds: float
    sent: int
    incidents: int
    latency: Latency
    missing: int
    achieved_rate: float
    drained: bool = True
    skipped: bool = False

    mix: str = "stress"
    stack: str = "PostgreSQL"

    @property
    def saturated(self) -> bool:
        """The pipeline fell behind: alerts missing after the grace period, or a backlog left."""
        return self.missing > 0.05 * max(1, self.incidents) or not self.drained

    def percentile(self, q: float) -> float:
        """Over every incident sent: one whose alert never arrived counts as infinitely late."""
        return Latency([*self.latency.samples, *([math.inf] * self.missing)]).percentile(q)

    @property
    def p50(self) -> float:
        return self.percentile(50)

    @property
    def p99(self) -> float:
        return self.percentile(99)


class MemoryWatch:
    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.peak: dict[str, float] = dict.fromkeys(pids, 0.0)

    def now(self) -> dict[str, float]:
        return {name: rss_mib(pid) for name, pid in self.pids.items()}

    def sample(self) -> None:
        for name, value in self.now().items():
            self.peak[name] = max(self.peak[name], value)


def all_pids(stack: Stack, nats_pid: int) -> dict[str, int]:
    return {**service_pids(stack), "nats-server": nats_pid}


async def publish_all(nc: Client, subject: str, submissions: list[Submission]) -> float:
    js = nc.jetstream()
    started = time.perf_counter()
    futures = [await js.publish_async(subject, s.body, headers={"Nats-Msg-Id": s.submission_id}) for s in submissions]
    await asyncio.gather(*futures)
    return time.perf_counter() - started


async def stage_metrics(stack: Stack) -> dict[str, dict[str, float]]:
    return {name: await scrape(url) for name, url in stack.urls().items() if name != "runtime"}


async def throughput(
    stack: Stack,
    nats_pid: int,
    workload: Workload,
    count: int,
    *,
    budget: float,
    progress: Callable[[str], None] = print,
) -> ThroughputResult:
    submissions = workload.take(count)
    workload.check(submissions[:2000])
    memory = MemoryWatch(all_pids(stack, nats_pid))
    await asyncio.sleep(1.0)
    rest = memory.now()
    before = await stage_metrics(stack)
    cpu_before = {name: cpu_seconds(pid) for name, pid in memory.pids.items()}
    postgres, client_before = PostgresMeter(), time.process_time()
    traces = [ConsumerTrace(spec) for spec in stack.settings.topology.consumers]
    async with stack.client() as nc:
        await sample_consumers(nc, traces)
        started = time.perf_counter()
        publish_seconds = await publish_all(nc, stack.settings.subjects.inbound_submission, submissions)
        progress(f"  published {count:,} submissions in {publish_seconds:.1f}s; following the consumers…")
        deadline = started + budget
        drained = False
        last_report = time.perf_counter()
        while time.perf_counter() < deadline:
            await sample_consumers(nc, traces)
            memory.sample()
            outstanding = sum(t.samples[-1].outstanding for t in traces)
            if outstanding == 0 and _all_done(traces, count):
                drained = True
                break
            if time.perf_counter() - last_report > 10:
                last_report = time.perf_counter()
                backlog = {t.spec.durable: t.samples[-1].outstanding for t in traces if t.samples[-1].outstanding}
                progress(f"  {time.perf_counter() - started:.0f}s: outstanding {backlog}")
            await asyncio.sleep(SAMPLE_SECONDS)
        elapsed = time.perf_counter() - started
    after = await stage_metrics(stack)
    cpu_after = {name: cpu_seconds(pid) for name, pid in memory.pids.items()}
    postgres_cpu, client_cpu = postgres.used(), time.process_time() - client_before
    stages = [
        _stage(name, traces, before[name], after[name], cpu_after[name] - cpu_before[name])
        for name in ("ingest", "tasks", "alerts", "reports")
    ]
    completed = count if drained else _completed(traces, count)
    await asyncio.sleep(1.0)
    return ThroughputResult(
        submissions=count,
        publish_seconds=publish_seconds,
        drained=drained,
        seconds=elapsed,
        completed=completed,
        stages=stages,
        memory_rest=rest,
        memory_peak=memory.peak,
        memory_after=memory.now(),
        events=_events(traces),
        nats_cpu_seconds=cpu_after["nats-server"] - cpu_before["nats-server"],
        postgres_cpu_seconds=postgres_cpu,
        client_cpu_seconds=client_cpu,
    )


def _all_done(traces: list[ConsumerTrace], count: int) -> bool:
    inbound = [t for t in traces if t.spec.service == "ingest"]
    return all(t.processed() >= count for t in inbound)


def _completed(traces: list[ConsumerTrace], count: int) -> int:
    """Submissions through every stage, when the budget ran out: the slowest stage's share of the load."""
    shares = []
    inbound = sum(t.processed() for t in traces if t.spec.service == "ingest")
    shares.append(inbound / count)
    for trace in traces:
        if trace.spec.service == "ingest":
            continue
        seen = trace.processed() + trace.samples[-1].outstanding
        if seen:
            shares.append(trace.processed() / seen)
    return int(count * min(shares))


def _events(traces: list[ConsumerTrace]) -> dict[str, int]:
    return {t.spec.durable: t.processed() for t in traces if t.processed()}


def _stage(
    name: str, traces: list[ConsumerTrace], before: dict[str, float], after: dict[str, float], cpu: float
) -> StageResult:
    mine = [t for t in traces if t.spec.service == name]
    processed = sum(t.processed() for t in mine)
    spans = [span for t in mine if (span := t.busy_span()) is not None]
    seconds = (max(end for _, end in spans) - min(start for start, _ in spans)) if spans else float("nan")

    def delta(metric: str) -> float:
        return total(after, metric) - total(before, metric)

    return StageResult(
        service=name,
        processed=processed,
        seconds=seconds,
        cpu_seconds=cpu,
        db_seconds=delta("duban_db_query_duration_seconds_sum"),
        db_statements=int(delta("duban_db_query_duration_seconds_count")),
        handler_seconds=delta("duban_handler_duration_seconds_sum"),
        batches=int(delta("duban_commit_batch_size_count")),
        batch_messages=int(delta("duban_commit_batch_size_sum")),
    )


async def latency(
    stack: Stack,
    workload: Workload,
    rate: int,
    seconds: float,
    *,
    mix: str = "stress",
    stack_name: str = "PostgreSQL",
    progress: Callable[[str], None] = print,
) -> LatencyResult:
    """Submissions at `rate`/s for `seconds`; submission → `alert.raised` for each incident."""
    total_count = int(rate * seconds)
    submissions = workload.take(total_count)
    sent_at: dict[str, float] = {}
    arrived: dict[str, float] = {}

    all_sent, all_arrived = asyncio.Event(), asyncio.Event()

    def check() -> None:
        if all_sent.is_set() and len(arrived) >= len(sent_at):
            all_arrived.set()

    async def on_alert(msg: Msg) -> None:
        incident = json.loads(msg.data).get("labels", {}).get("incident_id")
        if incident in sent_at and incident not in arrived:
            arrived[incident] = time.perf_counter()
            check()

    async with stack.client() as nc:
        js = nc.jetstream()
        subject = stack.settings.subjects.inbound_submission
        sub = await nc.subscribe(stack.settings.subjects.event("alert.raised"), cb=on_alert)
        pending: list[asyncio.Future[PubAck]] = []

        async def send(n: int) -> None:
            submission = submissions[n]
            if submission.kind == "incident":
                sent_at[submission.incident_event_id] = time.perf_counter()
            pending.append(
                await js.publish_async(subject, submission.body, headers={"Nats-Msg-Id": submission.submission_id})
            )

        took = await paced(rate, total_count, send)
        await asyncio.gather(*pending)
        all_sent.set()
        check()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(all_arrived.wait(), timeout=ALERT_GRACE_SECONDS)
        await sub.unsubscribe()
        drained = True
        try:
            await quiet(nc, stack, timeout=DRAIN_SECONDS)
        except TimeoutError:
            drained = False
    samples = [arrived[i] - sent_at[i] for i in sent_at if i in arrived]
    result = LatencyResult(
        rate=rate,
        seconds=seconds,
        sent=total_count,
        incidents=len(sent_at),
        latency=Latency(samples),
        missing=len(sent_at) - len(samples),
        achieved_rate=total_count / took,
        drained=drained,
        mix=mix,
        stack=stack_name,
    )
    progress(
        f"  {stack_name}, {mix} mix, {rate:,}/s for {seconds:.0f}s: submission → alert.raised "
        f"p50 {result.p50 * 1000:.1f} ms, p99 {result.p99 * 1000:.1f} ms, max {result.latency.max * 1000:.1f} ms "
        f"({len(samples)} of {len(sent_at)} incidents)"
    )
    return result


async def quiet(nc: Client, stack: Stack, timeout: float) -> None:
    from duban.bus import wait_quiet

    await wait_quiet(nc, stack.settings.topology, timeout=timeout)


@dataclass
class PipelineResults:
    throughput: ThroughputResult
    latencies: list[LatencyResult]
    steady: SteadyResult | None = None


async def measure(
    *,
    nats_url: str,
    nats_pid: int,
    database_url: str,
    namespace: str,
    home: Path,
    count: int,
    budget: float,
    rates: tuple[int, ...],
    seconds: float,
    steady_seconds: float = 10.0,
    steady_trials: int = 6,
    progress: Callable[[str], None] = print,
) -> PipelineResults:
    progress("  starting the four services (runtime Stack) …")
    async with isolated_stack(
        nats_url=nats_url, database_url=database_url, namespace=f"{namespace}t", home=home / "throughput"
    ) as stack:
        result = await throughput(stack, nats_pid, Workload(f"{namespace}-t"), count, budget=budget, progress=progress)
        progress(
            f"  throughput: {result.completed:,} of {result.submissions:,} submissions through in "
            f"{result.seconds:.1f}s = {result.rate:,.0f}/s"
            + ("" if result.drained else " (not drained within the budget)")
        )
    steady = None
    if steady_trials:  # on a fresh stack: the burst may have left a backlog behind
        progress("  starting a fresh stack for the steady-rate search …")
        async with isolated_stack(
            nats_url=nats_url, database_url=database_url, namespace=f"{namespace}s", home=home / "steady"
        ) as stack:
            steady = await search(
                stack,
                Workload(f"{namespace}-s"),
                start=int(result.rate * 0.9) if result.rate == result.rate else 500,
                seconds=steady_seconds,
                trials=steady_trials,
                progress=progress,
            )
    latencies: list[LatencyResult] = []
    progress("  starting a fresh stack for the latency runs …")
    async with isolated_stack(
        nats_url=nats_url, database_url=database_url, namespace=f"{namespace}l", home=home / "latency"
    ) as stack:
        # the realistic mix first: a rate the stress mix saturates would leave it a backlog
        realistic = workload_of(f"{namespace}-r", "realistic")
        latencies.append(await latency(stack, realistic, rates[0], seconds, mix="realistic", progress=progress))
        workload = Workload(f"{namespace}-l")
        for rate in rates:
            if latencies[1:] and latencies[-1].saturated:
                progress(f"  {rate:,}/s skipped: the pipeline did not keep up with {latencies[-1].rate:,}/s")
                latencies.append(LatencyResult(rate, seconds, 0, 0, Latency([]), 0, float("nan"), False, True))
                continue
            latencies.append(await latency(stack, workload, rate, seconds, progress=progress))
    return PipelineResults(result, latencies, steady)


async def connect(url: str) -> Client:
    return await nats.connect(url, name="duban-bench")
