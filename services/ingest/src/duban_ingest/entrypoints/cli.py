"""`duban submit FILE`, `duban units list`, `duban ingest rejected|replay`."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer

from duban_contracts.subjects import Subjects
from duban_kit.cli import client, namespace, print_json, request

from ..adapters.inbound import prepare_file, publish_encoded
from ..domain.registry import UnitRegistry, registry_as_json
from ..domain.spreadsheets import FileLimits, FileRejection, Table, skipped_by_reason

units_app = typer.Typer(help="The registry of reporting units.", no_args_is_help=True)
ingest_app = typer.Typer(help="Rejected submissions: list them, re-run one after a correction.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("submit")(submit)
    app.add_typer(units_app, name="units")
    app.add_typer(ingest_app, name="ingest")


def submit(
    file: Annotated[Path, typer.Argument(help="A CSV (UTF-8, UTF-8 with BOM, UTF-16 or GB18030) or XLSX file.")],
    source: Annotated[str | None, typer.Option(help="The reporting unit, for rows that do not name one.")] = None,
    kind: Annotated[
        str | None, typer.Option(help="progress, incident, measurement or activity, for rows that do not say.")
    ] = None,
    mapping: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help="Which field a column is, over the automatic reading: '列名=field' (or a column letter, "
            "'D=value'; '列名=-' leaves it out). Repeatable.",
        ),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print how the file is read; publish nothing.")] = False,
) -> None:
    """Publish every row of a spreadsheet as its own submission (id: the file's sha256 and the row number).

    Prints how the file was read first: the sheet(s), which column gave which field, the unit of
    measure found, the columns not used and the rows skipped. A file whose header has no column for a
    field its kind needs is refused whole, with nothing published.
    """
    prepared = prepare_file(
        file.read_bytes(), file.name, FileLimits(), default_kind=kind, default_source=source, mapping=mapping or ()
    )
    if isinstance(prepared, FileRejection):
        raise SystemExit(f"{file}: {describe_rejection(prepared)}")
    print(describe_reading(prepared.reading))
    if dry_run:
        return

    async def run() -> tuple[int, int]:
        async with client() as nc:
            summary = await publish_encoded(nc.jetstream(), Subjects(namespace()), prepared.submissions())
        return summary.published, summary.duplicates

    published, duplicates = asyncio.run(run())
    skipped = len(prepared.reading.skipped)
    skipped_text = f", {skipped} rows skipped (totals, notes …)" if skipped else ""
    print(f"{file}: {published} rows published, {duplicates} already sent before{skipped_text}")
    print(f"file id {prepared.file_id}")


def describe_rejection(rejection: FileRejection) -> str:
    where = f" (row {rejection.row})" if rejection.row else ""
    lines = [f"{rejection.code}{where}: {rejection.message_zh}", f"  {rejection.message_en}"]
    if rejection.found:
        lines.append(f"  columns found: {' | '.join(rejection.found)}")
    if rejection.wanted:
        lines.append(f"  fields wanted: {', '.join(rejection.wanted)}")
    return "\n".join(lines)


def describe_reading(table: Table) -> str:
    """How the file was read, in a few lines: per sheet, column → field (unit), then what was left out."""
    lines: list[str] = []
    for sheet in table.sheets:
        name = f"sheet {sheet.name!r}" if sheet.name else "file"
        encoding = f", {table.encoding}" if table.encoding else ""
        rows = "-".join(str(number) for number in sheet.header_rows)
        lines.append(f"{name}{encoding}: header on row {rows}, {sheet.rows} data rows; kind {sheet.mapping.kind}")
        for use in sheet.mapping.used:
            unit = f" [{use.unit}]" if use.unit else ""
            lines.append(f"  {use.letter:>3} {use.header} → {use.field}{unit} ({use.how})")
        for field, value in sheet.mapping.implied.items():
            lines.append(f"      every row: {field} = {value} (said by the header)")
        for use in (*sheet.mapping.duplicates, *sheet.mapping.unused):
            lines.append(f"  {use.letter:>3} {use.header} — not used: {use.how}")
        for reason, numbers in skipped_by_reason(sheet.skipped).items():
            lines.append(f"      rows skipped ({reason}): {', '.join(map(str, numbers))}")
    for name, why in table.other_sheets:
        lines.append(f"sheet {name!r} not read: {why}")
    return "\n".join(lines)


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
