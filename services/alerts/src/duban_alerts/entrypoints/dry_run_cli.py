"""`duban alerts dry-run --rules FILE --from DATE --to DATE`: a candidate rule set over last year's events.

Reads the stored events (the EVENTS stream) and replays them through the candidate rules in memory
(`usecases.dry_run`): nothing is published, stored or sent. Prints, per rule, what the candidate would
have raised and resolved against what the running rules did, and writes the same as JSON.
"""

from __future__ import annotations

import asyncio
import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from duban_contracts.plan import load_plan
from duban_contracts.subjects import Subjects
from duban_kit.cli import client, home, namespace

from ..adapters.history import stored_events
from ..domain import load_rules, plan_targets
from ..usecases.dry_run import DryRun, dry_run

console = Console()


def dry_run_command(
    rules: Annotated[Path, typer.Option("--rules", help="The candidate rules (a rules.yaml).", exists=True)],
    first: Annotated[str, typer.Option("--from", help="First day counted (YYYY-MM-DD, Asia/Shanghai).")],
    last: Annotated[str, typer.Option("--to", help="Last day counted (YYYY-MM-DD).")],
    plan: Annotated[Path | None, typer.Option(help="The plan whose deadlines are watched (default bundled).")] = None,
    out: Annotated[
        Path | None, typer.Option(help="Where to write the JSON (default out/dry-run-FROM-TO.json).")
    ] = None,
) -> None:
    """Replay the stored events of a period through candidate rules, without notifying anyone."""
    try:
        candidate = load_rules(rules)
    except ValueError as error:
        raise typer.BadParameter(f"{rules}: {error}", param_hint="--rules") from None
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    if end < start:
        raise typer.BadParameter("--to is before --from")
    loaded = load_plan(plan)

    async def read() -> list:  # type: ignore[type-arg]
        async with client() as nc:
            return await stored_events(nc, Subjects(namespace()))

    result = dry_run(
        asyncio.run(read()), candidate, plan_targets(loaded, active_from=loaded.published), first=start, last=end
    )
    path = out or home() / "out" / f"dry-run-{start}-{end}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result.as_json(), ensure_ascii=False, indent=2), encoding="utf-8")
    _print(result)
    console.print(f"JSON: {path}")


def _print(result: DryRun) -> None:
    table = Table(title=f"规则试运行 dry-run {result.first} – {result.last}（未发送任何通知）")
    for column in ("rule", "would raise", "was raised", "Δ", "would resolve", "was resolved"):
        table.add_column(column, justify="left" if column == "rule" else "right")
    for rule, outcome in sorted(result.rules.items()):
        delta = outcome.difference
        shown = f"[red]+{delta}[/]" if delta > 0 else f"[green]{delta}[/]" if delta < 0 else "0"
        table.add_row(
            rule,
            str(outcome.would_raise),
            str(outcome.was_raised),
            shown,
            str(outcome.would_resolve),
            str(outcome.was_resolved),
        )
    console.print(table)
    console.print(
        f"{result.events_read} events read, {result.facts_applied} facts replayed; "
        f"{result.notifications} notifications would have gone out (none sent)."
    )
