"""Spreadsheets in, rows out (pure: bytes and a file name, no file system).

`read_table` reads CSV (UTF-8, UTF-8 with BOM, UTF-16 with BOM, GB18030 — detected in that order)
and XLSX (the first sheet with a recognisable header), and turns each data row into a mapping keyed
by the canonical field names (`keys`), ready for `normalise`:

- the header is the first row (of the first `FileLimits.header_search_rows`) in which at least two
  cells are known keys, so title rows and merged group headers above it are skipped; a header cell
  left empty under a vertically merged cell takes the text above it;
- a bracketed unit in a header (`完成数（万平方米）`) is appended to bare numbers in that column;
- blank rows and 合计/总计/小计 rows are skipped; 备注 columns become `note`; unknown columns are kept
  under their header (the normaliser drops them);
- a row without a kind or source takes the caller's default (`duban submit FILE --source UNIT`).

XLSX files are opened only after the zip archive is checked against `FileLimits` (entry count,
total uncompressed size, compression ratio — zip bombs) and its XML parts are scanned for DTDs and
entity declarations (XXE, billion laughs); openpyxl then reads them in read-only, values-only mode
(cached formula results, never evaluated) through defusedxml, which it uses whenever it is installed.

Row numbers are 1-based sheet rows (CSV: 1-based records), so a rejection can point at the row.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Literal

from .keys import read_key

Format = Literal["csv", "xlsx"]

_TOTAL_ROW = re.compile(r"^(合计|总计|小计|共计|累计合计|全区合计)[:：]?$")
_XLSX_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls
_UNSAFE_XML_MARKERS = tuple(
    marker.encode(encoding) for marker in ("<!DOCTYPE", "<!ENTITY") for encoding in ("utf-8", "utf-16-le", "utf-16-be")
)
_XML_SCAN_CHUNK = 1 << 16
_CSV_DELIMITERS = (",", "\t", ";")
_MIN_HEADER_KEYS = 2


@dataclass(frozen=True)
class FileLimits:
    max_bytes: int = 10 * 1024 * 1024
    max_rows: int = 5000
    max_columns: int = 64
    max_cell_chars: int = 2000
    header_search_rows: int = 20
    max_scanned_rows: int = 100_000  # blank rows included (sheets formatted far below their data)
    # XLSX (zip) archive checks, made before anything is decompressed.
    max_uncompressed_bytes: int = 100 * 1024 * 1024
    max_compression_ratio: float = 100.0
    ratio_checked_above_bytes: int = 1024 * 1024
    max_zip_entries: int = 1000


@dataclass(frozen=True)
class TableRow:
    number: int  # 1-based row number in the sheet (CSV: record number)
    values: Mapping[str, object]


@dataclass(frozen=True)
class SkippedRow:
    """A non-blank row below the header that is not data (blank rows are simply left out)."""

    number: int
    reason: Literal["total"]


@dataclass(frozen=True)
class Table:
    format: Format
    rows: tuple[TableRow, ...]
    header_row: int
    headers: tuple[str, ...]  # as written
    sheet: str | None = None
    encoding: str | None = None
    skipped: tuple[SkippedRow, ...] = field(default=())


@dataclass(frozen=True)
class FileRejection:
    code: str
    message_zh: str
    message_en: str
    row: int | None = None
    column: str | None = None


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
) -> Table | FileRejection:
    """The data rows of a CSV or XLSX file, or why the file cannot be read.

    File rejection codes: file_too_large, empty_file, unsupported_format, unknown_encoding,
    unreadable_file, archive_too_large, suspicious_compression, unsafe_xml, no_header, too_many_rows,
    cell_too_long. Columns past `FileLimits.max_columns` are ignored.
    """
    limits = limits or FileLimits()
    try:
        return _read(data, filename, limits, default_kind, default_source)
    except _Refused as refused:
        return refused.rejection


def _read(
    data: bytes, filename: str, limits: FileLimits, default_kind: str | None, default_source: str | None
) -> Table:
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
        sheet, rows = _xlsx_rows(data, limits)
        encoding = None
    else:
        encoding, text = _decode(data)
        sheet, rows = None, _csv_rows(text, limits)
    return _table(
        file_format,
        rows,
        limits,
        sheet=sheet,
        encoding=encoding,
        default_kind=default_kind,
        default_source=default_source,
    )


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


def _csv_rows(text: str, limits: FileLimits) -> list[tuple[int, list[object]]]:
    """The records of the CSV, with the delimiter under which a header is found (comma first)."""
    for delimiter in _CSV_DELIMITERS:
        rows = _csv_records(text, delimiter, limits)
        if _header_index(rows, limits) is not None:
            return rows
    return _csv_records(text, ",", limits)


def _csv_records(text: str, delimiter: str, limits: FileLimits) -> list[tuple[int, list[object]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return _non_blank(((record[: limits.max_columns]) for record in reader), limits)
    except csv.Error as error:
        record = reader.line_num
        raise _refuse(
            "unreadable_file",
            f"CSV 第 {record} 行格式有误（{error}）。",
            f"CSV line {record} is malformed ({error}).",
            row=record,
        ) from error


# --- XLSX --------------------------------------------------------------------------------------


def _xlsx_rows(data: bytes, limits: FileLimits) -> tuple[str | None, list[tuple[int, list[object]]]]:
    _check_archive(data, limits)
    import openpyxl  # imported here: CSV-only callers do not pay for it

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except Exception as error:  # openpyxl raises many types for a damaged file; all mean "cannot read"
        raise _unreadable(error) from error
    try:
        first: tuple[str | None, list[tuple[int, list[object]]]] | None = None
        for worksheet in workbook.worksheets:
            if not hasattr(worksheet, "iter_rows"):  # a chart sheet holds no cells
                continue
            rows = _non_blank(worksheet.iter_rows(values_only=True, max_col=limits.max_columns), limits)
            if _header_index(rows, limits) is not None:
                return worksheet.title, rows
            first = first or (worksheet.title, rows)
        return first or (None, [])
    except _Refused:
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
        if any(_cell_text(cell) for cell in record):
            rows.append((number, list(record)))
            if len(rows) > limits.max_rows + limits.header_search_rows:
                raise _too_many_rows(limits)
    return rows


def _check_archive(data: bytes, limits: FileLimits) -> None:
    """Refuse zip bombs and XML with DTDs before openpyxl decompresses or parses anything."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise _unreadable(error) from error
    with archive:
        entries = archive.infolist()
        if len(entries) > limits.max_zip_entries:
            raise _refuse(
                "archive_too_large",
                f"Excel 文件内含 {len(entries)} 个部件，超过上限 {limits.max_zip_entries} 个。",
                f"The workbook has {len(entries)} parts, more than the limit of {limits.max_zip_entries}.",
            )
        total = sum(entry.file_size for entry in entries)
        if total > limits.max_uncompressed_bytes:
            raise _refuse(
                "archive_too_large",
                f"Excel 文件解压后有 {total} 字节，超过上限 {limits.max_uncompressed_bytes} 字节（疑似压缩炸弹）。",
                f"The workbook expands to {total} bytes, more than the limit of "
                f"{limits.max_uncompressed_bytes} (a decompression bomb?).",
            )
        ratio = total / max(len(data), 1)
        if total > limits.ratio_checked_above_bytes and ratio > limits.max_compression_ratio:
            raise _refuse(
                "suspicious_compression",
                f"Excel 文件压缩比 {ratio:.0f}:1 异常（上限 {limits.max_compression_ratio:.0f}:1），"
                "疑似压缩炸弹，已拒收。",
                f"The workbook's compression ratio {ratio:.0f}:1 exceeds "
                f"{limits.max_compression_ratio:.0f}:1 (a decompression bomb?).",
            )
        for entry in entries:
            if entry.filename.endswith((".xml", ".rels", ".vml")) and _declares_dtd(archive, entry):
                raise _refuse(
                    "unsafe_xml",
                    f"Excel 文件的部件 {entry.filename} 含有 DTD/实体声明（可能是 XXE 攻击），已拒收。",
                    f"Workbook part {entry.filename} declares a DTD or entities (an XXE attack?); refused.",
                )


def _declares_dtd(archive: zipfile.ZipFile, entry: zipfile.ZipInfo) -> bool:
    overlap = max(len(marker) for marker in _UNSAFE_XML_MARKERS)
    tail = b""
    with archive.open(entry) as part:
        while chunk := part.read(_XML_SCAN_CHUNK):
            window = tail + chunk
            if any(marker in window for marker in _UNSAFE_XML_MARKERS):
                return True
            tail = window[-overlap:]
    return False


# --- rows to a table ---------------------------------------------------------------------------


def _table(
    file_format: Format,
    rows: list[tuple[int, list[object]]],
    limits: FileLimits,
    *,
    sheet: str | None,
    encoding: str | None,
    default_kind: str | None,
    default_source: str | None,
) -> Table:
    header_at = _header_index(rows, limits)
    if header_at is None:
        raise _refuse(
            "no_header",
            f"在前 {limits.header_search_rows} 行中找不到表头（至少应有“单位”“指标”“数值”“日期”等两列）。",
            f"No header row in the first {limits.header_search_rows} rows "
            "(expected at least two known columns such as 单位, 指标, 数值, 日期).",
        )
    header_number, upper, lower, data_from = _header_rows(rows, header_at)
    headers = _headers(lower, upper)
    columns = _columns(headers)
    table_rows: list[TableRow] = []
    skipped: list[SkippedRow] = []
    for number, cells in rows[data_from:]:
        texts = [_cell_text(cell) for cell in cells]
        if any(_TOTAL_ROW.match("".join(text.split())) for text in texts if text):
            skipped.append(SkippedRow(number, "total"))
            continue
        values = _row_values(number, cells, columns, headers, limits)
        _apply_defaults(values, default_kind, default_source)
        table_rows.append(TableRow(number, values))
    return Table(file_format, tuple(table_rows), header_number, tuple(headers), sheet, encoding, tuple(skipped))


def _header_index(rows: list[tuple[int, list[object]]], limits: FileLimits) -> int | None:
    for index, (_number, cells) in enumerate(rows[: limits.header_search_rows]):
        known = {read_key(text).field for cell in cells if (text := _cell_text(cell))} - {None}
        if len(known) >= _MIN_HEADER_KEYS:
            return index
    return None


def _header_rows(rows: list[tuple[int, list[object]]], at: int) -> tuple[int, list[object], list[object], int]:
    """(header row number, the row above, the header row, index of the first data row).

    Two-level headers come in two shapes: group titles above the real header (完成情况 over 数值 and
    方式), found at `at`; or the header found at `at` with sub-headers below it — a next row made only
    of known keys — in which case that row is the header and the found one is the row above.
    """
    number, cells = rows[at]
    following = rows[at + 1] if at + 1 < len(rows) else None
    if following and following[0] == number + 1 and _only_known_keys(following[1]):
        return following[0], cells, following[1], at + 2
    above = rows[at - 1][1] if at > 0 and rows[at - 1][0] == number - 1 else []
    return number, above, cells, at + 1


def _only_known_keys(cells: list[object]) -> bool:
    texts = [text for cell in cells if (text := _cell_text(cell))]
    return bool(texts) and all(read_key(text).field for text in texts)


def _headers(cells: list[object], above: list[object]) -> list[str]:
    """Header texts; an empty cell under a vertically merged header takes the text above it."""
    headers = []
    for position in range(max(len(cells), len(above))):
        text = _cell_text(cells[position]) if position < len(cells) else ""
        if not text and position < len(above):
            text = _cell_text(above[position])
        headers.append(text)
    while headers and not headers[-1]:
        headers.pop()
    return headers


@dataclass(frozen=True)
class _Column:
    position: int
    key: str
    unit_hint: str | None


def _columns(headers: list[str]) -> list[_Column]:
    columns: list[_Column] = []
    taken: set[str] = set()
    for position, header in enumerate(headers):
        if not header:
            continue
        meaning = read_key(header)
        # A second column with the same meaning keeps its own header: the normaliser reports the conflict.
        key = meaning.field if meaning.field and meaning.field not in taken else header
        taken.add(key)
        columns.append(_Column(position, key, meaning.unit_hint))
    return columns


def _row_values(
    number: int, cells: list[object], columns: list[_Column], headers: list[str], limits: FileLimits
) -> dict[str, object]:
    values: dict[str, object] = {}
    for column in columns:
        cell = cells[column.position] if column.position < len(cells) else None
        value = _cell_value(cell)
        if isinstance(value, str) and len(value) > limits.max_cell_chars:
            raise _refuse(
                "cell_too_long",
                f"第 {number} 行“{headers[column.position]}”列有 {len(value)} 个字符，"
                f"超过上限 {limits.max_cell_chars} 个。",
                f"Row {number}, column '{headers[column.position]}' has {len(value)} characters, "
                f"more than the limit of {limits.max_cell_chars}.",
                row=number,
                column=headers[column.position],
            )
        if value is None:
            continue
        if column.unit_hint and isinstance(value, int | float) and not isinstance(value, bool):
            value = f"{_number_text(value)}{column.unit_hint}"
        values[column.key] = value
    return values


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


def _cell_text(cell: object) -> str:
    if cell is None:
        return ""
    return str(cell).strip()


def _number_text(value: int | float) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _too_many_rows(limits: FileLimits) -> _Refused:
    return _refuse(
        "too_many_rows",
        f"文件超过 {limits.max_rows} 行数据，请拆分后分批上传。",
        f"The file has more than {limits.max_rows} data rows; split it.",
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


def _refuse(code: str, zh: str, en: str, *, row: int | None = None, column: str | None = None) -> _Refused:
    return _Refused(FileRejection(code, zh, en, row, column))


def iter_rows(table: Table) -> Iterator[tuple[int, Mapping[str, object]]]:
    """(row number, values) pairs, for feeding `normalise` one row at a time."""
    for row in table.rows:
        yield row.number, row.values
