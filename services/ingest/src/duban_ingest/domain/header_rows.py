"""Where a sheet's header is, and what each of its columns is headed (pure).

The header is the first row (of the first rows searched) whose cells read as at least two different
fields (`keys.read_header`); title rows (`2023年第二季度校舍建设进度表`), `填报单位：…` lines and blank
rows above it are passed over. Two-row headers come in two shapes: the row found with sub-headers
under it (完成情况 over 数值 and 方式), or the row found under a row of group titles (基本信息,
完成情况（平方米）); merged cells tell which in XLSX, the pattern of filled and empty cells in CSV. A
group title spreads over the columns it is merged across (in CSV: to the right, while the columns
under it have sub-headers), and each column is read as `上/下`. Under the header, a row of units
(平方米, 万元) gives its columns their unit and a row of column numbers (甲 乙 1 2 3) is skipped; a
line above the table such as `单位：万元` gives its unit to every figure without one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from .headers import is_bare_number
from .keys import HeaderReading, read_header
from .numbers import resolve_spelling
from .text import compact, nfkc
from .workbooks import CellRange, SheetLayout

_MIN_HEADER_FIELDS = 2
_MIN_HEADER_SCORE = 1.3
_HEADER_CELL_SCORE = 0.5
_MAX_HEADER_CHARS = 40
_LABEL_THEN_VALUE = re.compile(r"[:：]\s*\S")
_BRACKETED = re.compile(r"[(（\[【][^()（）\[\]【】]*[)）\]】]")
_COLUMN_NUMBERS = re.compile(r"^([0-9]{1,3}|[甲乙丙丁戊己庚辛壬癸])$")
_UNIT_LINE = re.compile(r"^[(]?(计量)?单位[:：]\s*(?P<unit>[^\s()]{1,8})[)]?$")


@dataclass
class Grid:
    """One sheet's non-blank rows, as read, and what the workbook says of its layout."""

    name: str | None
    rows: list[tuple[int, list[object]]]
    layout: SheetLayout | None = None


@dataclass(frozen=True)
class HeaderRows:
    numbers: tuple[int, ...]  # sheet rows of the header (one or two)
    readings: tuple[HeaderReading, ...]  # by position
    data_from: int  # index into the grid's rows of the first row below the header


def locate_header(grid: Grid, search_rows: int) -> HeaderRows | None:
    """The header of the sheet, if one of its first `search_rows` non-blank rows is one."""
    rows = grid.rows
    for index, (_number, cells) in enumerate(rows[:search_rows]):
        if _is_header_row(cells):
            return _header_at(grid, index)
    return None


def _is_header_row(cells: Sequence[object]) -> bool:
    fields: dict[str, float] = {}
    for cell in cells:
        text = _header_text(cell)
        if text is None:
            continue
        reading = read_header(text)
        if reading.guesses and reading.guesses[0].score >= _HEADER_CELL_SCORE:
            best = reading.guesses[0]
            fields[best.field] = max(fields.get(best.field, 0.0), best.score)
    return len(fields) >= _MIN_HEADER_FIELDS and sum(fields.values()) >= _MIN_HEADER_SCORE


def _header_text(cell: object) -> str | None:
    """The cell's text if it could be a header: short text, not a number or date, not `标签：内容`."""
    if not isinstance(cell, str):
        return None
    text = cell.strip()
    if not text or len(text) > _MAX_HEADER_CHARS or is_bare_number(text):
        return None
    outside_brackets = _BRACKETED.sub("", nfkc(text))
    if _LABEL_THEN_VALUE.search(outside_brackets) or outside_brackets.rstrip().endswith(":"):
        return None
    return text


def _header_at(grid: Grid, index: int) -> HeaderRows:
    rows = grid.rows
    number, cells = rows[index]
    below = rows[index + 1] if index + 1 < len(rows) and rows[index + 1][0] == number + 1 else None
    above = rows[index - 1] if index > 0 and rows[index - 1][0] == number - 1 else None
    merged = grid.layout.merged if grid.layout else ()
    numbers: tuple[int, ...]
    if below is not None and _continues_header(cells, below[1], number, merged):
        upper, lower, numbers, data_from = cells, below[1], (number, below[0]), index + 2
    elif above is not None and _is_group_row(above[1], cells, above[0], merged):
        upper, lower, numbers, data_from = above[1], cells, (above[0], number), index + 1
    else:
        upper, lower, numbers, data_from = [], cells, (number,), index + 1
    groups = _spread_groups(upper, lower, numbers[0], merged)
    width = max(len(lower), len(groups))
    readings = tuple(
        read_header(text_at(lower, position), groups[position] if position < len(groups) else "")
        for position in range(width)
    )
    units: dict[int, str] = {}
    while data_from < len(rows) and rows[data_from][0] == rows[data_from - 1][0] + 1:
        furniture = _header_furniture(rows[data_from][1])
        if furniture is None:
            break
        units.update(furniture)
        data_from += 1
    first_header = index - 1 if numbers[0] != number else index
    table_unit = _unit_line(rows[:first_header])
    with_units = tuple(
        replace(reading, unit=reading.unit or units.get(position) or table_unit)
        for position, reading in enumerate(readings)
    )
    return HeaderRows(numbers, with_units, data_from)


def _unit_line(above: Sequence[tuple[int, list[object]]]) -> str | None:
    """The unit a line above the table gives all its figures: `单位：万元`, `（计量单位：平方米）`."""
    for _number, cells in reversed(above):
        for cell in cells:
            found = _UNIT_LINE.match(nfkc(cell_text(cell)))
            if found and resolve_spelling(found["unit"]) is not None:
                return found["unit"]
    return None


def _continues_header(upper: Sequence[object], lower: Sequence[object], row: int, merged: Sequence[CellRange]) -> bool:
    """Whether the row under a header is its second level (数值, 方式 under 完成情况)."""
    texts = [cell_text(cell) for cell in lower]
    if not any(texts) or not _header_like(lower):
        return False
    for span in merged:
        vertical = span.first_row == row and span.last_row > row
        grouping = span.first_row == span.last_row == row and span.last_column > span.first_column
        if vertical or (grouping and any(texts[span.first_column : span.last_column + 1])):
            return True
    readable = [read_header(text) for text in texts if text]
    if not all(r.guesses or r.mode or r.ignored_because for r in readable):
        return False
    return any(text and not cell_text(upper[p] if p < len(upper) else None) for p, text in enumerate(texts))


def _is_group_row(upper: Sequence[object], lower: Sequence[object], row: int, merged: Sequence[CellRange]) -> bool:
    """Whether the row over a header holds group titles (基本情况, 完成情况) rather than the sheet's title."""
    texts = [cell_text(cell) for cell in upper]
    filled = [p for p, text in enumerate(texts) if text]
    if not filled or not _header_like(upper):
        return False
    spans = [r for r in merged if r.first_row == row and r.last_row == row and r.last_column > r.first_column]
    if len(filled) == 1 and filled[0] == 0 and not any(r.first_column > 0 for r in spans):
        return False  # one cell at the left: the sheet's title
    lower_texts = [cell_text(cell) for cell in lower]
    return bool(spans) or any(
        texts[p] and p + 1 < len(lower_texts) and lower_texts[p + 1] and not (p + 1 < len(texts) and texts[p + 1])
        for p in filled
    )


def _header_like(cells: Sequence[object]) -> bool:
    return all(cell is None or _header_text(cell) is not None or not cell_text(cell) for cell in cells)


def _spread_groups(
    upper: Sequence[object], lower: Sequence[object], row: int, merged: Sequence[CellRange]
) -> list[str]:
    """Each column's group title: a merged title spreads over its range; in CSV, to the right while
    the columns under it have sub-headers."""
    groups = [cell_text(cell) for cell in upper]
    if not groups:
        return []
    lower_texts = [cell_text(cell) for cell in lower]
    width = max(len(groups), len(lower_texts))
    groups += [""] * (width - len(groups))
    spans = [r for r in merged if r.first_row == row and r.last_column > r.first_column]
    for span in spans:
        title = groups[span.first_column] if span.first_column < width else ""
        for position in range(span.first_column + 1, min(span.last_column + 1, width)):
            groups[position] = groups[position] or title
    if not spans:
        for position in range(1, width):
            sub_header_here = position < len(lower_texts) and lower_texts[position]
            left_is_group = groups[position - 1] and position - 1 < len(lower_texts) and lower_texts[position - 1]
            if not groups[position] and sub_header_here and left_is_group:
                groups[position] = groups[position - 1]
    return groups


def _header_furniture(cells: Sequence[object]) -> dict[int, str] | None:
    """A row under the header of units (平方米, 万元) or column numbers (甲 乙 1 2 3): {position: unit}."""
    texts = [(p, cell_text(cell)) for p, cell in enumerate(cells)]
    filled = [(p, text) for p, text in texts if text]
    if not filled:
        return None
    units = {}
    for position, text in filled:
        spelling = _BRACKETED.sub("", text) or text.strip("()（）")
        resolved = resolve_spelling(compact(spelling))
        if resolved is not None and resolved[0] is not None:
            units[position] = compact(spelling)
    if len(units) == len(filled):
        return units
    numbering = [text for _p, text in filled]
    if len(numbering) >= 2 and all(_COLUMN_NUMBERS.match(text) for text in numbering):
        return {}
    return None


def text_at(cells: Sequence[object], position: int) -> str:
    return cell_text(cells[position]) if position < len(cells) else ""


def cell_text(cell: object) -> str:
    if cell is None:
        return ""
    return str(cell).strip()
