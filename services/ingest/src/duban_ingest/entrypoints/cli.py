"""`duban submit FILE`, `duban units list`, `duban ingest rejected|replay`."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path
from typing import Annotated

import typer

from duban_contracts.subjects import Subjects
from duban_kit.cli import client, namespace, print_json, request

from ..adapters.inbound import file_row, publish_submissions
from ..domain.registry import UnitRegistry, registry_as_json
from ..domain.spreadsheets import FileLimits, FileRejection, read_table

units_app = typer.Typer(help="The registry of reporting units.", no_args_is_help=True)
ingest_app = typer.Typer(help="Rejected submissions: list them, re-run one after a correction.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("submit")(submit)
    app.add_typer(units_app, name="units")
    app.add_typer(ingest_app, name="ingest")


def submit(
    file: Annotated[Path, typer.Argument(help="A CSV (UTF-8, UTF-8 with BOM or GB18030) or XLSX file.")],
    source: Annotated[str | None, typer.Option(help="The reporting unit, for rows that do not name one.")] = None,
    kind: Annotated[
        str | None, typer.Option(help="progress, incident, measurement or activity, for rows that do not say.")
    ] = None,
) -> None:
    """Publish every row of a spreadsheet as its own submission (id: the file's sha256 and the row number)."""
    data = file.read_bytes()
    table = read_table(data, file.name, FileLimits())
    if isinstance(table, FileRejection):
        where = f" (row {table.row})" if table.row else ""
        raise SystemExit(f"{file}: {table.code}{where}: {table.message_zh} / {table.message_en}")
    file_id = hashlib.sha256(data).hexdigest()
    rows = [file_row(file_id, row.number, row.values, source, kind) for row in table.rows]

    async def run() -> tuple[int, int]:
        async with client() as nc:
            summary = await publish_submissions(nc.jetstream(), Subjects(namespace()), rows)
        return summary.published, summary.duplicates

    published, duplicates = asyncio.run(run())
    skipped = f", {len(table.skipped)} rows skipped (blank or totals)" if table.skipped else ""
    print(f"{file}: {published} rows published, {duplicates} already sent before{skipped}; file id {file_id}")


@units_app.command("list")
def list_units(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    registry_file: Annotated[
        Path | None, typer.Option("--registry", help="A registry file; default the bundled one.")
    ] = None,
) -> None:
    """Every reporting unit: id, name, kind, township, stage, aliases."""
    units = registry_as_json(UnitRegistry.load(registry_file))
    if as_json:
        print_json(units)
        return
    for unit in units:
        where = " ".join(str(unit.get(k) or "") for k in ("township", "stage")).strip()
        print(f"{unit['id']:<20} {unit['kind']:<8} {unit['name']}  {where}")


@ingest_app.command("rejected")
def rejected(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    limit: Annotated[int, typer.Option(help="At most this many.")] = 500,
) -> None:
    """Rejected submissions, oldest first, with every reason."""
    reply = asyncio.run(request(Subjects(namespace()).rpc("ingest", "query"), {"what": "rejected", "limit": limit}))
    items = reply["rejected"]
    if as_json:
        print_json(items)
        return
    for item in items:
        where = f" row {item['row']}" if item.get("row") else ""
        for reason in item["reasons"]:
            print(f"{item['submission_id']}{where}: {reason['code']} [{reason.get('field')}] {reason['message_zh']}")


@ingest_app.command("replay")
def replay(submission_id: Annotated[str, typer.Argument(help="The rejected submission's id.")]) -> None:
    """Re-run a rejected submission from the inbound stream (after the registry or plan was corrected)."""
    reply = asyncio.run(request(Subjects(namespace()).rpc("ingest", "replay"), {"submission_id": submission_id}))
    print(json.dumps(reply, ensure_ascii=False, indent=2))
    if not reply.get("ok"):
        raise typer.Exit(1)
