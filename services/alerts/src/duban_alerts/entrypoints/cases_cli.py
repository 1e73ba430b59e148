"""`duban cases list [--open] [--json]`: 信访 cases and 12345 work orders with their state and due date.

The alerts service keeps the cases' clocks, so it answers (`<ns>.v1.alerts.cases`, request/reply).
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from duban_contracts.rpc import CasesQuery
from duban_contracts.subjects import Subjects
from duban_kit.cli import namespace, print_json, request

cases_app = typer.Typer(help="信访 / 12345 cases: list them with their due dates.", no_args_is_help=True)
console = Console()


def register(app: typer.Typer) -> None:
    app.add_typer(cases_app, name="cases")


@cases_app.command("list")
def list_cases(
    open_only: Annotated[bool, typer.Option("--open", help="Only cases still being handled.")] = False,
    as_of: Annotated[str | None, typer.Option(help="Judge due dates on this day (YYYY-MM-DD).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The cases by case number, with the clock that matters now and its due date."""
    query = CasesQuery(open_only=open_only, as_of=date.fromisoformat(as_of) if as_of else None)
    reply: Any = asyncio.run(request(Subjects(namespace()).rpc("alerts", "cases"), query))
    if as_json:
        print_json(reply["cases"])
        return
    table = Table(title=f"信访件 / cases ({len(reply['cases'])}), {reply['as_of']}")
    for column in ("case", "channel", "category", "unit", "state", "clock", "due", "stage"):
        table.add_column(column)
    for case in reply["cases"]:
        due = case["due"] or ""
        table.add_row(
            case["case_id"],
            case["channel"],
            case["category"],
            case["unit_name"],
            case["state"],
            case["clock"] or "",
            f"[red]{due}[/]" if case["overdue"] else due,
            case["stage"] or "",
        )
    console.print(table)
