"""Task tables (任务分解表, 责任分解表) as grids of cell texts, from XLSX (openpyxl) or DOCX (python-docx).

A grid keeps what a person sees: the lines above the header (the table's title), the header, and
the rows. A cell merged over several rows holds its text in the first row only (`merged_below`
says which cells continue one above), so that a reader can tell a continuation row (the second row
of a task, 序号 merged) from a new task.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any

#: Words that make a row a table's header: at least two cells must hold one.
_HEADER_WORDS = re.compile(
    r"序号|编号|任务|目标|内容|项目|事项|名称|指标|措施|责任|牵头|配合|协同|单位|部门|时限|时间|领导|进展|类别"
)
_HEADER_SEARCH_ROWS = 8


@dataclass
class Grid:
    """One table: the text above it, its header and its rows (cells as text, '' when empty)."""

    title_lines: list[str]
    header: list[str]
    rows: list[list[str]]
    #: (row, column) of cells that continue the merged cell above them (their text is repeated).
    merged_below: set[tuple[int, int]] = field(default_factory=set)


class TableError(ValueError):
    """A file that holds no task table: which file, why."""


def xlsx_grids(data: bytes) -> list[Grid]:
    """Every sheet of an XLSX workbook that holds a table with a header row."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(BytesIO(data), data_only=True)
    except Exception as error:  # openpyxl raises zipfile, KeyError or its own errors for a broken file
        raise TableError(f"不是可读取的 XLSX 文件 / not a readable XLSX file: {error}") from error
    grids = []
    for sheet in workbook.worksheets:
        cells = [[_text(value) for value in row] for row in sheet.iter_rows(values_only=True)]
        continued: set[tuple[int, int]] = set()
        for merged in sheet.merged_cells.ranges:
            for row in range(merged.min_row + 1, merged.max_row + 1):
                for column in range(merged.min_col, merged.max_col + 1):
                    continued.add((row - 1, column - 1))
            top = cells[merged.min_row - 1][merged.min_col - 1] if cells else ""
            for row in range(merged.min_row, merged.max_row + 1):
                for column in range(merged.min_col + 1, merged.max_col + 1):
                    cells[row - 1][column - 1] = ""  # a cell merged across columns counts once
            for row in range(merged.min_row, merged.max_row):
                cells[row][merged.min_col - 1] = top
        grid = _grid(cells, continued, [])
        if grid:
            grids.append(grid)
    workbook.close()
    return grids


def docx_grids(data: bytes) -> tuple[list[Grid], list[str]]:
    """The tables of a DOCX document, and its paragraphs (for a document that is plain text)."""
    from docx import Document

    try:
        document = Document(BytesIO(data))
    except Exception as error:  # python-docx raises zipfile, KeyError or its own errors
        raise TableError(f"不是可读取的 DOCX 文件 / not a readable DOCX file: {error}") from error
    paragraphs = [p.text.strip() for p in document.paragraphs if p.text.strip()]
    grids = []
    for table in document.tables:
        cells: list[list[str]] = []
        continued: set[tuple[int, int]] = set()
        above: list[Any] = []
        for row_index, row in enumerate(table.rows):
            line: list[str] = []
            elements = [cell._tc for cell in row.cells]  # the <w:tc> element: shared by merged cells
            for column, (cell, element) in enumerate(zip(row.cells, elements, strict=True)):
                if column > 0 and element is elements[column - 1]:
                    line.append("")  # merged across columns: counted once
                elif column < len(above) and element is above[column]:
                    continued.add((row_index, column))
                    line.append(cell.text.strip())
                else:
                    line.append(cell.text.strip())
            cells.append(line)
            above = elements
        grid = _grid(cells, continued, paragraphs[:3])
        if grid:
            grids.append(grid)
    return grids, paragraphs


def _grid(cells: list[list[str]], continued: set[tuple[int, int]], before: list[str]) -> Grid | None:
    """Split a sheet's cells into title lines, header and rows; None when no row looks like a header."""
    for index, row in enumerate(cells[:_HEADER_SEARCH_ROWS]):
        if sum(bool(cell) and len(cell) <= 20 and bool(_HEADER_WORDS.search(cell)) for cell in row) >= 2:
            title_lines = [*before, *(" ".join(c for c in line if c) for line in cells[:index])]
            rows = list(cells[index + 1 :])
            merged = {(r - index - 1, c) for r, c in continued if r > index}
            return Grid([t for t in title_lines if t], row, rows, merged)
    return None


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
