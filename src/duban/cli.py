"""The `duban` command: run the system, provision it, and the services' own commands (as plugins)."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Iterable
from datetime import date
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.columns import Columns
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from duban_contracts.plan.wording import shown_tallies
from duban_kit.cli import print_json, write_runtime_info
from duban_kit.logs import configure_logging
from duban_kit.provision import provision as provision_topology

from . import dlq as dlq_commands
from .bus import connect, publish_tick
from .runtime import Stack, StopSignals, drain, feed_sample, keep_serving, out_dir, sample_day
from .settings import RuntimeSettings

if TYPE_CHECKING:
    from .replay import ReplayOutcome, ReplayProgress, YearSummary
    from .simulate import SimulatedYear

app = typer.Typer(
    name="duban",
    help="督办 duban: supervise and follow up a bureau's annual work plan.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(stderr=True)

FEEDS = ("year", "sample", "none")
#: The quick look's clock jumps to its day in one tick: with the schedule on, the reports service would
#: first write every weekly and monthly report of the months before it. The sample asks for one report.
UNSCHEDULED = {f"DUBAN_SCHEDULE_{kind}": "" for kind in ("WEEKLY", "MONTHLY", "QUARTERLY", "ANNUAL")}
DEFAULT_SEED = 2023


@app.command()
def up(
    once: Annotated[bool, typer.Option(help="Exit 0 once the fed data has gone all the way through.")] = False,
    feed: Annotated[
        str,
        typer.Option(help="What to feed in: year (the simulated year, replayed), sample (a few submissions) or none."),
    ] = "year",
    seed: Annotated[
        int, typer.Option(help="Seed of the simulated year (the same seed, the same year).")
    ] = DEFAULT_SEED,
    until: Annotated[
        str | None, typer.Option(help="Replay the simulated year only up to this date (YYYY-MM-DD).")
    ] = None,
) -> None:
    """Start NATS (embedded unless DUBAN_NATS_URL), provision, run the four services; Ctrl-C stops."""
    if feed not in FEEDS:
        raise typer.BadParameter(f"--feed must be one of {', '.join(FEEDS)}")
    settings = RuntimeSettings()
    log_file = log_to_file_and_warn_in_words(settings.var_dir / "log" / "runtime.log")
    console.print(f"logs: {log_file.parent}/ (JSON lines; this terminal shows progress, the summary and warnings)")
    last_day = date.fromisoformat(until) if until else None
    code = asyncio.run(_up_until_stopped(settings, once=once, feed=feed, seed=seed, until=last_day))
    raise typer.Exit(code)


def log_to_file_and_warn_in_words(path: Path) -> Path:
    """JSON log lines to `path` only; on the terminal, warnings and errors as one plain sentence each.

    A newcomer reading `make run` should see the progress bar and the summary, not machine logs: the
    JSON lines (the services' own are in the same directory) are for operators and log shippers.
    """
    configure_logging("runtime", "INFO")
    path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    json_lines = root.handlers[0]
    assert isinstance(json_lines, logging.StreamHandler)
    json_lines.setStream(path.open("a", encoding="utf-8"))
    in_words = logging.StreamHandler(sys.stderr)
    in_words.setLevel(logging.WARNING)
    in_words.setFormatter(logging.Formatter("%(levelname_zh)s: %(message)s"))
    in_words.addFilter(_plain_level)
    root.addHandler(in_words)
    return path


def _plain_level(record: logging.LogRecord) -> bool:
    record.levelname_zh = {"WARNING": "注意 warning", "ERROR": "错误 error", "CRITICAL": "严重 critical"}.get(
        record.levelname, record.levelname.lower()
    )
    return True


async def _up_until_stopped(settings: RuntimeSettings, *, once: bool, feed: str, seed: int, until: date | None) -> int:
    """`_up`, stopped in any phase by Ctrl-C or SIGTERM: 0 when it was serving, 128 + signal when a
    `--once` run was cut short."""
    signals = StopSignals()
    signals.install()
    try:
        return await _up(settings, once=once, feed=feed, seed=seed, until=until, signals=signals)
    except asyncio.CancelledError:
        if signals.received is None:
            raise
        return 128 + signals.received if once else 0


async def _up(
    settings: RuntimeSettings,
    *,
    once: bool,
    feed: str,
    seed: int = DEFAULT_SEED,
    until: date | None = None,
    signals: StopSignals | None = None,
) -> int:
    stack = Stack(settings, service_env={"reports": UNSCHEDULED} if feed == "sample" else {})
    try:
        await stack.start()
        write_runtime_info(
            {
                "nats_url": stack.nats_url,
                "namespace": settings.namespace,
                "ports": stack.ports,
                "runtime_port": stack.runtime_port,
                "api_tokens_file": str(stack.api_tokens.path) if stack.api_tokens.path else None,
            },
            settings.home,
        )
        console.print(f"[bold green]duban is up[/] — NATS {stack.nats_url}, services on ports {stack.ports}")
        _print_api_access(stack)
        if feed == "year":
            await _replay_year(stack, seed=seed, until=until)
        elif feed == "sample":
            from .replay import end_of_day

            day = sample_day()
            async with stack.client() as nc:
                count = await feed_sample(nc, settings)
            console.print(
                f"fed {count} sample submissions; the clock is set to the end of {day:%Y-%m-%d} "
                "(event time inside the plan year, as in the replay — not today) …"
            )
            await drain(stack)
            async with stack.client() as nc:
                await publish_tick(nc, settings.subjects, end_of_day(day), mode="replay")
            await drain(stack)
            await _report_to_date(stack, day)
            await _summarise(stack, day)
        if once:
            return 0
        if stack.console_url:
            console.print(f"[bold]督办台 console:[/] {stack.console_url}")
        if feed == "none":
            console.print("serving; the live clock ticks every minute. Ctrl-C to stop.")
            await keep_serving(stack)
        else:
            # the fed data is of the plan year: a wall clock would judge the 2023 plan against today's date
            console.print("serving; the clock stays on the day shown (event time). Ctrl-C to stop.")
            await asyncio.Event().wait()
        return 0
    finally:
        if signals is not None:
            signals.cleaning = True  # before the first await: a repeated stop must not cut the clean-up short
        await stack.stop()


async def _replay_year(stack: Stack, *, seed: int, until: date | None) -> None:
    """Simulate the plan's year, replay it on the event-time clock with a progress bar, and sum it up."""
    from duban_contracts.plan import load_plan
    from duban_contracts.reporting_units import load_reporting_units

    from .replay import replay, year_summary
    from .simulate import simulate_year

    plan = load_plan()
    year = simulate_year(seed, plan=plan, units=load_reporting_units().units, until=until)
    last_day = until or plan.year_end
    console.print(
        f"replaying the simulated {plan.year} (seed {seed}): {len(year.submissions)} messages and "
        f"{len(year.uploads)} spreadsheets, {year.deliveries[0].local_day} … {last_day}"
    )
    settings = stack.settings
    with _replay_progress() as bar:
        task = bar.add_task("replay", total=(last_day - date(plan.year, 1, 1)).days + 1, day="", sent=0, rejected=0)

        def show(p: ReplayProgress) -> None:
            bar.update(task, completed=p.days_done, day=p.day.isoformat(), sent=p.sent, rejected=p.rejected)

        async with stack.client() as nc:
            outcome = await replay(nc, settings.subjects, settings.topology, year, last_day=last_day, progress=show)
            bar.update(task, day="reports rendered")
            summary = await year_summary(nc, settings.subjects, last_day)
    _print_year(stack, outcome, summary)


def _replay_progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.fields[day]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("days · sent {task.fields[sent]} · rejected {task.fields[rejected]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _print_year(stack: Stack, outcome: ReplayOutcome, summary: YearSummary) -> None:
    import json

    target = out_dir(stack.settings)
    (target / "plan-status.json").write_text(
        json.dumps(summary.plan_status, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    statuses = Table(title=f"指标 / targets as of {summary.as_of}")
    statuses.add_column("status")
    statuses.add_column("targets", justify="right")
    for tally in shown_tallies(summary.targets_by_status):  # a broken rule counts as 未达标, not 严重滞后
        statuses.add_row(f"{tally.heading_zh} {tally.value}", str(summary.targets_by_status.get(tally.value, 0)))
    alerts = Table(title="预警 / alerts by rule")
    alerts.add_column("rule")
    alerts.add_column("raised", justify="right")
    for rule, count in sorted(summary.alerts_by_rule.items(), key=lambda item: (-item[1], item[0])):
        alerts.add_row(rule, str(count))
    rejected = Table(title="退回 / rejected submissions")
    rejected.add_column("code")
    rejected.add_column("count", justify="right")
    for code, count in sorted(summary.rejected_by_code.items(), key=lambda item: (-item[1], item[0])):
        rejected.add_row(code, str(count))
    console.print(Columns([statuses, alerts, rejected]))
    reports_dir = target / "reports"
    mail_dir = target / "mail"
    report_files = sorted(reports_dir.glob("*.*")) if reports_dir.exists() else []
    mails = list(mail_dir.glob("*.eml")) if mail_dir.exists() else []
    console.print(
        f"replayed {outcome.sent} messages ({outcome.files} spreadsheets) and {outcome.ticks} clock ticks "
        f"in {outcome.seconds:.0f}s; {summary.open_alerts} alerts still open"
    )
    waited = ", ".join(f"{what} {seconds:.0f}s" for what, seconds in sorted(outcome.waited.items()))
    if waited:
        console.print(f"  waiting for the pipeline after: {waited}")
    annual = reports_dir / f"{outcome.last_day.year}_annual.html"
    console.print(
        f"reports: {len(report_files)} files in {reports_dir}" + (f" — start with {annual}" if annual.exists() else "")
    )
    console.print(f"e-mails: {len(mails)} in {mail_dir}")
    console.print(f"plan status: {target / 'plan-status.json'}  (or: duban plan status --as-of {summary.as_of})")
    for name, url in stack.urls().items():
        console.print(f"  metrics {name}: {url}")
    _print_api_access(stack)


def _print_api_access(stack: Stack) -> None:
    """The development admin token and where all the tokens are (the API's reads need one)."""
    tokens = stack.api_tokens
    if tokens.path is None:
        console.print("API: bearer tokens from DUBAN_API_TOKENS_FILE / DUBAN_API_TOKENS (yours)")
        return
    console.print(
        f"API: admin token [bold]{tokens.admin}[/] — send `Authorization: Bearer <token>`; "
        f"operator and reader tokens in {tokens.path} (mode 0600)"
    )
    if stack.console_url:
        console.print(f"[bold]督办台 console:[/] {stack.console_url} — sign in with the admin token above")


async def _report_to_date(stack: Stack, day: date) -> None:
    """A report on the plan year up to the day shown (a 阶段报告, as of the end of `day`)."""
    import json

    from duban_contracts.rpc import ReportRequest

    from .reporting import wait_for_reports

    async with stack.client() as nc:
        request = ReportRequest(period=f"{day.year}-01-01..{day:%Y-%m-%d}", formats=["html", "pdf", "xlsx", "md"])
        reply = await nc.request(
            stack.settings.subjects.rpc("reports", "generate"), request.model_dump_json().encode(), timeout=30
        )
        if not json.loads(reply.data).get("ok"):
            raise RuntimeError(f"report refused: {reply.data!r}")
        await wait_for_reports(nc, stack.settings.subjects)


async def _summarise(stack: Stack, day: date) -> None:
    import json

    from duban_contracts.rpc import AggregateQuery, StatusQuery

    async with stack.client() as nc:
        status = json.loads(
            (
                await nc.request(
                    stack.settings.subjects.rpc("tasks", "query"), StatusQuery().model_dump_json().encode(), timeout=30
                )
            ).data
        )
        summary = json.loads(
            (
                await nc.request(
                    stack.settings.subjects.rpc("reports", "query"),
                    AggregateQuery(name="summary").model_dump_json().encode(),
                    timeout=30,
                )
            ).data
        )
    target = out_dir(stack.settings)
    (target / "plan-status.json").write_text(json.dumps(status, ensure_ascii=False, indent=2), encoding="utf-8")
    (target / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    table = Table(title=f"计划执行情况 / plan status as of {day:%Y-%m-%d}")
    table.add_column("status")
    table.add_column("targets", justify="right")
    counts = status["view"]["counts"]
    for tally in shown_tallies(counts):  # a broken rule counts as 未达标, not 严重滞后
        table.add_row(f"{tally.heading_zh} {tally.value}", str(counts.get(tally.value, 0)))
    console.print(table)
    console.print(f"showing the plan as it stood at the end of {day.year}年{day.month}月{day.day}日 (event time)")
    console.print(
        f"submissions: {summary['submissions']}; incidents: {summary['incidents']}; "
        f"open alerts: {summary['open_alerts']}"
    )
    console.print(f"written: {target / 'plan-status.json'}, {target / 'summary.json'}")
    report = target / "reports" / f"{day.year}-01-01_{day:%Y-%m-%d}_adhoc.html"  # asked for by _report_to_date
    if report.exists():
        console.print(f"report: {report} (also .pdf, .xlsx, .md)")
    for name, url in stack.urls().items():
        console.print(f"  metrics {name}: {url}")
    _print_api_access(stack)


@app.command()
def provision() -> None:
    """Create or update the streams and durable consumers (idempotent)."""
    configure_logging("runtime", "WARNING")
    settings = RuntimeSettings()

    async def run() -> None:
        async with connect(settings) as nc:
            report = await provision_topology(nc, settings.topology)
        print_json({"created": report.created, "updated": report.updated, "unchanged": report.unchanged})

    asyncio.run(run())


app.add_typer(dlq_commands.app, name="dlq")

tokens_app = typer.Typer(help="Bearer tokens of the HTTP API.", no_args_is_help=True)
app.add_typer(tokens_app, name="tokens")


@tokens_app.command("init")
def tokens_init(
    file: Annotated[Path, typer.Argument(help="The tokens file to make (DUBAN_API_TOKENS_FILE).")],
    reader_token_file: Annotated[
        Path | None, typer.Option(help="Also write the reader's token alone here (Prometheus's credentials_file).")
    ] = None,
    owner: Annotated[str | None, typer.Option(help="UID:GID to give the tokens file (needs root).")] = None,
    reader_owner: Annotated[str | None, typer.Option(help="UID:GID to give the reader's token file.")] = None,
) -> None:
    """Make a tokens file once — random admin, operator and reader tokens, mode 0600 — or keep the one there."""
    from .runtime import ensure_token_file

    made = ensure_token_file(file)
    _chown(file, owner)
    print(f"{'made' if made else 'kept'} {file} (admin, operator, reader; mode 0600)")
    if reader_token_file is not None:
        from duban_kit.tokens import Role, load_tokens

        reader = next(token for token, who in load_tokens(file, None).items() if who.role is Role.READER)
        descriptor = os.open(reader_token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as sink:
            sink.write(reader + "\n")
        reader_token_file.chmod(0o600)
        _chown(reader_token_file, reader_owner)
        print(f"wrote the reader's token to {reader_token_file} (mode 0600)")


def _chown(path: Path, owner: str | None) -> None:
    if owner:
        uid, _, gid = owner.partition(":")
        os.chown(path, int(uid), int(gid or uid))


simulate_app = typer.Typer(
    help="The simulated year: write it out for inspection, or generate load for benchmarks.",
    invoke_without_command=True,
)
app.add_typer(simulate_app, name="simulate")


@simulate_app.callback()
def simulate(
    ctx: typer.Context,
    seed: Annotated[int, typer.Option(help="The same seed gives the same year, byte for byte.")] = DEFAULT_SEED,
    until: Annotated[str | None, typer.Option(help="Stop after this date (YYYY-MM-DD).")] = None,
    out: Annotated[Path | None, typer.Option(help="Write the deliveries here (JSON lines and the files).")] = None,
) -> None:
    """Simulate the plan's year for the bundled registry of reporting units and summarise it."""
    if ctx.invoked_subcommand is not None:
        return
    from duban_contracts.plan import load_plan
    from duban_contracts.reporting_units import load_reporting_units

    from .simulate import simulate_year

    year = simulate_year(
        seed,
        plan=load_plan(),
        units=load_reporting_units().units,
        until=date.fromisoformat(until) if until else None,
    )
    if out is not None:
        _write_year(year, out)
    _print_simulated(year, out)


def _write_year(year: SimulatedYear, out: Path) -> None:
    """submissions.jsonl (every message, in order), uploads.jsonl and the spreadsheets under files/."""
    import base64
    import json

    from .simulate import Submission

    files = out / "files"
    files.mkdir(parents=True, exist_ok=True)
    with (
        (out / "submissions.jsonl").open("w", encoding="utf-8") as messages,
        (out / "uploads.jsonl").open("w", encoding="utf-8") as uploads,
    ):
        for number, delivery in enumerate(year.deliveries, start=1):
            if isinstance(delivery, Submission):
                payload = delivery.payload
                line: dict[str, object] = {"at": delivery.at.isoformat(), "id": delivery.submission_id}
                line["intent"] = delivery.intent
                line |= (
                    {"payload": payload}
                    if payload is not None
                    else {"body_base64": base64.b64encode(delivery.body).decode()}
                )
                messages.write(json.dumps(line, ensure_ascii=False) + "\n")
                continue
            name = f"{number:04d}_{delivery.name}"
            (files / name).write_bytes(delivery.data)
            line = {"at": delivery.at.isoformat(), "file": f"files/{name}", "source": delivery.source}
            line |= {"kind": delivery.kind, "intent": delivery.intent, "malformed_rows": dict(delivery.malformed_rows)}
            uploads.write(json.dumps(line, ensure_ascii=False) + "\n")
    (out / "fates.json").write_text(json.dumps(dict(year.fates), ensure_ascii=False, indent=2), encoding="utf-8")


def _print_simulated(year: SimulatedYear, out: Path | None) -> None:
    from collections import Counter

    intents = Counter(d.intent.split(":")[0] for d in year.deliveries)
    kinds = Counter(s.expected.kind for s in year.submissions if s.expected)
    fates = Counter(year.fates.values())
    table = Table(title=f"simulated {year.year} (seed {year.seed})")
    table.add_column("what")
    table.add_column("count", justify="right")
    for name, count in [*intents.most_common(), *kinds.most_common(), *sorted(fates.items())]:
        table.add_row(name, str(count))
    table.add_row("spreadsheets", str(len(year.uploads)))
    Console().print(table)
    if out is not None:
        Console().print(f"written to {out}/ (submissions.jsonl, uploads.jsonl, files/, fates.json)")


@simulate_app.command("load")
def simulate_load(
    units: Annotated[int, typer.Option(help="How many units send (the registry's schools, in turn).")] = 50,
    rate: Annotated[float, typer.Option(help="Submissions per second.")] = 100.0,
    duration: Annotated[float, typer.Option(help="Seconds of load.")] = 10.0,
    seed: Annotated[int, typer.Option(help="Seed of the stream.")] = DEFAULT_SEED,
    publish: Annotated[
        bool, typer.Option(help="Publish to the running system instead of printing JSON lines.")
    ] = False,
) -> None:
    """A steady stream of valid submissions: printed as JSON lines, or published at the given rate."""
    import json

    from .simulate import load_stream

    stream = load_stream(seed, units=units, rate_per_second=rate, duration_seconds=duration)
    if not publish:
        for offset, submission_id, payload in stream:
            print(json.dumps({"at": round(offset, 6), "id": submission_id, "payload": payload}, ensure_ascii=False))
        return
    sent = asyncio.run(_publish_load(stream))
    Console(stderr=True).print(f"published {sent} submissions")


async def _publish_load(stream: Iterable[tuple[float, str, dict[str, object]]]) -> int:
    import json
    import time

    from duban_contracts.inbound import SUBMISSION_ID_HEADER
    from duban_contracts.subjects import Subjects
    from duban_kit.cli import client, namespace

    subjects = Subjects(namespace())
    sent = 0
    async with client() as nc:
        js = nc.jetstream()
        started = time.monotonic()
        pending = []
        for offset, submission_id, payload in stream:
            delay = offset - (time.monotonic() - started)
            if delay > 0:
                await asyncio.sleep(delay)
            body = json.dumps(payload, ensure_ascii=False).encode()
            pending.append(
                await js.publish_async(subjects.inbound_submission, body, headers={SUBMISSION_ID_HEADER: submission_id})
            )
            sent += 1
        await asyncio.gather(*pending)
    return sent


def _load_plugins() -> None:
    for entry in entry_points(group="duban.commands"):
        try:
            register = entry.load()
        except Exception as error:  # a broken plugin must not take the whole command down
            print(f"duban: could not load command {entry.name!r}: {error}", file=sys.stderr)
            continue
        register(app)


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    _load_plugins()
    app()
