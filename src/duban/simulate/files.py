"""Spreadsheets the way schools keep them: a merged title row, a line naming who filled it in, the
header, the rows, a 合计 row, a 备注 column — as XLSX, or as CSV saved by Excel in GB18030 or UTF-8
with a byte-order mark.

XLSX files are written with XlsxWriter, which stamps fixed times into the zip archive; with the
document's creation time set to the upload time, the same rows always give the same bytes (openpyxl
stamps the wall clock into every archive entry, so its files would differ on every run).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import ClassVar

import xlsxwriter

Cell = str | int | float | date | None


@dataclass(frozen=True)
class Sheet:
    title: str
    preamble: str  # 填报单位 / 填表人 line above the header
    header: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    total: tuple[Cell, ...] | None = None

    #: The 1-based sheet row of the first data row: title, preamble and header come first.
    FIRST_DATA_ROW: ClassVar[int] = 4


def xlsx_bytes(sheet: Sheet, created: datetime) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    workbook.set_properties(
        {"created": created.astimezone(UTC).replace(tzinfo=None), "author": "巴州区教育科技和体育局"}
    )
    worksheet = workbook.add_worksheet("Sheet1")
    title = workbook.add_format({"bold": True, "align": "center", "font_size": 14})
    head = workbook.add_format({"bold": True, "border": 1, "bg_color": "#DDEBF7"})
    day = workbook.add_format({"num_format": "yyyy/m/d", "border": 1})
    plain = workbook.add_format({"border": 1})
    width = len(sheet.header)
    worksheet.merge_range(0, 0, 0, width - 1, sheet.title, title)
    worksheet.merge_range(1, 0, 1, width - 1, sheet.preamble)
    worksheet.write_row(2, 0, sheet.header, head)
    for offset, row in enumerate([*sheet.rows, *([sheet.total] if sheet.total else [])]):
        for column, cell in enumerate(row):
            if isinstance(cell, date):
                worksheet.write_datetime(3 + offset, column, datetime.combine(cell, datetime.min.time()), day)
            elif cell is None or cell == "":
                worksheet.write_blank(3 + offset, column, None, plain)
            else:
                worksheet.write(3 + offset, column, cell, plain)
    worksheet.set_column(0, width - 1, 14)
    workbook.close()
    return buffer.getvalue()


def csv_bytes(sheet: Sheet, encoding: str) -> bytes:
    """The sheet as Excel saves CSV: every line as wide as the table, CRLF, dates as 2023/9/4."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    width = len(sheet.header)
    writer.writerow(_padded([sheet.title], width))
    writer.writerow(_padded([sheet.preamble], width))
    writer.writerow(sheet.header)
    for row in [*sheet.rows, *([sheet.total] if sheet.total else [])]:
        writer.writerow([_text(cell) for cell in row])
    return buffer.getvalue().encode(encoding)


def _padded(cells: Sequence[str], width: int) -> list[str]:
    return [*cells, *([""] * (width - len(cells)))]


def _text(cell: Cell) -> str:
    if isinstance(cell, date):
        return f"{cell.year}/{cell.month}/{cell.day}"
    return "" if cell is None else str(cell)
