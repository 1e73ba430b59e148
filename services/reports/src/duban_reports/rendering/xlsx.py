"""The report as an Excel workbook: a 总览 sheet, one sheet of targets per plan section, and the lists.

Byte-for-byte reproducible: XlsxWriter packs in memory with fixed zip timestamps (1980-01-01) and
the document's created/modified date is `as_of`, never the wall clock.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

import xlsxwriter

from duban_contracts.plan.wording import CountedAs, shown_tallies
from duban_contracts.units import RATIO

from ..domain.content import STATUS_ORDER, ReportData, SectionProgress, TargetRow
from ..domain.formatting import format_as_of_zh, format_date_zh, format_duration_zh
from ..domain.periods import REPORT_TZ
from .narrative import LATE_HEADING, tally_label, target_text
from .templating import LIGHT_COLOURS, STATUS_COLOURS

#: Excel's limit on a sheet name, and the characters it refuses in one.
MAX_SHEET_NAME = 31
_INVALID_SHEET_CHARS = str.maketrans("", "", "[]:*?/\\")

_DATE_FORMAT = 'yyyy"年"m"月"d"日"'
_MAX_COLUMN_WIDTH = 60


def sheet_name(text: str, taken: Sequence[str] = ()) -> str:
    """A valid, unique sheet name: no []:*?/\\, no edge apostrophes, at most 31 characters."""
    cleaned = text.translate(_INVALID_SHEET_CHARS).strip().strip("'")[:MAX_SHEET_NAME] or "Sheet"
    used = {name.casefold() for name in taken}
    candidate, counter = cleaned, 2
    while candidate.casefold() in used:
        suffix = f"({counter})"
        candidate = cleaned[: MAX_SHEET_NAME - len(suffix)] + suffix
        counter += 1
    return candidate


def section_sheet_name(section: SectionProgress, taken: Sequence[str] = ()) -> str:
    """一、深化党建引领."""
    return sheet_name(f"{section.no}、{section.short_title}", taken)


def display_width(value: object) -> int:
    """Columns a value takes on screen: CJK and full-width characters count double."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(value))


@dataclass(frozen=True)
class Column:
    heading: str
    value: Callable[[Any], object]
    kind: str = "text"  # text, number, percent, date, status, wrap
    min_width: int = 6


def render_xlsx(data: ReportData) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer,
        {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False},
    )
    created = data.as_of.astimezone(UTC).replace(tzinfo=None)
    workbook.set_properties(
        {
            "title": data.title,
            "subject": data.period.label_zh,
            "author": data.plan.issuer,
            "company": data.plan.issuer,
            "created": created,
            "comments": "督办（duban）生成",
        }
    )
    styles = _Styles(workbook)
    taken: list[str] = []
    _overview_sheet(workbook, styles, data, taken)
    for section in data.sections:
        name = section_sheet_name(section, taken)
        _table_sheet(workbook, styles, name, taken=taken, columns=TARGET_COLUMNS, rows=data.section_targets(section.no))
    _table_sheet(workbook, styles, LATE_HEADING, taken=taken, columns=late_columns(data.as_of), rows=data.late_targets)
    _safety_sheet(workbook, styles, data, taken)
    _table_sheet(workbook, styles, "数据报送", taken=taken, columns=REPORTING_COLUMNS, rows=data.reporting)
    workbook.close()
    return buffer.getvalue()


TARGET_COLUMNS: tuple[Column, ...] = (
    Column("任务", lambda r: f"{r.task_no}. {r.task_title}", "wrap", 16),
    Column("编号", lambda r: r.target_id, "text", 10),
    Column("指标内容", lambda r: r.text, "wrap", 30),
    Column("指标", lambda r: r.metric, "wrap", 16),
    Column("目标", target_text, "text", 10),
    Column("目标值", lambda r: r.target_value, "number", 10),
    Column("实际值", lambda r: r.actual, "number", 10),
    Column("单位", lambda r: "%" if r.unit == RATIO else r.unit, "text", 6),
    Column("完成情况", lambda r: r.figure_zh, "wrap", 16),
    # 完成率 and 序时进度 speak only of a plain quantity; a rule, a level or a duty has none
    Column("完成率", lambda r: r.completion if r.paced else None, "percent", 8),
    Column("序时进度", lambda r: r.expected if r.paced else None, "percent", 8),
    Column("状态", lambda r: r.status_zh, "status", 10),
    Column("截止日期", lambda r: r.due, "date", 14),
    Column("责任单位", lambda r: "、".join(r.responsible), "wrap", 12),
)


def late_columns(as_of: datetime) -> tuple[Column, ...]:
    """The target columns, with the section in front and the days overdue at the end."""
    return (
        Column("领域", lambda r: f"{r.section_no}、{r.section_title}", "wrap", 16),
        *TARGET_COLUMNS,
        Column("逾期天数", lambda r: r.days_overdue(as_of) or None, "number", 8),
    )


REPORTING_COLUMNS: tuple[Column, ...] = (
    Column("单位", lambda u: u.unit_name, "text", 16),
    Column("单位编码", lambda u: u.unit_id, "text", 8),
    Column("乡镇（街道）", lambda u: u.township or "", "text", 10),
    Column("应报", lambda u: u.expected, "number"),
    Column("实报", lambda u: u.received, "number"),
    Column("按时", lambda u: u.on_time, "number"),
    Column("迟报", lambda u: u.late, "number"),
    Column("缺报", lambda u: u.missing, "number"),
    Column("退回", lambda u: u.rejected, "number"),
    Column("报送率", lambda u: u.reporting_rate, "percent", 8),
    Column("及时率", lambda u: u.on_time_rate, "percent", 8),
)


class _Styles:
    """The workbook's cell formats, created once (XlsxWriter numbers them in creation order)."""

    def __init__(self, workbook: Any) -> None:
        base = {"font_name": "宋体", "font_size": 10, "border": 1, "border_color": "#BFBFBF", "valign": "top"}
        self.title = workbook.add_format({"font_name": "黑体", "font_size": 14, "bold": True})
        self.meta = workbook.add_format({"font_name": "宋体", "font_size": 10, "font_color": "#595959"})
        self.header = workbook.add_format(
            {
                **base,
                "bold": True,
                "bg_color": "#1F4E79",
                "font_color": "#FFFFFF",
                "align": "center",
                "valign": "vcenter",
                "text_wrap": True,
            }
        )
        self.text = workbook.add_format(base)
        self.wrap = workbook.add_format({**base, "text_wrap": True})
        self.integer = workbook.add_format({**base, "num_format": "#,##0"})
        self.decimal = workbook.add_format({**base, "num_format": "#,##0.00"})
        self.percent = workbook.add_format({**base, "num_format": "0.0%"})
        self.date = workbook.add_format({**base, "num_format": _DATE_FORMAT, "align": "left"})
        self.status = workbook.add_format({**base, "align": "center"})
        self.fills = {
            status: workbook.add_format({"bg_color": _tint(STATUS_COLOURS[status.value]), "font_color": "#000000"})
            for status in STATUS_ORDER
        }
        # A target's status cell is filled by its status, whatever its kind calls it (达标, 已开展 …)
        self.status_cells = {
            status: workbook.add_format({**base, "align": "center", "bg_color": _tint(STATUS_COLOURS[status.value])})
            for status in STATUS_ORDER
        }
        self.lights = {
            key: workbook.add_format({**base, "bg_color": _tint(colour)}) for key, colour in LIGHT_COLOURS.items()
        }

    def for_value(self, kind: str, value: object, unit: str | None = None) -> Any:
        if kind == "percent" or (kind == "number" and unit == RATIO):
            return self.percent
        if kind == "number":
            return (
                self.integer
                if isinstance(value, int) or (isinstance(value, float) and value.is_integer())
                else self.decimal
            )
        return {"date": self.date, "status": self.status, "wrap": self.wrap}.get(kind, self.text)


def _tint(hex_colour: str) -> str:
    """A light tint of a status colour, so black text stays readable on it."""
    red, green, blue = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return "#{:02X}{:02X}{:02X}".format(*(round(c + (255 - c) * 0.6) for c in (red, green, blue)))


def _table_sheet(
    workbook: Any,
    styles: _Styles,
    name: str,
    *,
    taken: list[str],
    columns: Sequence[Column],
    rows: Sequence[Any],
) -> None:
    name = sheet_name(name, taken)
    taken.append(name)
    sheet = workbook.add_worksheet(name)
    widths = [max(column.min_width, display_width(column.heading) + 2) for column in columns]
    for col, column in enumerate(columns):
        sheet.write_string(0, col, column.heading, styles.header)
    for row_index, row in enumerate(rows, start=1):
        unit = row.unit if isinstance(row, TargetRow) else None
        for col, column in enumerate(columns):
            value = column.value(row)
            style = styles.for_value(column.kind, value, unit)
            if column.kind == "status" and isinstance(row, TargetRow):
                style = styles.status_cells[row.status]
            _write(sheet, row_index, col, value, style)
            widths[col] = max(widths[col], min(_MAX_COLUMN_WIDTH, display_width(_shown(value)) + 2))
    for col, width in enumerate(widths):
        sheet.set_column(col, col, min(width, _MAX_COLUMN_WIDTH))
    sheet.set_row(0, 24)
    sheet.freeze_panes(1, 0)
    last_row = max(1, len(rows))
    sheet.autofilter(0, 0, last_row, len(columns) - 1)
    _status_fills(sheet, styles, columns, last_row)
    _completion_bars(sheet, columns, last_row)
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.repeat_rows(0)
    sheet.fit_to_pages(1, 0)


def _status_fills(sheet: Any, styles: _Styles, columns: Sequence[Column], last_row: int) -> None:
    for col, column in enumerate(columns):
        if column.kind != "status":
            continue
        for status in STATUS_ORDER:
            sheet.conditional_format(
                1,
                col,
                last_row,
                col,
                {"type": "cell", "criteria": "==", "value": f'"{status.label_zh}"', "format": styles.fills[status]},
            )


def _completion_bars(sheet: Any, columns: Sequence[Column], last_row: int) -> None:
    for col, column in enumerate(columns):
        if column.heading == "完成率":
            sheet.conditional_format(
                1,
                col,
                last_row,
                col,
                {
                    "type": "data_bar",
                    "bar_color": "#63BE7B",
                    "min_type": "num",
                    "min_value": 0,
                    "max_type": "num",
                    "max_value": 1,
                },
            )


def _write(sheet: Any, row: int, col: int, value: object, style: Any) -> None:
    if value is None or value == "":
        sheet.write_blank(row, col, None, style)
    elif isinstance(value, bool):
        sheet.write_boolean(row, col, value, style)
    elif isinstance(value, int | float):
        sheet.write_number(row, col, value, style)
    elif isinstance(value, date):
        moment = value if isinstance(value, datetime) else datetime.combine(value, time(0))
        sheet.write_datetime(row, col, moment, style)
    else:
        sheet.write_string(row, col, str(value), style)


def _shown(value: object) -> str:
    if isinstance(value, date):
        return format_date_zh(value)
    if isinstance(value, float):
        return f"{value:,.2f}"
    return "" if value is None else str(value)


def _overview_sheet(workbook: Any, styles: _Styles, data: ReportData, taken: list[str]) -> None:
    name = sheet_name("总览", taken)
    taken.append(name)
    sheet = workbook.add_worksheet(name)
    sheet.set_column(0, 0, 26)
    sheet.set_column(1, 1, 16)
    sheet.set_column(2, 6, 12)
    sheet.write_string(0, 0, data.title, styles.title)
    sheet.write_string(1, 0, f"统计期间：{data.period.range_zh}　数据截至：{format_as_of_zh(data.as_of)}", styles.meta)

    row = 3
    sheet.write_row(row, 0, ("主要指标", "数值"), styles.header)
    for label, value, kind in _headline_rows(data):
        row += 1
        sheet.write_string(row, 0, label, styles.text)
        _write(sheet, row, 1, value, styles.for_value(kind, value))

    row += 2
    section_header = ("领域", "指标数", "已完成", "需督办", "完成率", "序时进度", "交通灯")
    sheet.write_row(row, 0, section_header, styles.header)
    for section in data.sections:
        row += 1
        targets = data.section_targets(section.no)
        sheet.write_string(row, 0, f"{section.no}、{section.short_title}", styles.text)
        sheet.write_number(row, 1, len(targets), styles.integer)
        sheet.write_number(row, 2, sum(1 for t in targets if t.counted_as is CountedAs.DONE), styles.integer)
        sheet.write_number(row, 3, sum(1 for t in targets if t.is_late), styles.integer)
        _write(sheet, row, 4, section.completion, styles.percent)
        _write(sheet, row, 5, section.expected, styles.percent)
        sheet.write_string(row, 6, section.light.label_zh, styles.lights[section.light.value])
    sheet.set_paper(9)
    sheet.fit_to_pages(1, 0)


def _headline_rows(data: ReportData) -> list[tuple[str, object, str]]:
    head, counts, totals = data.headline, data.status_counts, data.reporting_totals
    alerts = head.alerts
    return [
        ("量化指标（项）", len(data.targets), "number"),
        *((f"　{key.heading_zh}（项）", counts[key], "number") for key in shown_tallies(counts)),
        ("计划总体完成率", head.plan_completion, "percent"),
        ("序时进度", head.expected_completion, "percent"),
        ("本期校园安全事件（起）", head.incidents_in_period, "number"),
        ("　死亡（人）", head.deaths_in_period, "number"),
        ("　受伤（人）", head.injuries_in_period, "number"),
        ("年内累计校园安全事件（起）", head.incidents_year_to_date, "number"),
        ("本期传染病聚集性疫情（起）", head.outbreaks_in_period, "number"),
        ("期末持续中的疫情（起）", head.outbreaks_active, "number"),
        ("本期预警（条）", alerts.opened, "number"),
        ("　已确认（条）", alerts.acknowledged, "number"),
        ("　处置完毕（条）", alerts.resolved, "number"),
        ("　期末未关闭（条）", alerts.open_at_end, "number"),
        ("确认用时中位数", format_duration_zh(alerts.median_time_to_acknowledge), "text"),
        ("处置用时中位数", format_duration_zh(alerts.median_time_to_resolve), "text"),
        ("收到报送（份）", head.submissions_received, "number"),
        ("退回报送（份）", head.submissions_rejected, "number"),
        ("报送率", totals.reporting_rate, "percent"),
        ("及时率", totals.on_time_rate, "percent"),
    ]


def _safety_sheet(workbook: Any, styles: _Styles, data: ReportData, taken: list[str]) -> None:
    name = sheet_name("校园安全与疫情", taken)
    taken.append(name)
    sheet = workbook.add_worksheet(name)
    for col, width in enumerate((20, 26, 12, 14, 8, 8, 12, 50)):
        sheet.set_column(col, col, width)
    safety = data.safety
    row = 0
    for heading, tallies, key_kind in (
        ("事件类别", safety.by_category, "category"),
        ("事件等级", safety.by_grade, "grade"),
        ("乡镇（街道）", safety.by_township, "township"),
        ("月份", safety.by_month, "month"),
    ):
        sheet.write_row(row, 0, (heading, "起数", "死亡", "受伤"), styles.header)
        for tally in tallies:
            row += 1
            sheet.write_string(row, 0, tally_label(tally.key, key_kind), styles.text)
            for col, value in enumerate((tally.incidents, tally.deaths, tally.injuries), start=1):
                sheet.write_number(row, col, value, styles.integer)
        row += 2

    sheet.write_row(row, 0, ("发生时间", "单位", "乡镇（街道）", "类别", "等级", "死亡", "受伤", "概况"), styles.header)
    for item in safety.notable:
        row += 1
        local = item.occurred_at.astimezone(REPORT_TZ)
        sheet.write_string(row, 0, f"{local:%Y-%m-%d %H:%M}", styles.text)
        sheet.write_string(row, 1, item.unit_name, styles.text)
        sheet.write_string(row, 2, item.township or "", styles.text)
        sheet.write_string(row, 3, item.category.value, styles.text)
        sheet.write_string(row, 4, item.grade.label_zh if item.grade else "未定级", styles.text)
        sheet.write_number(row, 5, item.deaths, styles.integer)
        sheet.write_number(row, 6, item.injuries, styles.integer)
        sheet.write_string(row, 7, item.summary or "", styles.wrap)
    row += 2

    sheet.write_row(row, 0, ("学校", "乡镇（街道）", "病种", "病例数", "首例日期", "末例日期", "状态"), styles.header)
    for outbreak in safety.outbreaks:
        row += 1
        sheet.write_string(row, 0, outbreak.school, styles.text)
        sheet.write_string(row, 1, outbreak.township or "", styles.text)
        sheet.write_string(row, 2, outbreak.disease, styles.text)
        sheet.write_number(row, 3, outbreak.cases, styles.integer)
        _write(sheet, row, 4, outbreak.first_case, styles.date)
        _write(sheet, row, 5, outbreak.last_case, styles.date)
        sheet.write_string(row, 6, outbreak.status.label_zh, styles.status)
