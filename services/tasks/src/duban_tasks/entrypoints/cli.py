"""`duban plan …`: show the plan, import one from Chinese text, ask where it stands."""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from duban_contracts.plan import Plan, load_plan
from duban_contracts.plan.wording import shown_tallies
from duban_contracts.rpc import StatusQuery
from duban_contracts.subjects import Subjects
from duban_kit.cli import namespace, print_json, request

if TYPE_CHECKING:
    from ..domain.plan_import import ImportResult

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
    file: Annotated[Path, typer.Argument(help="A Chinese work-plan text (UTF-8), or a task table (.xlsx, .docx).")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the draft plan's targets (or the score) as JSON.")
    ] = False,
    year: Annotated[int | None, typer.Option(help="The plan year, if the text does not say.")] = None,
    gold_file: Annotated[
        Path | None,
        typer.Option("--score", help="A gold reading (YAML): print precision and recall against it instead."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write the draft as a plan file (YAML) to review; unread phrases as comments."),
    ] = None,
) -> None:
    """Read a work plan (text or task table) and print a draft plan, with the phrases it could not read."""
    from ..domain.plan_import.writing import plan_yaml

    result = _imported(file, year)
    if gold_file is not None:
        _score_command(file, gold_file, result, as_json=as_json)
        return
    if out is not None:
        out.write_text(plan_yaml(result, source=file.name), encoding="utf-8")
        console.print(f"已写入 / written: {out} — {len(result.placed_targets)} 项指标, {len(result.unread)} 处未读")
        return
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
            console.print(f"  任务{phrase.task_no}: {phrase.text} — {phrase.reason}", markup=False)


def _imported(file: Path, year: int | None) -> ImportResult:
    """The draft plan in `file`; a file that cannot be read is a usage error naming the file."""
    from ..domain.plan_import.documents import import_document

    try:
        return import_document(file.read_bytes(), suffix=file.suffix, year=year)
    except OSError as error:
        raise typer.BadParameter(f"无法读取 / cannot read {file}: {error.strerror}", param_hint="FILE") from error
    except ValueError as error:
        raise typer.BadParameter(f"{file}: {error}", param_hint="FILE") from error


def _score_command(file: Path, gold_file: Path, result: ImportResult, *, as_json: bool) -> None:
    """Score the draft of `file` against the gold reading."""
    from ..domain.plan_import import GoldError, load_gold, score_plan

    try:
        gold = load_gold(gold_file.read_text(encoding="utf-8"), source=str(gold_file))
    except GoldError as error:
        raise typer.BadParameter(str(error), param_hint="--score") from error
    scored, read_year = score_plan(result.plan, gold), result.plan.year
    if as_json:
        print_json({"file": str(file), "gold": str(gold_file), "year": read_year, "gold_year": gold.year,
                    **scored.as_dict()})  # fmt: skip
        return
    console.print(f"{file.name}: {scored.summary()}")
    if read_year != gold.year:
        console.print(f"[yellow]年份不符 / year differs: read {read_year}, gold {gold.year}[/]")
    for label, targets in (("漏读 missed", scored.missed), ("多读 spurious", scored.spurious)):
        for target in targets:
            console.print(f"  {label}: {target.line()}", markup=False)
    for found, expected in scored.kind_mismatches:
        console.print(f"  类型不符 kind: {found.kind.value} ≠ {expected.line()}", markup=False)


@plan_app.command("check")
def check_command(
    plan_file: Annotated[Path, typer.Argument(help="A plan file (YAML), e.g. one written by plan import --out.")],
) -> None:
    """Validate a plan file: schema, unique ids, dues inside the plan year, duplicate targets."""
    from ..domain.plan_import.checking import check_plan_text

    try:
        text = plan_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise typer.BadParameter(f"无法读取 / cannot read {plan_file}: {error}", param_hint="PLAN_FILE") from error
    checked = check_plan_text(text)
    for problem in checked.problems:
        typer.echo(f"{plan_file}:{problem}", err=True)
    if checked.plan is None:
        typer.echo(f"{plan_file}: {len(checked.problems)} 处错误 / problems", err=True)
        raise typer.Exit(code=1)
    plan = checked.plan
    tasks = [task for _, task in plan.tasks()]
    counts = f"{len(plan.sections)} 部分, {len(tasks)} 项任务, {sum(len(task.targets) for task in tasks)} 项指标"
    typer.echo(f"{plan_file}: 通过 / ok — {plan.year}, {counts}")


@plan_app.command("status")
def status(
    as_of: Annotated[str | None, typer.Option("--as-of", help="A date (end of that day) or ISO time.")] = None,
    level: Annotated[str, typer.Option(help="plan, section, task or target.")] = "plan",
    ref: Annotated[str | None, typer.Option(help="Section (一…九), task number or target id.")] = None,
    wide: Annotated[
        bool, typer.Option("--wide", help="More columns: level, 完成率, 序时进度, actual, owners.")
    ] = False,
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
    print_view(reply["view"], reply["as_of"], wide=wide)


#: How far a target id may take its column in a table that must fit the terminal (`--wide` shows it whole).
ID_WIDTH = 14


def print_view(view: dict[str, Any], as_of: str, *, wide: bool = False) -> None:
    """The view as a table that fits the terminal: titles first and wrapped, never cut; ids last and shortened."""
    console.print(
        f"[bold]{view['title']}[/] — as of {as_of}: {view['status_zh']} "
        f"(完成 {view['completion']:.0%}, 序时进度 {view['expected']:.0%})"
    )
    if counts := view.get("counts"):  # in a leader's order and words: a broken rule is 约束性指标未达标
        console.print("  " + "，".join(f"{t.heading_zh} {counts.get(t.value, 0)}" for t in shown_tallies(counts)))
    table = Table(pad_edge=False)
    table.add_column("名称", overflow="fold", ratio=3, min_width=12)
    table.add_column("状态", overflow="fold", min_width=4)
    table.add_column("完成情况", overflow="fold", ratio=2, min_width=10)
    if wide:
        for column in ("完成率", "序时进度", "actual", "责任单位"):
            table.add_column(column, overflow="fold")
        table.add_column("编号", no_wrap=True)
    else:
        table.add_column("编号", no_wrap=True, overflow="ellipsis", max_width=ID_WIDTH)
    for child in _flatten(view.get("children", [])):
        colour = STATUS_COLOURS.get(child["status"], "white")
        cells = [title_cell(child), f"[{colour}]{child['status_zh']}[/]", figure_cell(child)]
        if wide:
            paced = child.get("paced", True)
            actual = "" if child.get("actual") is None else f"{child['actual']:g}"
            cells += [
                f"{child['completion']:.0%}" if paced else "—",
                f"{child['expected']:.0%}" if paced else "—",
                actual,
                "、".join(child.get("responsible") or []),
            ]
        cells.append(child["ref"] if child["level"] == "target" else "")
        table.add_row(*cells)
    console.print(table)


def title_cell(view: dict[str, Any]) -> str:
    """一、section · 　1. task · 　　· target: the number goes with the title, as the plan writes it."""
    title = str(view["title"])
    match view["level"]:
        case "section":
            return f"{view['ref']}、{title}"
        case "task":
            return f"　{view['ref']}.{title}"  # no space: a wrap there would leave the number alone
        case _:
            return f"　　·{title}"


def figure_cell(view: dict[str, Any]) -> str:
    """完成率 against 序时进度 where it speaks of the row, else the target's figure in its kind's words."""
    if view.get("paced", True) or not view.get("figure_zh"):
        return f"{view['completion']:.0%} / 序时{view['expected']:.0%}"
    return str(view["figure_zh"])


def _flatten(views: list[dict[str, Any]]) -> list[dict[str, Any]]:
    flat: list[dict[str, Any]] = []
    for view in views:
        flat.append(view)
        flat.extend(_flatten(view.get("children", [])))
    return flat
