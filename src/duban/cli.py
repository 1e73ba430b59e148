"""The `duban` command: run the system, provision it, and the services' own commands (as plugins)."""

from __future__ import annotations

import asyncio
import logging
import sys
from importlib.metadata import entry_points
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.table import Table

from duban_kit.cli import print_json, write_runtime_info
from duban_kit.logs import configure_logging
from duban_kit.provision import provision as provision_topology

from . import dlq as dlq_commands
from .bus import connect
from .runtime import Stack, drain, feed_sample, keep_serving, out_dir
from .settings import RuntimeSettings

app = typer.Typer(
    name="duban",
    help="督办 duban: supervise and follow up a bureau's annual work plan.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(stderr=True)

Feed = Literal["sample", "none"]


@app.command()
def up(
    once: Annotated[bool, typer.Option(help="Exit 0 once the fed data has gone all the way through.")] = False,
    feed: Annotated[str, typer.Option(help="What to feed in: sample (a few bundled submissions) or none.")] = "sample",
) -> None:
    """Start NATS (embedded unless DUBAN_NATS_URL), provision, run the four services; Ctrl-C stops."""
    configure_logging("runtime", "INFO")
    settings = RuntimeSettings()
    code = asyncio.run(_up(settings, once=once, feed=feed))
    raise typer.Exit(code)


async def _up(settings: RuntimeSettings, *, once: bool, feed: str) -> int:
    stack = Stack(settings)
    try:
        await stack.start()
        write_runtime_info(
            {
                "nats_url": stack.nats_url,
                "namespace": settings.namespace,
                "ports": stack.ports,
                "runtime_port": stack.runtime_port,
            },
            settings.home,
        )
        console.print(f"[bold green]duban is up[/] — NATS {stack.nats_url}, services on ports {stack.ports}")
        if feed == "sample":
            async with stack.client() as nc:
                count = await feed_sample(nc, settings)
            console.print(f"fed {count} sample submissions; waiting for them to go through …")
            await drain(stack)
            await _report_to_date(stack)
            await _summarise(stack)
        if once:
            return 0
        console.print("serving; the live clock ticks every minute. Ctrl-C to stop.")
        await keep_serving(stack)
        return 0
    finally:
        await stack.stop()


async def _report_to_date(stack: Stack) -> None:
    """A report on the plan year as it stands (the sample has no clock ticks to schedule reports)."""
    import json

    from duban_contracts.rpc import ReportRequest

    from .reporting import wait_for_reports

    async with stack.client() as nc:
        request = ReportRequest(period="2023", formats=["html", "pdf", "xlsx", "md"])
        reply = await nc.request(
            stack.settings.subjects.rpc("reports", "generate"), request.model_dump_json().encode(), timeout=30
        )
        if not json.loads(reply.data).get("ok"):
            raise RuntimeError(f"report refused: {reply.data!r}")
        await wait_for_reports(nc, stack.settings.subjects)


async def _summarise(stack: Stack) -> None:
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
    table = Table(title="计划执行情况 / plan status")
    table.add_column("status")
    table.add_column("targets", justify="right")
    for name, count in sorted(status["view"]["counts"].items()):
        table.add_row(name, str(count))
    console.print(table)
    console.print(
        f"submissions: {summary['submissions']}; incidents: {summary['incidents']}; "
        f"open alerts: {summary['open_alerts']}"
    )
    console.print(f"written: {target / 'plan-status.json'}, {target / 'summary.json'}")
    for name, url in stack.urls().items():
        console.print(f"  metrics {name}: {url}")


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
