"""Spreadsheets in, rows out (pure: bytes and a file name, no file system).

`read_table` reads CSV (UTF-8, UTF-8 with BOM, UTF-16 with BOM, GB18030 — detected in that order;
comma, tab or semicolon) and XLSX (Excel, WPS), finds the sheets that hold data and the header of
each, works out which column means which field (`headers`), and turns each data row into a mapping
keyed by the canonical field names, ready for `normalise`:

- the header is the first row (of the first `FileLimits.header_search_rows`) whose cells read as at
  least two different fields; title rows (`2023年第二季度校舍建设进度表`), `填报单位：…` lines and
  blank leading rows and columns above or left of it are passed over;
- two-row headers: group titles over their sub-headers (完成情况 over 数值 and 方式), merged cells
  (spread over their range in XLSX; taken from the left or above in CSV), a row of units or of
  column numbers (甲 乙 1 2 3 …) under the header;
- a unit of measure in a header (`完成面积（平方米）`, `金额(万元)`) or in a row of units is appended to
  bare numbers in that column; a 计量单位 column is passed on for the normaliser;
- blank rows, rows with nothing in the columns used (a 序号 alone), 合计/小计/总计 rows, notes
  (填表说明, 备注：, 注：…), sign-off lines (填表人：…) and a repeated header are skipped and listed;
- hidden columns are not read unless `--map` names them; hidden sheets are not read; of several
  sheets, every one whose header maps is read (a 汇总 sheet beside detail sheets is not);
- unknown columns are kept under their header (the normaliser drops them); a second column with
  the same meaning keeps its own header so that the normaliser can flag rows where they differ;
- a row without a kind or source takes the caller's default (`duban submit FILE --source UNIT`).

When a field the sheet's kind needs has no column, the file is refused once (`missing_columns`),
naming the columns found and the fields wanted — never row by row.

Everything is bounded while it is read, not after: the file's size; for XLSX the zip archive (zip
bombs), DTDs (XXE, billion laughs), cells per row and cells in all, counted while the XML streams
past and stopped at the cap before openpyxl builds a row (`workbooks`); for CSV the cells per line
before a line is split, and the cells in all as records are read; rows; characters per cell.
openpyxl then reads in read-only, values-only mode (cached formula results, never evaluated)
through defusedxml, which it uses whenever it is installed.

Row numbers are 1-based sheet rows (CSV: 1-based records), so a rejection can point at the row.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Literal

from .header_rows import Grid, HeaderRows, cell_text, locate_header, text_at
from .headers import (
    Column,
    MapError,
    MissingColumns,
    SheetMapping,
    describe_fields,
    is_bare_number,
    map_columns,
    names_column,
    parse_overrides,
    profile,
)
from .keys import read_key
from .text import compact, nfkc
from .workbooks import CellRange, WorkbookLimits, WorkbookRefused, column_letter, survey_workbook

Format = Literal["csv", "xlsx"]
SkipReason = Literal["total", "note", "signature", "repeated_header", "no_data"]

_TOTAL_WORDS = ("合计", "总计", "小计", "共计")
_NOTE_PREFIX = re.compile(r"^(填表说明|填报说明|说明|备注|附注|注意|注)\s*[0-9一二三四五六七八九十]*\s*[:：]")
_SIGNATURE_PREFIX = re.compile(
    r"^(填表人|填报人|制表人|审核人|审核|负责人|单位负责人|分管领导|联系人|联系电话|填报日期|填表日期|报送日期|单位盖章|盖章)\s*[:：]"
)
_XLSX_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls
_CSV_DELIMITERS = (",", "\t", ";")
_QUOTED = re.compile(r'"[^"]*"')
_SUMMARY_SHEET = re.compile(r"汇总|合计|总表")
_LABEL_FIELDS = frozenset({"source", "indicator", "metric", "activity", "category", "class", "kind"})


@dataclass(frozen=True)
class FileLimits:
    max_bytes: int = 10 * 1024 * 1024
    max_rows: int = 5000
    max_columns: int = 64
    max_cell_chars: int = 2000
    header_search_rows: int = 20
    max_scanned_rows: int = 100_000  # blank rows included (sheets formatted far below their data)
    # Cells as written in the file (an XLSX <c>, a CSV field), counted while reading, before a row
    # is built. A bureau's form is a few dozen columns wide: 1,024 per row is far beyond any real one
    # (Excel 2003 stopped at 256) yet stops a one-row bomb after 1,024 cells rather than 1,000,000.
    max_cells_per_row: int = 1024
    # 50,000 rows of 10 columns, styled empty cells included: openpyxl reads about 100,000 cells a
    # second on one core, so the largest file accepted parses in seconds, inside the time budget.
    max_cells: int = 500_000
    # XLSX (zip) archive checks, made before anything is decompressed.
    max_uncompressed_bytes: int = 100 * 1024 * 1024
    max_compression_ratio: float = 100.0
    ratio_checked_above_bytes: int = 1024 * 1024
    max_zip_entries: int = 1000

    def workbook(self) -> WorkbookLimits:
        return WorkbookLimits(
            max_uncompressed_bytes=self.max_uncompressed_bytes,
            max_compression_ratio=self.max_compression_ratio,
            ratio_checked_above_bytes=self.ratio_checked_above_bytes,
            max_zip_entries=self.max_zip_entries,
            max_cells_per_row=self.max_cells_per_row,
            max_cells=self.max_cells,
        )


@dataclass(frozen=True)
class TableRow:
    number: int  # 1-based row number in the sheet (CSV: record number)
    values: Mapping[str, object]
    sheet: str | None = None
    sheet_index: int = 0  # among the sheets read: rows of a second sheet need their own ids


@dataclass(frozen=True)
class SkippedRow:
    """A non-blank row below the header that is not data (blank rows are simply left out)."""

    number: int
    reason: SkipReason
    sheet: str | None = None


@dataclass(frozen=True)
class SheetReading:
    """How one sheet was read: where its header is, which column gave which field, what was skipped."""

    name: str | None
    header_rows: tuple[int, ...]
    headers: tuple[str, ...]
    mapping: SheetMapping
    rows: int
    skipped: tuple[SkippedRow, ...]

    def as_json(self) -> dict[str, object]:
        return {
            "sheet": self.name,
            "header_rows": list(self.header_rows),
            "rows": self.rows,
            "skipped": skipped_by_reason(self.skipped),
            **self.mapping.as_json(),
        }


@dataclass(frozen=True)
class Table:
    format: Format
    rows: tuple[TableRow, ...]
    header_row: int  # of the first sheet read; the last header row when the header spans two
    headers: tuple[str, ...]  # as written (a two-row header as 上/下)
    sheet: str | None = None
    encoding: str | None = None
    skipped: tuple[SkippedRow, ...] = field(default=())
    sheets: tuple[SheetReading, ...] = field(default=())
    other_sheets: tuple[tuple[str, str], ...] = field(default=())  # (name, why not read)

    @property
    def mapping(self) -> SheetMapping:
        return self.sheets[0].mapping

    def as_json(self) -> dict[str, object]:
        """The reading, for the uploader: sheets read and why others were not, columns used and not."""
        return {
            "format": self.format,
            "encoding": self.encoding,
            "sheets": [sheet.as_json() for sheet in self.sheets],
            "sheets_not_read": [{"sheet": name, "why": why} for name, why in self.other_sheets],
        }


@dataclass(frozen=True)
class FileRejection:
    code: str
    message_zh: str
    message_en: str
    row: int | None = None
    column: str | None = None
    sheet: str | None = None
    found: tuple[str, ...] = ()  # missing_columns: the headers of the sheet
    wanted: tuple[str, ...] = ()  # missing_columns: the fields without a column


class _Refused(Exception):
    def __init__(self, rejection: FileRejection) -> None:
        super().__init__(rejection.code)
        self.rejection = rejection


def read_table(
    data: bytes,
    filename: str,
    limits: FileLimits | None = None,
    *,
    default_kind: str | None = None,
    default_source: str | None = None,
    mapping: Sequence[str] = (),
) -> Table | FileRejection:
    """The data rows of a CSV or XLSX file, or why the file cannot be read.

    `mapping`: `列名=field` overrides (`duban submit --map`), each may hold several, comma-separated.
    File rejection codes: file_too_large, empty_file, unsupported_format, unknown_encoding,
    unreadable_file, archive_too_large, suspicious_compression, unsafe_xml, too_many_cells_in_row,
    too_many_cells, no_header, missing_columns, too_many_rows, cell_too_long, invalid_map,
    unknown_map_field, unknown_map_column. Columns past `FileLimits.max_columns` are ignored.
    """
    limits = limits or FileLimits()
    try:
        overrides = parse_overrides(mapping)
        if isinstance(overrides, MapError):
            raise _refuse(overrides.code, overrides.zh, overrides.en)
        return _read(data, filename, limits, _Defaults(default_kind, default_source, overrides))
    except _Refused as refused:
        return refused.rejection


@dataclass(frozen=True)
class _Defaults:
    kind: str | None
    source: str | None
    overrides: Mapping[str, str | None]


def _read(data: bytes, filename: str, limits: FileLimits, defaults: _Defaults) -> Table:
    if len(data) > limits.max_bytes:
        raise _refuse(
            "file_too_large",
            f"文件大小 {len(data)} 字节，超过上限 {limits.max_bytes} 字节。",
            f"The file is {len(data)} bytes, more than the limit of {limits.max_bytes}.",
        )
    if not data.strip():
        raise _refuse("empty_file", "文件是空的。", "The file is empty.")
    file_format = _format_of(data, filename)
    if file_format == "xlsx":
        grids = _xlsx_grids(data, limits)
        encoding = None
    else:
        encoding, text = _decode(data)
        grids = [_csv_grid(text, limits)]
    return _table(file_format, grids, limits, defaults, encoding)


def _format_of(data: bytes, filename: str) -> Format:
    name = filename.lower()
    if data.startswith(_OLE2_MAGIC) or name.endswith(".xls"):
        raise _refuse(
            "unsupported_format",
            "不支持旧版 Excel（.xls）文件，请另存为 .xlsx 或 .csv 后上传。",
            "Legacy Excel (.xls) files are not supported; save as .xlsx or .csv.",
        )
    if data.startswith(_XLSX_MAGIC):
        return "xlsx"
    if name.endswith((".xlsx", ".xlsm")):
        raise _refuse(
            "unreadable_file", "文件扩展名为 .xlsx，但内容不是 Excel 文件。", "The .xlsx file is not a zip archive."
        )
    return "csv"


# --- CSV ---------------------------------------------------------------------------------------


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig", data.decode("utf-8-sig", errors="strict")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return "utf-16", data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    for encoding in ("utf-8", "gb18030"):
        try:
            return encoding, data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _refuse(
        "unknown_encoding",
        "无法识别文件编码，请保存为 UTF-8 或 GB18030（GBK）编码的 CSV。",
        "The file's text encoding is not UTF-8, UTF-16 or GB18030; save the CSV as UTF-8.",
    )


def _csv_grid(text: str, limits: FileLimits) -> Grid:
    """The records of the CSV, under the first delimiter (comma, tab, semicolon) that gives a header."""
    for delimiter in _CSV_DELIMITERS:
        grid = Grid(None, _csv_records(text, delimiter, limits))
        if locate_header(grid, limits.header_search_rows) is not None:
            return grid
    return Grid(None, _csv_records(text, ",", limits))


def _csv_records(text: str, delimiter: str, limits: FileLimits) -> list[tuple[int, list[object]]]:
    _check_line_widths(text, delimiter, limits)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    cells = 0

    def counted() -> Iterator[list[str]]:
        nonlocal cells
        for record in reader:
            cells += len(record)
            if cells > limits.max_cells:
                raise _too_many_cells(limits)
            yield record[: limits.max_columns]

    try:
        return _non_blank(counted(), limits)
    except csv.Error as error:
        record = reader.line_num
        raise _refuse(
            "unreadable_file",
            f"CSV 第 {record} 行格式有误（{error}）。",
            f"CSV line {record} is malformed ({error}).",
            row=record,
        ) from error


def _check_line_widths(text: str, delimiter: str, limits: FileLimits) -> None:
    """Refuse a line with more cells than `max_cells_per_row` before the csv module splits it.

    A delimiter count is an upper bound (quoted delimiters are text); only a line over the cap is
    looked at again with its quoted parts left out.
    """
    for number, line in enumerate(io.StringIO(text, newline=""), start=1):
        if line.count(delimiter) >= limits.max_cells_per_row and (
            _QUOTED.sub("", line).count(delimiter) >= limits.max_cells_per_row
        ):
            raise _refuse(
                "too_many_cells_in_row",
                f"第 {number} 行超过 {limits.max_cells_per_row} 个单元格，已停止读取。",
                f"Line {number} has more than {limits.max_cells_per_row} cells; reading stopped there.",
                row=number,
            )


# --- XLSX --------------------------------------------------------------------------------------


def _xlsx_grids(data: bytes, limits: FileLimits) -> list[Grid]:
    try:
        survey = survey_workbook(data, limits.workbook())
    except WorkbookRefused as refused:
        raise _refuse(refused.code, refused.zh, refused.en) from refused
    import openpyxl  # imported here: CSV-only callers do not pay for it

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except MemoryError:  # not a damaged file: the caller's memory budget
        raise
    except Exception as error:  # openpyxl raises many types for a damaged file; all mean "cannot read"
        raise _unreadable(error) from error
    try:
        grids: list[Grid] = []
        for worksheet in workbook.worksheets:
            if not hasattr(worksheet, "iter_rows"):  # a chart sheet holds no cells
                continue
            layout = survey.layout(worksheet.title)
            if layout is not None and layout.hidden:
                grids.append(Grid(worksheet.title, [], layout))
                continue
            rows = _non_blank(worksheet.iter_rows(values_only=True, max_col=limits.max_columns), limits)
            grids.append(Grid(worksheet.title, rows, layout))
        return grids
    except (_Refused, MemoryError):
        raise
    except Exception as error:
        raise _unreadable(error) from error
    finally:
        workbook.close()


def _non_blank(records: Iterable[Sequence[object]], limits: FileLimits) -> list[tuple[int, list[object]]]:
    """The rows that have any content, with their 1-based numbers; blank rows are skipped here."""
    rows: list[tuple[int, list[object]]] = []
    for number, record in enumerate(records, start=1):
        if number > limits.max_scanned_rows:
            raise _too_many_rows(limits)
        if any(cell_text(cell) for cell in record):
            rows.append((number, list(record)))
            if len(rows) > limits.max_rows + limits.header_search_rows:
                raise _too_many_rows(limits)
    return rows


# --- reading a sheet ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _SheetResult:
    grid: Grid
    header: HeaderRows
    mapping: SheetMapping | MissingColumns
    rows: tuple[TableRow, ...]
    skipped: tuple[SkippedRow, ...]


def _table(
    file_format: Format, grids: list[Grid], limits: FileLimits, defaults: _Defaults, encoding: str | None
) -> Table:
    results: list[_SheetResult] = []
    not_read: list[tuple[str, str]] = []
    for grid in grids:
        if grid.layout is not None and grid.layout.hidden:
            not_read.append((grid.name or "", "hidden sheet"))
            continue
        header = locate_header(grid, limits.header_search_rows)
        if header is None:
            if grid.rows:
                not_read.append((grid.name or "", "no header"))
            continue
        results.append(_read_sheet(grid, header, limits, defaults))
    _check_overrides(results, defaults)
    chosen = _chosen(results, not_read)
    if not chosen:
        raise _no_sheet(results, limits)
    return _assembled(file_format, chosen, not_read, encoding, limits)


def _chosen(results: list[_SheetResult], not_read: list[tuple[str, str]]) -> list[_SheetResult]:
    mapped = [result for result in results if isinstance(result.mapping, SheetMapping)]
    with_rows = [result for result in mapped if result.rows]
    details = [result for result in with_rows if not _SUMMARY_SHEET.search(result.grid.name or "")]
    chosen = details or with_rows or mapped[:1]
    for result in results:
        if result in chosen:
            continue
        if isinstance(result.mapping, MissingColumns):
            wanted = ", ".join("/".join(group) for group in result.mapping.wanted)
            why = f"no column for {wanted}"
        elif not result.rows:
            why = "no data rows"
        else:
            why = "a summary sheet beside the detail sheets"
        not_read.append((result.grid.name or "", why))
    return chosen


def _assembled(
    file_format: Format,
    chosen: list[_SheetResult],
    not_read: list[tuple[str, str]],
    encoding: str | None,
    limits: FileLimits,
) -> Table:
    rows: list[TableRow] = []
    readings: list[SheetReading] = []
    for index, result in enumerate(chosen):
        assert isinstance(result.mapping, SheetMapping)
        rows += [TableRow(row.number, row.values, row.sheet, index) for row in result.rows]
        readings.append(
            SheetReading(
                result.grid.name,
                result.header.numbers,
                tuple(reading.text for reading in result.header.readings),
                result.mapping,
                len(result.rows),
                result.skipped,
            )
        )
    if len(rows) > limits.max_rows:
        raise _too_many_rows(limits)
    first = readings[0]
    skipped = tuple(skip for reading in readings for skip in reading.skipped)
    return Table(
        file_format,
        tuple(rows),
        first.header_rows[-1],
        _trimmed(first.headers),
        first.name,
        encoding,
        skipped,
        tuple(readings),
        tuple(not_read),
    )


def _trimmed(headers: tuple[str, ...]) -> tuple[str, ...]:
    end = len(headers)
    while end and not headers[end - 1]:
        end -= 1
    return headers[:end]


def _check_overrides(results: Sequence[_SheetResult], defaults: _Defaults) -> None:
    for name in defaults.overrides:
        if not any(_names_column(result, name) for result in results):
            readings = results[0].header.readings if results else ()
            found = "、".join(reading.text for reading in readings if reading.text)
            raise _refuse(
                "unknown_map_column",
                f"映射中的列“{name}”在表头中找不到；表头中的列：{found or '（无表头）'}。",
                f"The mapping names a column '{name}' the header does not have; its columns are: {found or '(none)'}.",
            )


def _names_column(result: _SheetResult, name: str) -> bool:
    return any(
        names_column(name, reading.text, column_letter(position))
        for position, reading in enumerate(result.header.readings)
    )


def _no_sheet(results: list[_SheetResult], limits: FileLimits) -> _Refused:
    failed = [result for result in results if isinstance(result.mapping, MissingColumns)]
    if not failed:
        return _refuse(
            "no_header",
            f"在前 {limits.header_search_rows} 行中找不到表头（至少应有“单位”“指标”“数值”“日期”等两列）。",
            f"No header row in the first {limits.header_search_rows} rows "
            "(expected at least two known columns such as 单位, 指标, 数值, 日期).",
        )
    worst = max(failed, key=lambda result: len(result.rows))
    missing = worst.mapping
    assert isinstance(missing, MissingColumns)
    return _missing_columns(worst.grid.name, missing, worst.header.numbers[-1])


def _missing_columns(sheet: str | None, missing: MissingColumns, header_row: int) -> _Refused:
    wanted_zh = "；".join(describe_fields(group)[0] for group in missing.wanted)
    wanted_en = "; ".join(describe_fields(group)[1] for group in missing.wanted)
    found = "、".join(missing.found)
    used = ", ".join(f"{use.header}→{use.field}" for use in missing.partial.used) or "none"
    where_zh = f"工作表“{sheet}”" if sheet else "文件"
    where_en = f"sheet '{sheet}'" if sheet else "the file"
    return _refuse(
        "missing_columns",
        f"{where_zh}第 {header_row} 行表头中找不到这些字段对应的列：{wanted_zh}。表头中的列：{found}。"
        "请修改表头，或用 --map '列名=字段'（网页上传用 map 字段）指定。整个文件未提交。",
        f"The header of {where_en} (row {header_row}) has no column for: {wanted_en}. "
        f"Its columns: {found} (read as: {used}). Rename a header or say which column it is with "
        "--map 'column=field' (the `map` form field over HTTP). Nothing in the file was submitted.",
        row=header_row,
        sheet=sheet,
        found=missing.found,
        wanted=tuple("/".join(group) for group in missing.wanted),
    )


def _read_sheet(grid: Grid, header: HeaderRows, limits: FileLimits, defaults: _Defaults) -> _SheetResult:
    body = grid.rows[header.data_from :]
    if grid.layout is not None:
        _fill_merged_down(body, grid.layout.merged)
    hidden = grid.layout.hidden_columns if grid.layout else frozenset()
    candidates = [cells for _number, cells in body if sum(1 for cell in cells if cell_text(cell)) >= 2]
    columns = [
        Column(
            position,
            column_letter(position),
            reading,
            profile([cells[position] if position < len(cells) else None for cells in candidates]),
            hidden=position in hidden,
        )
        for position, reading in enumerate(header.readings)
    ]
    mapped = map_columns(
        columns, default_kind=defaults.kind, default_source=defaults.source, overrides=defaults.overrides
    )
    mapping = mapped.partial if isinstance(mapped, MissingColumns) else mapped
    rows, skipped = _data_rows(grid, header, mapping, columns, body, limits, defaults)
    return _SheetResult(grid, header, mapped, tuple(rows), tuple(skipped))


def _fill_merged_down(body: Sequence[tuple[int, list[object]]], merged: Sequence[CellRange]) -> None:
    """A name merged down over several rows (one school over its three indicators) belongs to each."""
    by_number = dict(body)
    for span in merged:
        if span.first_column != span.last_column or span.last_row == span.first_row or span.first_row not in by_number:
            continue
        top = by_number[span.first_row]
        value = top[span.first_column] if span.first_column < len(top) else None
        for number in range(span.first_row + 1, span.last_row + 1):
            cells = by_number.get(number)
            if cells is not None and span.first_column < len(cells) and cells[span.first_column] is None:
                cells[span.first_column] = value


def _data_rows(  # noqa: PLR0917 - one sheet's parts, passed straight through
    grid: Grid,
    header: HeaderRows,
    mapping: SheetMapping,
    columns: Sequence[Column],
    body: Sequence[tuple[int, list[object]]],
    limits: FileLimits,
    defaults: _Defaults,
) -> tuple[list[TableRow], list[SkippedRow]]:
    rows: list[TableRow] = []
    skipped: list[SkippedRow] = []
    in_notes = False
    header_words = {compact(reading.text.rpartition("/")[2]) for reading in header.readings if reading.text}
    for number, cells in body:
        reason = _skip_reason(cells, mapping, header_words, in_notes)
        if reason is not None:
            in_notes = in_notes or reason == "note"
            if reason != "no_data" or any(cell_text(cell) for cell in cells):
                skipped.append(SkippedRow(number, reason, grid.name))
            continue
        values = _row_values(number, cells, mapping, columns, limits)
        _apply_defaults(values, defaults.kind, defaults.source)
        rows.append(TableRow(number, values, grid.name))
    return rows, skipped


def _skip_reason(
    cells: Sequence[object], mapping: SheetMapping, header_words: set[str], in_notes: bool
) -> SkipReason | None:
    texts = [cell_text(cell) for cell in cells]
    filled = [text for text in texts if text]
    first = nfkc(filled[0]) if filled else ""
    if len(filled) <= 2 and _SIGNATURE_PREFIX.match(first):
        return "signature"
    if len(filled) == 1 and (_NOTE_PREFIX.match(first) or in_notes):
        return "note"
    label_positions = {use.position for use in mapping.used if use.field in _LABEL_FIELDS}
    used_positions = {use.position for use in mapping.used}
    for position, text in enumerate(texts):
        if text and (position in label_positions or position not in used_positions) and _is_total(text):
            return "total"
    used_texts = [texts[p] for p in used_positions if p < len(texts) and texts[p]]
    if not used_texts or (len(used_texts) == 1 and _filled_labels(texts, label_positions) == 1):
        return "no_data"  # nothing, or one name alone: an empty numbered row, a heading (一、校舍建设)
    if len(used_texts) >= 2 and all(compact(text) in header_words for text in used_texts):
        return "repeated_header"
    return None


def _filled_labels(texts: Sequence[str], label_positions: set[int]) -> int:
    return sum(1 for position in label_positions if position < len(texts) and texts[position])


def _is_total(text: str) -> bool:
    if "计" not in text:  # 合计 总计 小计 共计: a cheap test first, every cell of every row passes here
        return False
    word = compact(text).rstrip(":：")
    return len(word) <= 12 and any(word.startswith(total) or word.endswith(total) for total in _TOTAL_WORDS)


def _row_values(
    number: int, cells: Sequence[object], mapping: SheetMapping, columns: Sequence[Column], limits: FileLimits
) -> dict[str, object]:
    values: dict[str, object] = {}
    unit_column = next((use.position for use in mapping.used if use.field == "measure_unit"), None)
    row_has_unit = unit_column is not None and bool(text_at(list(cells), unit_column))
    for use in mapping.used:
        value = _checked_value(number, cells, use.position, use.header, limits)
        if value is None or use.field is None:
            continue
        if use.field == "value" and use.unit and not row_has_unit:
            value = _with_unit(value, use.unit)
        values[use.field] = value
    for use in mapping.duplicates:
        value = _checked_value(number, cells, use.position, use.header, limits)
        if value is not None:
            values.setdefault(use.header.rpartition("/")[2], value)
    for use in mapping.unused:
        column = columns[use.position]
        if column.hidden or read_key(use.header).field is not None:
            continue
        value = _checked_value(number, cells, use.position, use.header, limits)
        if value is not None:
            values.setdefault(use.header, value)
    for name, value in mapping.implied.items():
        values.setdefault(name, value)
    return values


def _checked_value(number: int, cells: Sequence[object], position: int, header: str, limits: FileLimits) -> object:
    value = _cell_value(cells[position] if position < len(cells) else None)
    if isinstance(value, str) and len(value) > limits.max_cell_chars:
        raise _refuse(
            "cell_too_long",
            f"第 {number} 行“{header}”列有 {len(value)} 个字符，超过上限 {limits.max_cell_chars} 个。",
            f"Row {number}, column '{header}' has {len(value)} characters, more than the limit of "
            f"{limits.max_cell_chars}.",
            row=number,
            column=header,
        )
    return value


def _with_unit(value: object, unit: str) -> object:
    """A bare number takes the column's unit: 1.2 under 完成数（万平方米） is 1.2万平方米."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return f"{_number_text(value)}{unit}"
    if isinstance(value, str) and is_bare_number(value):
        return f"{value.strip()}{unit}"
    return value


def _apply_defaults(values: dict[str, object], default_kind: str | None, default_source: str | None) -> None:
    if default_kind and not _has(values, "kind"):
        values["kind"] = default_kind
    if default_source and not _has(values, "source"):
        values["source"] = default_source


def _has(values: Mapping[str, object], key: str) -> bool:
    value = values.get(key)
    return value is not None and not (isinstance(value, str) and not value.strip())


def _cell_value(cell: object) -> object:
    if cell is None:
        return None
    if isinstance(cell, str):
        return cell if cell.strip() else None
    if isinstance(cell, datetime | date | int | float):
        return cell
    if isinstance(cell, time):
        return cell.isoformat()
    return str(cell)


def _number_text(value: int | float) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def skipped_by_reason(skipped: Sequence[SkippedRow]) -> dict[str, list[int]]:
    """{"total": [12], "note": [14, 15]}: the rows skipped, by why."""
    by_reason: dict[str, list[int]] = {}
    for skip in skipped:
        by_reason.setdefault(skip.reason, []).append(skip.number)
    return by_reason


def _too_many_rows(limits: FileLimits) -> _Refused:
    return _refuse(
        "too_many_rows",
        f"文件超过 {limits.max_rows} 行数据，请拆分后分批上传。",
        f"The file has more than {limits.max_rows} data rows; split it.",
    )


def _too_many_cells(limits: FileLimits) -> _Refused:
    return _refuse(
        "too_many_cells",
        f"文件超过 {limits.max_cells} 个单元格，已停止读取；请拆分后分批上传。",
        f"The file has more than {limits.max_cells} cells; reading stopped there. Split it.",
    )


def _unreadable(error: Exception) -> _Refused:
    reason = type(error).__name__
    if any(type(cause).__module__.startswith("defusedxml") for cause in _causes(error)):
        return _refuse(
            "unsafe_xml", "Excel 文件含有不安全的 XML 内容，已拒收。", f"The workbook contains unsafe XML ({reason})."
        )
    return _refuse(
        "unreadable_file",
        f"无法读取该 Excel 文件（{reason}），请确认文件未损坏并另存为 .xlsx 后重试。",
        f"The workbook cannot be read ({reason}); check it is not damaged and save it again as .xlsx.",
    )


def _causes(error: BaseException) -> Iterator[BaseException]:
    """The error and the errors it was raised from (openpyxl wraps defusedxml's in a ValueError)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _refuse(
    code: str,
    zh: str,
    en: str,
    *,
    row: int | None = None,
    column: str | None = None,
    sheet: str | None = None,
    found: tuple[str, ...] = (),
    wanted: tuple[str, ...] = (),
) -> _Refused:
    return _Refused(FileRejection(code, zh, en, row, column, sheet, found, wanted))


def iter_rows(table: Table) -> Iterator[tuple[int, Mapping[str, object]]]:
    """(row number, values) pairs, for feeding `normalise` one row at a time."""
    for row in table.rows:
        yield row.number, row.values
