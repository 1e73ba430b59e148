"""`duban plan …`: show the plan, import one from Chinese text, ask where it stands."""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from duban_contracts.plan import Plan, load_plan
from duban_contracts.rpc import StatusQuery
from duban_contracts.subjects import Subjects
from duban_kit.cli import namespace, print_json, request

plan_app = typer.Typer(help="The plan: show it, import one, see where it stands.", no_args_is_help=True)
console = Console()

STATUS_COLOURS = {
    "done": "green",
    "on_track": "green",
    "lagging": "yellow",
    "critical": "red",
    "overdue": "red",
    "not_started": "white",
}


def register(app: typer.Typer) -> None:
    app.add_typer(plan_app, name="plan")


def targets_as_rows(plan: Plan) -> list[dict[str, Any]]:
    return [
        {
            "id": p.target.id,
            "section": p.section.no,
            "task": p.task.no,
            "text": p.target.text,
            "metric": p.target.metric,
            "comparator": p.target.comparator.value,
            "value": p.target.value,
            "unit": p.target.unit,
            "kind": p.target.kind.value,
            "due": p.due.isoformat(),
            "start": p.target.start.isoformat() if p.target.start else None,
            "schedule": p.target.schedule.model_dump() if p.target.schedule else None,
            "responsible": p.target.responsible or p.task.responsible,
            "aliases": p.target.aliases,
        }
        for p in plan.placed_targets()
    ]


@plan_app.command("show")
def show(
    as_json: Annotated[bool, typer.Option("--json", help="Print the targets as a JSON array.")] = False,
    plan_file: Annotated[
        Path | None, typer.Option("--plan", help="A plan file; default the bundled 2023 plan.")
    ] = None,
) -> None:
    """List every target of the loaded plan."""
    plan = load_plan(plan_file)
    rows = targets_as_rows(plan)
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"{plan.title} — {len(rows)} 项指标")
    for column in ("id", "section", "task", "metric", "comparator", "value", "unit", "kind", "due"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            *(str(row[c]) for c in ("id", "section", "task", "metric", "comparator", "value", "unit", "kind", "due"))
        )
    console.print(table)


@plan_app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="A Chinese work-plan text (UTF-8).")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the draft plan's targets (or the score) as JSON.")
    ] = False,
    year: Annotated[int | None, typer.Option(help="The plan year, if the text does not say.")] = None,
    gold_file: Annotated[
        Path | None,
        typer.Option("--score", help="A gold reading (YAML): print precision and recall against it instead."),
    ] = None,
) -> None:
    """Read a work-plan text and print a draft plan, with the phrases it could not read."""
    from ..domain.plan_import import import_plan

    if gold_file is not None:
        _score_command(file, gold_file, year=year, as_json=as_json)
        return
    if file.suffix.lower() in TABLE_SUFFIXES:
        raise typer.BadParameter(TABLES_NOT_READ, param_hint="FILE")
    result = import_plan(file.read_text(encoding="utf-8"), year=year)
    rows = targets_as_rows(result.plan)
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"草案：{result.plan.title} — {len(rows)} 项指标")
    for column in ("task", "text", "comparator", "value", "unit", "kind", "due"):
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(row[c]) for c in ("task", "text", "comparator", "value", "unit", "kind", "due")))
    console.print(table)
    if result.unread:
        console.print(f"[yellow]未能识别的表述 ({len(result.unread)}) / phrases not read:[/]")
        for phrase in result.unread:
            console.print(f"  任务{phrase.task_no}: {phrase.text} — {phrase.reason}")


TABLE_SUFFIXES = (".xlsx", ".xls")
TABLES_NOT_READ = "暂不能读取任务分解表（XLSX），只能读取文本 / task tables (XLSX) are not read yet, only plain text"


def _score_command(file: Path, gold_file: Path, *, year: int | None, as_json: bool) -> None:
    """Import `file` and score it against the gold reading; a table the importer cannot read scores 0."""
    from ..domain.plan_import import GoldError, import_plan, load_gold, score, score_plan

    try:
        gold = load_gold(gold_file.read_text(encoding="utf-8"), source=str(gold_file))
    except GoldError as error:
        raise typer.BadParameter(str(error), param_hint="--score") from error
    note: str | None = None
    if file.suffix.lower() in TABLE_SUFFIXES:
        result, read_year, note = score([], gold.targets), None, TABLES_NOT_READ
    else:
        plan = import_plan(file.read_text(encoding="utf-8"), year=year).plan
        result, read_year = score_plan(plan, gold), plan.year
    if as_json:
        print_json({"file": str(file), "gold": str(gold_file), "year": read_year, "gold_year": gold.year,
                    "note": note, **result.as_dict()})  # fmt: skip
        return
    console.print(f"{file.name}: {result.summary()}")
    if note:
        console.print(f"[yellow]{note}[/]")
    if read_year is not None and read_year != gold.year:
        console.print(f"[yellow]年份不符 / year differs: read {read_year}, gold {gold.year}[/]")
    for label, targets in (("漏读 missed", result.missed), ("多读 spurious", result.spurious)):
        for target in targets:
            console.print(f"  {label}: {target.line()}", markup=False)
    for found, expected in result.kind_mismatches:
        console.print(f"  类型不符 kind: {found.kind.value} ≠ {expected.line()}", markup=False)


@plan_app.command("status")
def status(
    as_of: Annotated[str | None, typer.Option("--as-of", help="A date (end of that day) or ISO time.")] = None,
    level: Annotated[str, typer.Option(help="plan, section, task or target.")] = "plan",
    ref: Annotated[str | None, typer.Option(help="Section (一…九), task number or target id.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the reply as JSON.")] = False,
) -> None:
    """Where the plan stands, now or as of a date (asks the running tasks service)."""
    when: date | datetime | None = None
    if as_of:
        when = datetime.fromisoformat(as_of) if ("T" in as_of or " " in as_of) else date.fromisoformat(as_of)
    query = StatusQuery(level=level, ref=ref, as_of=when)
    reply = asyncio.run(request(Subjects(namespace()).rpc("tasks", "query"), query))
    if as_json:
        print(json.dumps(reply, ensure_ascii=False, indent=2))
        return
    if "error" in reply:
        raise SystemExit(f"{reply['error']}: {reply['message']}")
    _print_view(reply["view"], reply["as_of"])


def _print_view(view: dict[str, Any], as_of: str) -> None:
    console.print(
        f"[bold]{view['title']}[/] — as of {as_of}: {view['status_zh']} "
        f"({view['completion']:.0%} done, {view['expected']:.0%} expected)"
    )
    if view.get("counts"):
        console.print("  " + ", ".join(f"{k}: {v}" for k, v in sorted(view["counts"].items())))
    table = Table()
    for column in ("level", "ref", "title", "status", "completion", "expected", "actual"):
        table.add_column(column)
    for child in _flatten(view.get("children", [])):
        colour = STATUS_COLOURS.get(child["status"], "white")
        actual = "" if child.get("actual") is None else f"{child['actual']:g}"
        table.add_row(
            child["level"],
            child["ref"],
            child["title"],
            f"[{colour}]{child['status_zh']}[/]",
            f"{child['completion']:.0%}",
            f"{child['expected']:.0%}",
            actual,
        )
    console.print(table)


def _flatten(views: list[dict[str, Any]]) -> list[dict[str, Any]]:
    flat: list[dict[str, Any]] = []
    for view in views:
        flat.append(view)
        flat.extend(_flatten(view.get("children", [])))
    return flat
