"""The corpus of sheet shapes (data/sheets/, written by make_sheets.py): each read as its manifest says.

`tune` shapes were used to build and tune the reader; `held_out` shapes were added afterwards and
scored as they came (see the report in the commit history). Every shape asserts the mapping (which
column gave which field, how), the unit of measure, the header rows, the sheets read, the data rows
and some values, the rows skipped — or the file-level rejection with the fields wanted.
"""

from __future__ import annotations

import importlib.util
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from duban_ingest.domain.spreadsheets import FileLimits, FileRejection, Table, read_table, skipped_by_reason

SHEETS = Path(__file__).parent / "data" / "sheets"
MANIFEST: list[dict[str, Any]] = yaml.safe_load((SHEETS / "manifest.yaml").read_text(encoding="utf-8"))


def _read(entry: dict[str, Any]) -> Table | FileRejection:
    data = (SHEETS / entry["file"]).read_bytes()
    return read_table(
        data,
        entry["file"],
        FileLimits(),
        default_kind=entry.get("kind"),
        default_source=entry.get("source"),
        mapping=entry.get("map", ()),
    )


def _plain(value: object) -> object:
    """Cell values as the manifest writes them: a midnight datetime as its date, 3.0 as 3."""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _check_rejection(result: Table | FileRejection, expect: dict[str, Any]) -> None:
    assert isinstance(result, FileRejection), f"expected the file refused ({expect['reject']}), got {result}"
    assert result.code == expect["reject"], result
    assert result.message_zh and result.message_en
    if "wanted" in expect:
        assert list(result.wanted) == expect["wanted"]
    if "found" in expect:
        assert list(result.found) == expect["found"]


def _check_table(result: Table | FileRejection, expect: dict[str, Any]) -> None:
    assert isinstance(result, Table), result
    first = result.sheets[0]
    mapping = first.mapping
    if "encoding" in expect:
        assert result.encoding == expect["encoding"]
    if "sheets" in expect:
        assert [sheet.name for sheet in result.sheets] == expect["sheets"]
    assert dict(result.other_sheets) == expect.get("sheets_not_read", dict(result.other_sheets))
    assert list(first.header_rows) == expect["header_rows"]
    assert {use.header: use.field for use in mapping.used} == expect["columns"]
    not_used = {use.header for use in (*mapping.unused, *mapping.duplicates)}
    assert set(expect.get("not_used", ())) <= not_used
    if "units" in expect:
        assert list(mapping.units) == expect["units"]
    assert dict(mapping.implied) == expect.get("implied", {})
    if "kind" in expect:
        assert mapping.kind == expect["kind"]
    for header, how in expect.get("matches", {}).items():
        assert next(use.how for use in mapping.used if use.header == header) == how
    assert [row.number for row in result.rows] == expect["rows"]
    if "row_sheets" in expect:
        assert [row.sheet for row in result.rows] == expect["row_sheets"]
    by_number = {row.number: row.values for row in result.rows}
    for number, wanted in expect.get("values", {}).items():
        got = {key: _plain(by_number[number].get(key)) for key in wanted}
        assert got == wanted, f"row {number}"
    for number, keys in expect.get("absent", {}).items():
        assert not set(keys) & set(by_number[number]), f"row {number}"
    assert skipped_by_reason(result.skipped) == expect.get("skipped", {})


@pytest.mark.parametrize("entry", [pytest.param(entry, id=f"{entry['split']}:{entry['file']}") for entry in MANIFEST])
def test_each_sheet_shape_is_read_as_its_manifest_says(entry: dict[str, Any]) -> None:
    expect = entry["expect"]
    result = _read(entry)
    if "reject" in expect:
        _check_rejection(result, expect)
    else:
        _check_table(result, expect)


def test_the_corpus_has_forty_shapes_in_two_halves() -> None:
    splits = [entry["split"] for entry in MANIFEST]
    assert len(MANIFEST) >= 40
    assert splits.count("tune") >= 20 and splits.count("held_out") >= 20


def test_the_generator_reproduces_the_committed_files_byte_for_byte() -> None:
    spec = importlib.util.spec_from_file_location("make_sheets", SHEETS / "make_sheets.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    for shape in module.SHAPES:
        assert shape.build() == (SHEETS / shape.name).read_bytes(), shape.name
