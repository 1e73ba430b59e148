"""`python -m bench` (`make bench`): every benchmark in one run, one table of ratios, bench/RESULTS.md.

    .venv/bin/python -m bench                 # everything, about 15 minutes on 2 cores
    .venv/bin/python -m bench --quick         # smaller loads, to try the harness
    .venv/bin/python -m bench --only raw,reports
    .venv/bin/python -m bench --only latency  # alert latency on the default stack (SQLite)
    .venv/bin/python -m bench --only once     # `duban up --once`, timed (--quick: January only)

Phases: normalise, raw (the limit), usecases, pipeline (PostgreSQL: a burst, the highest steady rate,
latency at rising rates in the stress and realistic mixes), latency (the default stack), reports
(annual report vs GROUP BY), once (`make run ONCE=1`), profile. The table of issue 14's targets is
written at the top of bench/RESULTS.md.

Environment: DUBAN_BENCH_DATABASE_URL picks the PostgreSQL (default: 127.0.0.1:5432/test if it answers,
else a throw-away cluster via initdb/pg_ctl). NATS is always a fresh nats-server from the wheel.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from datetime import date
from pathlib import Path
from typing import Any

from . import defaults, once, pipeline, profile, raw, reports, usecases
from .bench_normalise import measure as measure_normalise
from .machine import Machine
from .results import Results, markdown, started_now, table
from .servers import nats_server, nats_version, postgres_server, postgres_settings, postgres_version
from .workload import sample_payloads, year_incident_share

HERE = Path(__file__).parent
OUT = HERE / "out"
PHASES = ("raw", "pipeline", "latency", "reports", "once", "normalise", "usecases", "profile")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small loads: check the harness in about 3 minutes")
    parser.add_argument("--only", default=",".join(PHASES), help=f"comma-separated subset of {', '.join(PHASES)}")
    parser.add_argument("--count", type=int, help="submissions in the throughput run (default 20,000)")
    parser.add_argument("--budget", type=float, help="seconds the throughput run may take (default 90)")
    parser.add_argument("--rates", help="latency rates per second, comma-separated (default 500,1000,2000)")
    parser.add_argument("--seconds", type=float, help="seconds per latency rate (default 10)")
    parser.add_argument("--report-rows", type=int, help="progress events for the report benchmark (default 1,000,000)")
    parser.add_argument("--profile-count", type=int, help="submissions in the profiled run (default 3,000)")
    parser.add_argument("--steady-seconds", type=float, help="seconds per steady-rate trial (default 10)")
    parser.add_argument("--steady-trials", type=int, help="steady-rate trials at most (default 5; 0: none)")
    parser.add_argument("--until", type=date.fromisoformat, help="`duban up --once --until` (default: the year)")
    parser.add_argument("--no-write", action="store_true", help="print the table but leave bench/RESULTS.md alone")
    args = parser.parse_args()
    quick = args.quick
    args.count = args.count or (3_000 if quick else 20_000)
    args.budget = args.budget or (60.0 if quick else 90.0)
    args.rates = tuple(int(r) for r in (args.rates or "500,1000,2000").split(","))
    args.seconds = args.seconds or (4.0 if quick else 10.0)
    args.report_rows = args.report_rows or (100_000 if quick else 1_000_000)
    args.profile_count = args.profile_count or (1_000 if quick else 3_000)
    args.steady_seconds = args.steady_seconds or (4.0 if quick else 10.0)
    args.steady_trials = args.steady_trials if args.steady_trials is not None else (3 if quick else 5)
    args.until = args.until or (date(2023, 1, 31) if quick else None)
    args.raw_count = 10_000 if quick else 20_000
    args.usecase_count = 2_560 if quick else 5_120
    args.usecase_budget = 10.0 if quick else 20.0
    args.phases = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = set(args.phases) - set(PHASES)
    if unknown:
        parser.error(f"unknown phase(s): {', '.join(sorted(unknown))}")
    return args


def say(message: str) -> None:
    print(message, flush=True)


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return _plain(asdict(value))
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items() if not str(k).startswith("_")}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def write_results(results: Results, seconds: float) -> None:
    results.seconds = seconds
    (HERE / "RESULTS.md").write_text(markdown(results), encoding="utf-8")


async def run(args: argparse.Namespace) -> Results:
    OUT.mkdir(exist_ok=True)
    run_id = f"bench{uuid.uuid4().hex[:6]}"
    home = OUT / run_id
    started = time.perf_counter()
    with postgres_server() as database_url, nats_server() as (nats_url, nats_process):
        results = Results(
            machine=Machine.describe(),
            nats_version=nats_version(),
            postgres_version=postgres_version(database_url),
            postgres_settings=postgres_settings(database_url),
            started=started_now(),
        )
        results.settings = {
            "throughput submissions": f"{args.count:,}",
            "throughput budget": f"{args.budget:.0f}s",
            "latency rates": "/".join(f"{r:,}" for r in args.rates) + f" per second for {args.seconds:.0f}s each",
            "report rows": f"{args.report_rows:,}",
            "workload": "stress mix: 80% progress on 10 cumulative targets from schools and sections, 20% drownings "
            "with a death; realistic mix: incidents as often as in the simulated year "
            f"({year_incident_share():.1%}), the rest progress",
            "steady rate": f"up to {args.steady_trials} trials of {args.steady_seconds:.0f}s",
            "DUBAN_FETCH_BATCH": "256 (default)",
        }
        say(f"duban benchmarks — NATS {nats_url}, PostgreSQL {database_url.rsplit('@', 1)[-1]}, run {run_id}")

        async def phase(name: str, body: Callable[[], Any]) -> None:
            if name not in args.phases:
                return
            say(f"[{time.perf_counter() - started:5.0f}s] {name} …")
            results.busy.start(name)
            try:
                await body()
            finally:
                results.busy.stop()
                if not args.no_write:  # so far: a run stopped early still leaves what it measured
                    write_results(results, time.perf_counter() - started)

        async def normalise() -> None:
            results.normalise = await asyncio.to_thread(measure_normalise, 10_000, 3)
            say(f"  normalise: {results.normalise.median:,.0f} messages/s per core")

        async def raw_limit() -> None:
            submission, event = sample_payloads()
            results.raw = await raw.measure(
                nats_url, {"submission": submission, "event": event}, count=args.raw_count, progress=say
            )

        async def use_cases() -> None:
            results.usecases = await usecases.measure(
                database_url, f"{run_id}u", count=args.usecase_count, budget=args.usecase_budget, progress=say
            )

        async def the_pipeline() -> None:
            results.pipeline = await pipeline.measure(
                nats_url=nats_url,
                nats_pid=nats_process.pid,
                database_url=database_url,
                namespace=run_id,
                home=home,
                count=args.count,
                budget=args.budget,
                rates=args.rates,
                seconds=args.seconds,
                steady_seconds=args.steady_seconds,
                steady_trials=args.steady_trials,
                progress=say,
            )

        async def default_stack_latency() -> None:
            results.defaults = await defaults.measure(
                nats_url=nats_url, namespace=f"{run_id}d", home=home / "defaults", seconds=args.seconds, progress=say
            )

        async def make_run_once() -> None:
            results.once = await once.measure(args.until)
            o = results.once
            say(
                f"  duban up --once{' --until ' + str(o.until) if o.until else ''}: {o.wall_seconds:.0f}s "
                f"(replay {o.replay_seconds:.0f}s), exit {o.exit_code}, {o.reports} report files"
                + ("" if o.same_reports is None else f", identical to before: {o.same_reports}")
            )

        async def report_aggregation() -> None:
            results.reports = await reports.measure(database_url, f"{run_id}r", rows=args.report_rows, progress=say)

        async def profiles() -> None:
            results.profiles = await profile.measure(
                nats_url=nats_url,
                database_url=database_url,
                namespace=f"{run_id}p",
                home=home,
                count=args.profile_count,
                budget=min(args.budget, 45.0),
                progress=say,
            )

        # issue 14's table first (raw: the limit its ratios are to), then the rest
        await phase("raw", raw_limit)
        await phase("pipeline", the_pipeline)
        await phase("latency", default_stack_latency)
        await phase("reports", report_aggregation)
        await phase("once", make_run_once)
        await phase("normalise", normalise)
        await phase("usecases", use_cases)
        await phase("profile", profiles)
    results.seconds = time.perf_counter() - started
    home.mkdir(parents=True, exist_ok=True)
    (home / "results.json").write_text(json.dumps(_plain(results), default=str, indent=1), encoding="utf-8")
    return results


def main() -> None:
    args = parse_args()
    results = asyncio.run(run(args))
    say("")
    say("\n".join(table(results)))
    say("")
    if not args.no_write:
        (HERE / "RESULTS.md").write_text(markdown(results), encoding="utf-8")
        say(f"written: {HERE / 'RESULTS.md'} ({results.seconds / 60:.1f} minutes)")


if __name__ == "__main__":
    main()
