"""Writes the corpus of sheet shapes under this directory, and `manifest.yaml`, their expected readings.

    .venv/bin/python tests/ingest/data/sheets/make_sheets.py

Each shape is a spreadsheet the way a school or a section of the bureau might send it (titles,
merged two-row headers, units in brackets, 合计 rows, notes, hidden columns, several sheets, GB18030
or UTF-16 CSV, WPS-style XLSX …) together with what a person reading it would take from it: which
column is which field, the unit of measure, the data rows and some of their values, the rows
skipped — or the file-level rejection. The expectations are written by hand here, next to the
shape; the reader is never asked.

`split`: `tune` shapes were used to build and tune the reader; `held_out` shapes were added after,
and only scored (see test_sheet_corpus.py).

Output is byte-for-byte reproducible: XLSX by XlsxWriter with a fixed creation time, hand-built
archives with fixed entry times, CSV by the csv module.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import xlsxwriter
import yaml

HERE = Path(__file__).parent
CREATED = datetime(2023, 7, 3, 9, 0, 0)
Cell = str | int | float | date | None
Spec = dict[str, Any]


@dataclass
class Shape:
    name: str  # file name
    split: str  # tune or held_out
    about: str
    build: Callable[[], bytes]
    expect: Spec
    kind: str | None = None
    source: str | None = None
    mapping: list[str] = field(default_factory=list)


SHAPES: list[Shape] = []


def shape(
    name: str,
    split: str,
    about: str,
    *,
    expect: Spec,
    kind: str | None = None,
    source: str | None = None,
    mapping: Sequence[str] = (),
) -> Callable[[Callable[[], bytes]], Callable[[], bytes]]:
    def register(build: Callable[[], bytes]) -> Callable[[], bytes]:
        SHAPES.append(Shape(name, split, about, build, expect, kind, source, list(mapping)))
        return build

    return register


# --- writers -----------------------------------------------------------------------------------


def csv_bytes(rows: Sequence[Sequence[Cell]], encoding: str = "utf-8", delimiter: str = ",") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if cell is None else _csv_text(cell) for cell in row])
    return buffer.getvalue().encode(encoding)


def _csv_text(cell: Cell) -> str:
    if isinstance(cell, date):
        return f"{cell.year}/{cell.month}/{cell.day}"
    return str(cell)


@dataclass
class SheetSpec:
    name: str
    rows: Sequence[Sequence[Cell]]
    first_row: int = 0  # 0-based: blank rows above
    first_column: int = 0  # 0-based: blank columns to the left
    merges: Sequence[tuple[int, int, int, int]] = ()  # 0-based (first_row, first_col, last_row, last_col)
    hidden_columns: Sequence[int] = ()
    hidden: bool = False


def xlsx_bytes(*sheets: SheetSpec) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    book.set_properties({"created": CREATED, "author": "巴州区教育科技和体育局"})
    day = book.add_format({"num_format": "yyyy/m/d"})
    for spec in sheets:
        sheet = book.add_worksheet(spec.name)
        merged_cells = set()
        for first_row, first_col, last_row, last_col in spec.merges:
            top = spec.rows[first_row][first_col] if first_col < len(spec.rows[first_row]) else None
            sheet.merge_range(
                spec.first_row + first_row,
                spec.first_column + first_col,
                spec.first_row + last_row,
                spec.first_column + last_col,
                "" if top is None else top,
            )
            merged_cells |= {(r, c) for r in range(first_row, last_row + 1) for c in range(first_col, last_col + 1)}
        for r, row in enumerate(spec.rows):
            for c, cell in enumerate(row):
                if (r, c) in merged_cells or cell is None:
                    continue
                at = (spec.first_row + r, spec.first_column + c)
                if isinstance(cell, date):
                    sheet.write_datetime(*at, datetime.combine(cell, datetime.min.time()), day)
                else:
                    sheet.write(*at, cell)
        for column in spec.hidden_columns:
            sheet.set_column(column, column, None, None, {"hidden": True})
        if spec.hidden:
            sheet.hide()
    book.close()
    return buffer.getvalue()


def one_sheet(rows: Sequence[Sequence[Cell]], **options: Any) -> bytes:
    return xlsx_bytes(SheetSpec("Sheet1", rows, **options))


D = date
SCHOOL_ROWS: list[list[Cell]] = [
    ["巴中二中", "新建校舍", 1200, D(2023, 6, 5), "一期"],
    ["区七小", "新建校舍", 300, D(2023, 6, 6), None],
    ["巴州区第三小学", "新增运动场地", 800, D(2023, 6, 20), None],
]


# --- the tuning half ---------------------------------------------------------------------------


@shape(
    "t01_plain.csv",
    "tune",
    "the plainest CSV: known headers in row 1, UTF-8",
    expect={
        "encoding": "utf-8",
        "header_rows": [1],
        "columns": {"学校": "source", "指标": "indicator", "数值": "value", "日期": "date", "备注": "note"},
        "rows": [2, 3, 4],
        "values": {2: {"source": "巴中二中", "indicator": "新建校舍", "value": "1200", "date": "2023/6/5"}},
    },
)
def _t01() -> bytes:
    return csv_bytes([["学校", "指标", "数值", "日期", "备注"], *SCHOOL_ROWS])


@shape(
    "t02_school_quarter.xlsx",
    "tune",
    "the issue's sheet: a title row, 完成面积（平方米） as the value column, a 合计 row, 填表说明 below",
    kind="progress",
    expect={
        "header_rows": [2],
        "columns": {
            "学校": "source",
            "项目": "indicator",
            "完成面积（平方米）": "value",
            "完成时间": "date",
            "备注": "note",
        },
        "units": ["平方米"],
        "rows": [3, 4, 5],
        "values": {3: {"value": "1200平方米", "date": "2023-06-05", "indicator": "新建校舍", "kind": "progress"}},
        "skipped": {"total": [6], "note": [7, 8]},
    },
)
def _t02() -> bytes:
    rows: list[list[Cell]] = [
        ["2023年第二季度校舍建设进度表", None, None, None, None],
        ["学校", "项目", "完成面积（平方米）", "完成时间", "备注"],
        *SCHOOL_ROWS,
        ["合计", None, 2300, None, None],
        ["填表说明：1. 面积按竣工验收计；", None, None, None, None],
        ["2. 学校名称请填全称。", None, None, None, None],
    ]
    return one_sheet(rows, merges=[(0, 0, 0, 4), (6, 0, 6, 4), (7, 0, 7, 4)])


@shape(
    "t03_gb18030_preamble.csv",
    "tune",
    "GB18030 CSV from Excel: title, a 填报单位 line, 金额(万元) as the value column",
    kind="progress",
    expect={
        "encoding": "gb18030",
        "header_rows": [3],
        "columns": {"单位名称": "source", "指标名称": "indicator", "金额(万元)": "value", "日期": "date"},
        "units": ["万元"],
        "rows": [4, 5],
        "values": {4: {"value": "15.5万元", "indicator": "体育彩票销售"}},
    },
)
def _t03() -> bytes:
    return csv_bytes(
        [
            ["2023年体育彩票销售情况", "", "", ""],
            ["填报单位：体育股（盖章）", "", "填报日期：2023年7月3日", ""],
            ["单位名称", "指标名称", "金额(万元)", "日期"],
            ["体育股", "体育彩票销售", "15.5", "2023/6/30"],
            ["体育股", "体育彩票销售", "9", "2023/5/31"],
        ],
        "gb18030",
    )


@shape(
    "t04_bom_spaced.csv",
    "tune",
    "UTF-8 with BOM; headers typed with spaces and full-width letters (单 位, 数　值)",
    kind="progress",
    expect={
        "encoding": "utf-8-sig",
        "header_rows": [1],
        "columns": {"单 位": "source", "指 标": "indicator", "数\u3000值": "value", "日 期": "date"},
        "rows": [2, 3],
    },
)
def _t04() -> bytes:
    return csv_bytes(
        [
            ["单 位", "指 标", "数\u3000值", "日 期"],
            ["巴中二中", "新建校舍", "１２００", "2023-06-05"],
            ["区七小", "新建校舍", "300", "2023-06-06"],
        ],
        "utf-8-sig",
    )


@shape(
    "t05_utf16_tabs.csv",
    "tune",
    "Excel's 'Unicode text': UTF-16 with BOM, tab-separated",
    kind="progress",
    expect={
        "encoding": "utf-16",
        "header_rows": [1],
        "columns": {"学校": "source", "指标": "indicator", "完成数": "value", "完成日期": "date"},
        "rows": [2, 3],
        "values": {3: {"source": "区七小", "value": "300"}},
    },
)
def _t05() -> bytes:
    rows: list[list[Cell]] = [
        ["学校", "指标", "完成数", "完成日期"],
        ["巴中二中", "新建校舍", 1200, "2023-06-05"],
        ["区七小", "新建校舍", 300, "2023-06-06"],
    ]
    return csv_bytes(rows, "utf-16", delimiter="\t")


@shape(
    "t06_two_level_merged.xlsx",
    "tune",
    "a two-row header: 完成情况 merged over 数值（万平方米） and 方式; single headers merged down both rows",
    kind="progress",
    expect={
        "header_rows": [2, 3],
        "columns": {
            "单位": "source",
            "指标": "indicator",
            "完成情况/数值（万平方米）": "value",
            "完成情况/方式": "mode",
            "日期": "date",
            "备注": "note",
        },
        "not_used": ["序号"],
        "units": ["万平方米"],
        "rows": [4, 5],
        "values": {4: {"value": "1.2万平方米", "mode": "新增"}, 5: {"mode": "累计"}},
        "skipped": {"total": [6]},
    },
)
def _t06() -> bytes:
    rows: list[list[Cell]] = [
        ["巴州区2023年校舍建设进度报送表", None, None, None, None, None, None],
        ["序号", "单位", "指标", "完成情况", None, "日期", "备注"],
        [None, None, None, "数值（万平方米）", "方式", None, None],
        [1, "巴中二中", "新建校舍", 1.2, "新增", D(2023, 6, 5), "一期竣工"],
        [2, "区七小", "新建校舍", 0.3, "累计", D(2023, 6, 6), None],
        [None, "合计", None, 1.5, None, None, None],
    ]
    merges = [(0, 0, 0, 6), (1, 3, 1, 4), *[(1, c, 2, c) for c in (0, 1, 2, 5, 6)]]
    return one_sheet(rows, merges=merges)


@shape(
    "t07_group_titles_above.xlsx",
    "tune",
    "group titles above the header (基本信息, 完成面积（平方米）); 本期 and 累计 side by side: 本期 is the value",
    kind="progress",
    expect={
        "header_rows": [2, 3],
        "columns": {
            "基本信息/学校": "source",
            "基本信息/项目": "indicator",
            "完成面积（平方米）/本期": "value",
            "时间": "date",
        },
        "not_used": ["完成面积（平方米）/累计"],
        "units": ["平方米"],
        "implied": {"mode": "increment"},
        "rows": [4, 5],
        "values": {4: {"value": "500平方米", "mode": "increment"}},
    },
)
def _t07() -> bytes:
    rows: list[list[Cell]] = [
        ["2023年校舍建设月报", None, None, None, None],
        ["基本信息", None, "完成面积（平方米）", None, "时间"],
        ["学校", "项目", "本期", "累计", None],
        ["巴中二中", "新建校舍", 500, 1200, D(2023, 6, 30)],
        ["区七小", "新建校舍", 100, 300, D(2023, 6, 30)],
    ]
    return one_sheet(rows, merges=[(0, 0, 0, 4), (1, 0, 1, 1), (1, 2, 1, 3), (1, 4, 2, 4)])


@shape(
    "t08_measure_unit_column.xlsx",
    "tune",
    "a section's workbook: 计量单位 column, 统计方式, 填报时间 (not a field of progress), source from --source",
    kind="progress",
    source="基础教育股",
    expect={
        "header_rows": [3],
        "columns": {
            "指标名称": "indicator",
            "计量单位": "measure_unit",
            "完成数": "value",
            "统计方式": "mode",
            "日期": "date",
            "备注": "note",
        },
        "not_used": ["序号", "填报时间"],
        "rows": [4, 5],
        "values": {
            4: {"measure_unit": "万平方米", "value": "1.54", "source": "基础教育股", "填报时间": "2023-07-01 09:30"}
        },
    },
)
def _t08() -> bytes:
    rows: list[list[Cell]] = [
        ["基础教育股2023年6月重点指标进展情况表", None, None, None, None, None, None, None],
        ["填报单位：基础教育股    审核人：分管领导", None, None, None, None, None, None, None],
        ["序号", "指标名称", "计量单位", "完成数", "统计方式", "日期", "填报时间", "备注"],
        [1, "新建中小学校舍", "万平方米", "1.54", "累计", D(2023, 6, 30), "2023-07-01 09:30", None],
        [2, "补充教师", "人", 260, "累计", D(2023, 6, 30), "2023-07-01 09:30", "含特岗"],
    ]
    return one_sheet(rows, merges=[(0, 0, 0, 7), (1, 0, 1, 7)])


@shape(
    "t09_blank_margins.xlsx",
    "tune",
    "the table starts at C4: blank rows above and blank columns to the left",
    kind="progress",
    expect={
        "header_rows": [4],
        "columns": {"学校": "source", "指标": "indicator", "数量": "value", "日期": "date"},
        "rows": [5, 6],
        "values": {5: {"value": 1200}},
    },
)
def _t09() -> bytes:
    rows: list[list[Cell]] = [["学校", "指标", "数量", "日期"], *[row[:4] for row in SCHOOL_ROWS[:2]]]
    return one_sheet(rows, first_row=3, first_column=2)


@shape(
    "t10_hidden_column.xlsx",
    "tune",
    "a hidden column with last month's figures headed 数值; the visible 本月完成数 is the value",
    kind="progress",
    expect={
        "header_rows": [1],
        "columns": {"学校": "source", "指标": "indicator", "本月完成数": "value", "日期": "date"},
        "not_used": ["数值"],
        "implied": {"mode": "increment"},
        "rows": [2, 3],
        "values": {2: {"value": 500, "mode": "increment"}},
        "absent": {2: ["数值"]},
    },
)
def _t10() -> bytes:
    rows: list[list[Cell]] = [
        ["学校", "指标", "数值", "本月完成数", "日期"],
        ["巴中二中", "新建校舍", 700, 500, D(2023, 6, 30)],
        ["区七小", "新建校舍", 200, 100, D(2023, 6, 30)],
    ]
    return one_sheet(rows, hidden_columns=[2])


@shape(
    "t11_instructions_and_lists.xlsx",
    "tune",
    "three sheets: 填表说明 (text), 数据 (the data), a hidden 字典 sheet of drop-down lists",
    kind="progress",
    expect={
        "sheets": ["数据"],
        "sheets_not_read": {"填表说明": "no header", "字典": "hidden sheet"},
        "header_rows": [1],
        "columns": {"学校": "source", "指标": "indicator", "数值": "value", "日期": "date", "备注": "note"},
        "rows": [2, 3, 4],
    },
)
def _t11() -> bytes:
    notes = SheetSpec("填表说明", [["填表说明"], ["1. 每校一行；"], ["2. 数值填阿拉伯数字；"]])
    data = SheetSpec("数据", [["学校", "指标", "数值", "日期", "备注"], *SCHOOL_ROWS])
    lists = SheetSpec("字典", [["学校", "指标"], ["巴中二中", "新建校舍"], ["区七小", "新增运动场地"]], hidden=True)
    return xlsx_bytes(notes, data, lists)


@shape(
    "t12_two_quarters.xlsx",
    "tune",
    "one sheet per quarter, same layout: both are read",
    kind="progress",
    expect={
        "sheets": ["一季度", "二季度"],
        "header_rows": [1],
        "columns": {"学校": "source", "指标": "indicator", "数值": "value", "日期": "date"},
        "rows": [2, 3, 2],
        "row_sheets": ["一季度", "一季度", "二季度"],
    },
)
def _t12() -> bytes:
    header: list[Cell] = ["学校", "指标", "数值", "日期"]
    first = SheetSpec(
        "一季度", [header, ["巴中二中", "新建校舍", 100, D(2023, 3, 31)], ["区七小", "新建校舍", 50, D(2023, 3, 31)]]
    )
    second = SheetSpec("二季度", [header, ["巴中二中", "新建校舍", 200, D(2023, 6, 30)]])
    return xlsx_bytes(first, second)


@shape(
    "t13_summary_beside_details.xlsx",
    "tune",
    "a 汇总 sheet beside two detail sheets: the details are read, the summary is not (it would count twice)",
    kind="progress",
    expect={
        "sheets": ["城区学校", "乡镇学校"],
        "sheets_not_read": {"汇总": "a summary sheet beside the detail sheets"},
        "header_rows": [1],
        "columns": {"学校": "source", "指标": "indicator", "数值": "value", "日期": "date"},
        "rows": [2, 2],
    },
)
def _t13() -> bytes:
    header: list[Cell] = ["学校", "指标", "数值", "日期"]
    summary = SheetSpec("汇总", [header, ["全区", "新建校舍", 300, D(2023, 6, 30)]])
    town = SheetSpec("城区学校", [header, ["巴中二中", "新建校舍", 200, D(2023, 6, 30)]])
    country = SheetSpec("乡镇学校", [header, ["曾口中学", "新建校舍", 100, D(2023, 6, 30)]])
    return xlsx_bytes(summary, town, country)


@shape(
    "t14_no_value_column.xlsx",
    "tune",
    "a progress sheet without any figure column: refused once, naming the columns and the field wanted",
    kind="progress",
    expect={"reject": "missing_columns", "wanted": ["value"], "found": ["学校", "项目", "完成时间", "备注"]},
)
def _t14() -> bytes:
    rows: list[list[Cell]] = [["学校", "项目", "完成时间", "备注"], *[[r[0], r[1], r[3], r[4]] for r in SCHOOL_ROWS]]
    return one_sheet(rows)


@shape(
    "t15_no_indicator_no_kind.csv",
    "tune",
    "学校, 完成面积, 日期 and no kind given: nothing says what was done; refused once",
    expect={"reject": "missing_columns", "wanted": ["kind/indicator/metric/category/activity"]},
)
def _t15() -> bytes:
    return csv_bytes([["学校", "完成面积（平方米）", "日期"], ["巴中二中", 1200, "2023-06-05"]])


@shape(
    "t16_class_sizes.xlsx",
    "tune",
    "a school's class sizes: 班级, 班额（人）, 测量日期; the metric is the value column's header",
    kind="measurement",
    source="巴中二中",
    expect={
        "header_rows": [2],
        "columns": {"班级": "class", "班额（人）": "value", "测量日期": "date"},
        "units": ["人"],
        "implied": {"metric": "班额"},
        "rows": [3, 4],
        "values": {3: {"class": "七年级1班", "value": "52人", "metric": "班额", "source": "巴中二中"}},
        "skipped": {"total": [5]},
    },
)
def _t16() -> bytes:
    rows: list[list[Cell]] = [
        ["巴中二中2023年秋季学期班额统计表", None, None],
        ["班级", "班额（人）", "测量日期"],
        ["七年级1班", 52, D(2023, 9, 4)],
        ["七年级2班", 56, D(2023, 9, 4)],
        ["合计", 108, None],
    ]
    return one_sheet(rows, merges=[(0, 0, 0, 2)])


@shape(
    "t17_incidents.csv",
    "tune",
    "incidents without a kind: the 事件类别 column says incident; 简要经过 is the summary",
    expect={
        "kind": "incident",
        "header_rows": [1],
        "columns": {
            "学校": "source",
            "事件类别": "category",
            "发生时间": "occurred_at",
            "死亡人数": "deaths",
            "受伤人数": "injuries",
            "简要经过": "summary",
        },
        "rows": [2],
        "values": {2: {"category": "交通", "deaths": "0", "injuries": "2"}},
    },
)
def _t17() -> bytes:
    return csv_bytes(
        [
            ["学校", "事件类别", "发生时间", "死亡人数", "受伤人数", "简要经过"],
            ["巴中二中", "交通", "2023-05-12 07:40", "0", "2", "两名学生上学途中被电动车撞伤"],
        ]
    )


@shape(
    "t18_activities.xlsx",
    "tune",
    "activities: 活动名称, 活动时间; 参加人数 and 活动地点 mean nothing to an activity",
    expect={
        "kind": "activity",
        "header_rows": [1],
        "columns": {"单位": "source", "活动名称": "activity", "活动时间": "date", "备注": "note"},
        "not_used": ["活动地点", "参加人数"],
        "rows": [2, 3],
    },
)
def _t18() -> bytes:
    rows: list[list[Cell]] = [
        ["单位", "活动名称", "活动时间", "活动地点", "参加人数", "备注"],
        ["巴中二中", "全国中小学生安全教育日主题班会", D(2023, 3, 27), "各班教室", 2100, None],
        ["区七小", "防灾减灾日疏散演练", D(2023, 5, 12), "操场", 1500, "联合消防大队"],
    ]
    return one_sheet(rows)


@shape(
    "t19_map_override.csv",
    "tune",
    "the figure is under 完成情况, which reads as a note; --map '完成情况=value' says otherwise",
    kind="progress",
    mapping=["完成情况=value"],
    expect={
        "header_rows": [1],
        "columns": {"学校": "source", "指标": "indicator", "完成情况": "value", "日期": "date"},
        "matches": {"完成情况": "map"},
        "rows": [2],
        "values": {2: {"value": "1200"}},
    },
)
def _t19() -> bytes:
    return csv_bytes([["学校", "指标", "完成情况", "日期"], ["巴中二中", "新建校舍", "1200", "2023-06-05"]])


@shape(
    "t20_units_row.xlsx",
    "tune",
    "a row of units under the header (平方米 under 完成): bare numbers take it",
    kind="progress",
    expect={
        "header_rows": [1],
        "columns": {"学校": "source", "项目": "indicator", "完成": "value", "日期": "date"},
        "rows": [3, 4],
        "values": {3: {"value": "1200平方米"}},
    },
)
def _t20() -> bytes:
    rows: list[list[Cell]] = [
        ["学校", "项目", "完成", "日期"],
        [None, None, "平方米", None],
        *[r[:4] for r in SCHOOL_ROWS[:2]],
    ]
    return one_sheet(rows)


@shape(
    "t21_column_numbers.csv",
    "tune",
    "a government form's column numbering row (甲 乙 1 2 3) under the header",
    kind="progress",
    expect={
        "header_rows": [2],
        "columns": {"单位": "source", "指标": "indicator", "本期完成": "value", "日期": "date"},
        "implied": {"mode": "increment"},
        "rows": [4, 5],
    },
)
def _t21() -> bytes:
    return csv_bytes(
        [
            ["表1  2023年重点指标完成情况", "", "", ""],
            ["单位", "指标", "本期完成", "日期"],
            ["甲", "乙", "1", "2"],
            ["巴中二中", "新建校舍", "1200", "2023-06-05"],
            ["区七小", "新建校舍", "300", "2023-06-06"],
        ]
    )


@shape(
    "t22_signature_footer.xlsx",
    "tune",
    "sign-off lines under the table (填表人：… 联系电话：…, 审核人：…): skipped, never read as data",
    kind="progress",
    expect={
        "header_rows": [1],
        "columns": {"学校": "source", "指标": "indicator", "数值": "value", "日期": "date", "备注": "note"},
        "rows": [2, 3, 4],
        "skipped": {"signature": [6, 7]},
    },
)
def _t22() -> bytes:
    rows: list[list[Cell]] = [
        ["学校", "指标", "数值", "日期", "备注"],
        *SCHOOL_ROWS,
        [None] * 5,
        ["填表人：张三", None, "联系电话：13800000000", None, None],
        ["审核人：李四", None, None, None, None],
    ]
    return one_sheet(rows)


@shape(
    "t23_prenumbered_template.xlsx",
    "tune",
    "a template with 序号 1–10 filled in and only two rows of data: the empty numbered rows are skipped",
    kind="progress",
    expect={
        "header_rows": [1],
        "columns": {"学校": "source", "指标": "indicator", "数值": "value", "日期": "date"},
        "not_used": ["序号"],
        "rows": [2, 3],
        "skipped": {"no_data": [4, 5, 6, 7, 8, 9, 10, 11]},
    },
)
def _t23() -> bytes:
    rows: list[list[Cell]] = [["序号", "学校", "指标", "数值", "日期"]]
    rows += [[n, *SCHOOL_ROWS[n - 1][:4]] if n <= 2 else [n, None, None, None, None] for n in range(1, 11)]
    return one_sheet(rows)


@shape(
    "t24_subtotals.csv",
    "tune",
    "小计 per township and a 总计 at the end: skipped, the schools kept",
    kind="progress",
    expect={
        "header_rows": [1],
        "columns": {"学校": "source", "指标": "indicator", "数值": "value", "日期": "date"},
        "not_used": ["乡镇"],
        "rows": [2, 3, 5],
        "skipped": {"total": [4, 6, 7]},
    },
)
def _t24() -> bytes:
    return csv_bytes(
        [
            ["乡镇", "学校", "指标", "数值", "日期"],
            ["城区", "巴中二中", "新建校舍", "1200", "2023-06-05"],
            ["城区", "区七小", "新建校舍", "300", "2023-06-06"],
            ["城区小计", "", "", "1500", ""],
            ["曾口镇", "曾口中学", "新建校舍", "200", "2023-06-07"],
            ["曾口镇小计", "", "", "200", ""],
            ["总计", "", "", "1700", ""],
        ]
    )


@shape(
    "t25_english_headers.csv",
    "tune",
    "an integration's export with English headers (School, Indicator, Value, Date, Remarks)",
    kind="progress",
    expect={
        "header_rows": [1],
        "columns": {"School": "source", "Indicator": "indicator", "Value": "value", "Date": "date", "Remarks": "note"},
        "rows": [2],
    },
)
def _t25() -> bytes:
    return csv_bytes(
        [["School", "Indicator", "Value", "Date", "Remarks"], ["巴中二中", "新建校舍", "1200", "2023-06-05", ""]]
    )


def wps_xlsx(sheet_name: str, rows: Sequence[Sequence[Cell]]) -> bytes:
    """A workbook the way WPS 表格 and other producers may write one: prefixed tags (x:), inline
    strings, no shared strings, no styles part, WPS in the document properties."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    cells = []
    for r, row in enumerate(rows, start=1):
        xml_cells = []
        for c, cell in enumerate(row):
            ref = f"{chr(ord('A') + c)}{r}"
            if cell is None:
                continue
            if isinstance(cell, int | float):
                xml_cells.append(f'<x:c r="{ref}"><x:v>{cell}</x:v></x:c>')
            else:
                xml_cells.append(f'<x:c r="{ref}" t="inlineStr"><x:is><x:t>{cell}</x:t></x:is></x:c>')
        cells.append(f'<x:row r="{r}">{"".join(xml_cells)}</x:row>')
    head = '<?xml version="1.0" encoding="UTF-8"?>'
    sheet = f'{head}<x:worksheet xmlns:x="{main}"><x:sheetData>{"".join(cells)}</x:sheetData></x:worksheet>'
    workbook = (
        f'{head}<x:workbook xmlns:x="{main}" xmlns:r="{rel}"><x:sheets>'
        f'<x:sheet name="{sheet_name}" sheetId="1" r:id="rId1"/></x:sheets></x:workbook>'
    )
    package = "http://schemas.openxmlformats.org/package/2006/relationships"
    office = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    types = "application/vnd.openxmlformats"
    parts = {
        "[Content_Types].xml": (
            f'{head}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            f'<Default Extension="rels" ContentType="{types}-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{types}-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" '
            f'ContentType="{types}-officedocument.spreadsheetml.worksheet+xml"/>'
            f'<Override PartName="/docProps/app.xml" ContentType="{types}-officedocument.extended-properties+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": (
            f'{head}<Relationships xmlns="{package}">'
            f'<Relationship Id="rId1" Type="{office}/officeDocument" Target="xl/workbook.xml"/>'
            f'<Relationship Id="rId2" Type="{office}/extended-properties" Target="docProps/app.xml"/></Relationships>'
        ),
        "docProps/app.xml": (
            f'{head}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
            "<Application>WPS 表格</Application></Properties>"
        ),
        "xl/workbook.xml": workbook,
        "xl/_rels/workbook.xml.rels": (
            f'{head}<Relationships xmlns="{package}">'
            f'<Relationship Id="rId1" Type="{office}/worksheet" Target="/xl/worksheets/sheet1.xml"/></Relationships>'
        ),
        "xl/worksheets/sheet1.xml": sheet,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2023, 7, 3, 9, 0, 0)), text.encode())
    return buffer.getvalue()


@shape(
    "t26_wps_inline_strings.xlsx",
    "tune",
    "a WPS-style workbook: prefixed tags, inline strings, no shared strings or styles",
    kind="progress",
    expect={
        "sheets": ["工作表1"],
        "header_rows": [2],
        "columns": {"学校名称": "source", "指标名称": "indicator", "完成数量": "value", "完成日期": "date"},
        "rows": [3, 4],
        "values": {3: {"source": "巴中二中", "value": 1200, "date": "2023-06-05"}},
    },
)
def _t26() -> bytes:
    rows: list[list[Cell]] = [
        ["2023年上半年校舍建设情况", None, None, None],
        ["学校名称", "指标名称", "完成数量", "完成日期"],
        ["巴中二中", "新建校舍", 1200, "2023-06-05"],
        ["区七小", "新建校舍", 300, "2023-06-06"],
    ]
    return wps_xlsx("工作表1", rows)


@shape(
    "t27_repeated_header.csv",
    "tune",
    "a long list printed in pages: the header repeated in the middle is skipped",
    kind="progress",
    expect={
        "header_rows": [1],
        "columns": {"学校": "source", "指标": "indicator", "数值": "value", "日期": "date"},
        "rows": [2, 4],
        "skipped": {"repeated_header": [3]},
    },
)
def _t27() -> bytes:
    header: list[Cell] = ["学校", "指标", "数值", "日期"]
    return csv_bytes(
        [header, ["巴中二中", "新建校舍", "1200", "2023-06-05"], header, ["区七小", "新建校舍", "300", "2023-06-06"]]
    )


@shape(
    "t28_unit_column_named_danwei.xlsx",
    "tune",
    "a column headed 单位 that holds units of measure (平方米, 人): it is the unit, 学校名称 is the source",
    kind="progress",
    expect={
        "header_rows": [1],
        "columns": {"学校名称": "source", "指标": "indicator", "单位": "measure_unit", "完成": "value", "日期": "date"},
        "rows": [2, 3],
        "values": {2: {"measure_unit": "平方米", "value": 1200}},
    },
)
def _t28() -> bytes:
    rows: list[list[Cell]] = [
        ["学校名称", "指标", "单位", "完成", "日期"],
        ["巴中二中", "新建校舍", "平方米", 1200, D(2023, 6, 5)],
        ["巴中二中", "补充教师", "人", 12, D(2023, 6, 5)],
    ]
    return one_sheet(rows)


@shape(
    "t29_cut_off_headers.csv",
    "tune",
    "headers cut off by a narrow column (填报单, 测量日) and a thousands separator in the figures",
    kind="progress",
    expect={
        "header_rows": [1],
        "columns": {"填报单": "source", "指标": "indicator", "完成量（平方米）": "value", "测量日": "date"},
        "matches": {"填报单": "fuzzy", "测量日": "fuzzy"},
        "rows": [2],
        "values": {2: {"value": "1,200平方米"}},
    },
)
def _t29() -> bytes:
    return csv_bytes(
        [["填报单", "指标", "完成量（平方米）", "测量日"], ["巴中二中", "新建校舍", "1,200", "2023-06-05"]]
    )


# --- the held-out half: added after tuning, and only scored -----------------------------------


@shape(
    "h01_gbk_quarter_money.csv",
    "held_out",
    "a section's quarterly CSV in GB18030: 报送学校, 工作任务, 本季度完成（万元）, 截止时间, 存在问题",
    kind="progress",
    expect={
        "encoding": "gb18030",
        "header_rows": [2],
        "columns": {
            "报送学校": "source",
            "工作任务": "indicator",
            "本季度完成（万元）": "value",
            "截止时间": "date",
            "存在问题": "note",
        },
        "units": ["万元"],
        "implied": {"mode": "increment"},
        "rows": [3, 4],
        "values": {3: {"value": "35万元", "date": "2023/6/30"}},
    },
)
def _h01() -> bytes:
    return csv_bytes(
        [
            ["2023年第二季度学校项目资金执行情况", "", "", "", ""],
            ["报送学校", "工作任务", "本季度完成（万元）", "截止时间", "存在问题"],
            ["巴中二中", "薄弱学校改造", "35", "2023/6/30", "资金未全部到位"],
            ["区七小", "薄弱学校改造", "12.5", "2023/6/30", ""],
        ],
        "gb18030",
    )


@shape(
    "h02_kindergarten_area.xlsx",
    "held_out",
    "学校（园）名称, 建设项目, 新增面积(㎡), 竣工日期; a title, a subtitle with the period, a 合计 row",
    kind="progress",
    expect={
        "header_rows": [3],
        "columns": {
            "学校（园）名称": "source",
            "建设项目": "indicator",
            "新增面积(㎡)": "value",
            "竣工日期": "date",
            "备注": "note",
        },
        "not_used": ["序号"],
        "units": ["㎡"],
        "implied": {"mode": "increment"},  # 新增面积: added after the blind scoring, the reading is right
        "rows": [4, 5],
        "values": {4: {"value": "640㎡", "date": "2023-05-20"}},
        "skipped": {"total": [6]},
    },
)
def _h02() -> bytes:
    rows: list[list[Cell]] = [
        ["巴州区2023年公办幼儿园建设进度表", None, None, None, None, None],
        ["（2023年4月—6月）", None, None, None, None, None],
        ["序号", "学校（园）名称", "建设项目", "新增面积(㎡)", "竣工日期", "备注"],
        [1, "巴州区第一幼儿园", "新建幼儿园", 640, D(2023, 5, 20), None],
        [2, "巴州区第三幼儿园", "新建幼儿园", 420, D(2023, 6, 18), "已验收"],
        ["合  计", None, None, 1060, None, None],
    ]
    return one_sheet(rows, merges=[(0, 0, 0, 5), (1, 0, 1, 5), (5, 0, 5, 2)])


@shape(
    "h03_plan_done_rate.xlsx",
    "held_out",
    "指标完成情况 merged over 计划数, 完成数, 完成率（%）: the value is 完成数; the plan and the rate are not",
    kind="progress",
    expect={
        "header_rows": [1, 2],
        "columns": {
            "单位": "source",
            "指标名称": "indicator",
            "指标完成情况/完成数": "value",
            "日期": "date",
        },
        "not_used": ["指标完成情况/计划数", "指标完成情况/完成率（%）"],
        "rows": [3, 4],
        "values": {3: {"value": 80}},
    },
)
def _h03() -> bytes:
    rows: list[list[Cell]] = [
        ["单位", "指标名称", "指标完成情况", None, None, "日期"],
        [None, None, "计划数", "完成数", "完成率（%）", None],
        ["人事股", "补充教师", 260, 80, 30.8, D(2023, 6, 30)],
        ["人事股", "教师培训", 6600, 3100, 47.0, D(2023, 6, 30)],
    ]
    return one_sheet(rows, merges=[(0, 2, 0, 4), (0, 0, 1, 0), (0, 1, 1, 1), (0, 5, 1, 5)])


@shape(
    "h04_exercise_minutes.xlsx",
    "held_out",
    "a school's daily exercise by class: 年级, 班级, 每天体育锻炼时间（分钟）, 统计日期",
    kind="measurement",
    source="区七小",
    expect={
        "header_rows": [1],
        "columns": {"班级": "class", "每天体育锻炼时间（分钟）": "value", "统计日期": "date"},
        "not_used": ["年级"],
        "units": ["分钟"],
        "implied": {"metric": "每天体育锻炼时间"},
        "rows": [2, 3],
        "values": {2: {"value": "70分钟", "class": "1班"}},
    },
)
def _h04() -> bytes:
    rows: list[list[Cell]] = [
        ["年级", "班级", "每天体育锻炼时间（分钟）", "统计日期"],
        ["三年级", "1班", 70, D(2023, 10, 31)],
        ["三年级", "2班", 55, D(2023, 10, 31)],
    ]
    return one_sheet(rows)


@shape(
    "h05_outbreak_register.csv",
    "held_out",
    "an outbreak register with no category column: 病种 says it is an infectious disease",
    kind="incident",
    expect={
        "header_rows": [1],
        "columns": {
            "学校": "source",
            "班级": "class",
            "病种": "disease",
            "发病人数": "cases",
            "首例发病时间": "date",
            "报告时间": "reported_at",
            "处置情况": "note",
        },
        "implied": {"category": "传染病"},
        "rows": [2],
        "values": {2: {"disease": "诺如病毒", "cases": "12"}},
    },
)
def _h05() -> bytes:
    return csv_bytes(
        [
            ["学校", "班级", "病种", "发病人数", "首例发病时间", "报告时间", "处置情况"],
            ["区七小", "二年级3班", "诺如病毒", "12", "2023-03-06 08:00", "2023-03-06 15:20", "已消杀，停课观察"],
        ]
    )


@shape(
    "h06_activity_themes.xlsx",
    "held_out",
    "activities headed 活动主题 and 开展时间, with 参与人次 beside them",
    kind="activity",
    expect={
        "header_rows": [2],
        "columns": {"学校": "source", "活动主题": "activity", "开展时间": "date"},
        "not_used": ["参与人次"],
        "rows": [3],
    },
)
def _h06() -> bytes:
    rows: list[list[Cell]] = [
        ["2023年推普周活动开展情况", None, None, None],
        ["学校", "活动主题", "开展时间", "参与人次"],
        ["巴中二中", "推广普通话宣传周系列活动", D(2023, 9, 12), 1800],
    ]
    return one_sheet(rows, merges=[(0, 0, 0, 3)])


@shape(
    "h07_data_on_second_sheet.xlsx",
    "held_out",
    "Sheet1 left empty, the data on Sheet2",
    kind="progress",
    expect={
        "sheets": ["Sheet2"],
        "header_rows": [1],
        "columns": {"学校": "source", "指标": "indicator", "数值": "value", "日期": "date", "备注": "note"},
        "rows": [2, 3, 4],
    },
)
def _h07() -> bytes:
    return xlsx_bytes(
        SheetSpec("Sheet1", []), SheetSpec("Sheet2", [["学校", "指标", "数值", "日期", "备注"], *SCHOOL_ROWS])
    )


@shape(
    "h08_semicolons.csv",
    "held_out",
    "a semicolon-separated CSV (Excel with a European list separator)",
    kind="progress",
    expect={
        "header_rows": [1],
        "columns": {"单位": "source", "指标": "indicator", "数值": "value", "日期": "date"},
        "rows": [2, 3],
        "values": {2: {"value": "1200"}},
    },
)
def _h08() -> bytes:
    rows: list[list[Cell]] = [["单位", "指标", "数值", "日期"], ["巴中二中", "新建校舍", "1200", "2023-06-05"]]
    rows.append(["区七小", "新建校舍", "300", "2023-06-06"])
    return csv_bytes(rows, delimiter=";")


@shape(
    "h09_unit_line_above.xlsx",
    "held_out",
    "a long preamble, and '单位：万元' on its own line above the table: the figures are in 万元",
    kind="progress",
    expect={
        "header_rows": [5],
        "columns": {"单位名称": "source", "项目名称": "indicator", "完成投资": "value", "时间": "date"},
        "units": ["万元"],
        "rows": [6],
        "values": {6: {"value": "230万元"}},
    },
)
def _h09() -> bytes:
    rows: list[list[Cell]] = [
        ["巴州区教育系统2023年重点项目投资完成情况", None, None, None],
        ["填报单位：计划财务股", None, None, None],
        ["填报日期：2023年7月5日", None, None, None],
        [None, None, None, "单位：万元"],
        ["单位名称", "项目名称", "完成投资", "时间"],
        ["计划财务股", "薄弱学校改造", 230, D(2023, 6, 30)],
    ]
    return one_sheet(rows)


@shape(
    "h10_line_breaks_in_headers.xlsx",
    "held_out",
    "headers with line breaks typed in the cell (完成\\n面积\\n（㎡）)",
    kind="progress",
    expect={
        "header_rows": [1],
        "columns": {"学校\n名称": "source", "项目": "indicator", "完成\n面积\n（㎡）": "value", "完成\n时间": "date"},
        "units": ["㎡"],
        "rows": [2],
        "values": {2: {"value": "1200㎡"}},
    },
)
def _h10() -> bytes:
    rows: list[list[Cell]] = [
        ["学校\n名称", "项目", "完成\n面积\n（㎡）", "完成\n时间"],
        ["巴中二中", "新建校舍", 1200, D(2023, 6, 5)],
    ]
    return one_sheet(rows)


@shape(
    "h11_spacer_columns.csv",
    "held_out",
    "empty spacer columns between the columns, and a trailing comma on every line",
    kind="progress",
    expect={
        "header_rows": [1],
        "columns": {"学校": "source", "指标": "indicator", "数值": "value", "日期": "date"},
        "rows": [2],
        "values": {2: {"source": "巴中二中", "value": "1200", "date": "2023-06-05"}},
    },
)
def _h11() -> bytes:
    return csv_bytes(
        [["学校", "", "指标", "", "数值", "日期", ""], ["巴中二中", "", "新建校舍", "", "1200", "2023-06-05", ""]]
    )


@shape(
    "h12_school_merged_down.xlsx",
    "held_out",
    "one school's name merged down over its three indicators: every row is that school's",
    kind="progress",
    expect={
        "header_rows": [1],
        "columns": {"学校": "source", "指标": "indicator", "数值": "value", "日期": "date"},
        "rows": [2, 3, 4],
        "values": {3: {"source": "巴中二中"}, 4: {"source": "巴中二中", "indicator": "补充教师"}},
    },
)
def _h12() -> bytes:
    rows: list[list[Cell]] = [
        ["学校", "指标", "数值", "日期"],
        ["巴中二中", "新建校舍", 1200, D(2023, 6, 5)],
        [None, "新增运动场地", 800, D(2023, 6, 5)],
        [None, "补充教师", 6, D(2023, 6, 5)],
    ]
    return one_sheet(rows, merges=[(1, 0, 3, 0)])


@shape(
    "h13_chinese_dates.csv",
    "held_out",
    "dates written 2023年6月5日 under a header 时间",
    kind="progress",
    expect={
        "header_rows": [1],
        "columns": {"学校": "source", "指标": "indicator", "完成数": "value", "时间": "date"},
        "rows": [2],
        "values": {2: {"date": "2023年6月5日"}},
    },
)
def _h13() -> bytes:
    return csv_bytes([["学校", "指标", "完成数", "时间"], ["巴中二中", "新建校舍", "1200平方米", "2023年6月5日"]])


@shape(
    "h14_figures_under_wancheng_qingkuang.csv",
    "held_out",
    "the figures with their units under 完成情况: a column of amounts is the value",
    kind="progress",
    expect={
        "header_rows": [1],
        "columns": {"学校": "source", "指标": "indicator", "完成情况": "value", "日期": "date"},
        "rows": [2, 3],
        "values": {2: {"value": "1200平方米"}},
    },
)
def _h14() -> bytes:
    return csv_bytes(
        [
            ["学校", "指标", "完成情况", "日期"],
            ["巴中二中", "新建校舍", "1200平方米", "2023-06-05"],
            ["区七小", "新建校舍", "300平方米", "2023-06-06"],
        ]
    )


@shape(
    "h15_no_date_column.xlsx",
    "held_out",
    "a progress sheet with no date anywhere: refused once, naming the date wanted",
    kind="progress",
    expect={"reject": "missing_columns", "wanted": ["date"], "found": ["学校", "指标", "数值", "备注"]},
)
def _h15() -> bytes:
    rows: list[list[Cell]] = [["学校", "指标", "数值", "备注"], *[[r[0], r[1], r[2], r[4]] for r in SCHOOL_ROWS]]
    return one_sheet(rows)


@shape(
    "h16_kind_column.csv",
    "held_out",
    "a 报送类型 column: each row says its own kind (no default given)",
    expect={
        "kind": None,
        "header_rows": [1],
        "columns": {"报送类型": "kind", "单位": "source", "指标": "indicator", "数值": "value", "日期": "date"},
        "rows": [2, 3],
        "values": {2: {"kind": "进度"}},
    },
)
def _h16() -> bytes:
    return csv_bytes(
        [
            ["报送类型", "单位", "指标", "数值", "日期"],
            ["进度", "巴中二中", "新建校舍", "1200", "2023-06-05"],
            ["进度", "区七小", "新建校舍", "300", "2023-06-06"],
        ]
    )


@shape(
    "h17_bilingual_headers.xlsx",
    "held_out",
    "bilingual headers: 学校 School, 指标 Indicator, 数值 Value, 日期 Date",
    kind="progress",
    expect={
        "header_rows": [1],
        "columns": {"学校 School": "source", "指标 Indicator": "indicator", "数值 Value": "value", "日期 Date": "date"},
        "rows": [2],
    },
)
def _h17() -> bytes:
    rows: list[list[Cell]] = [["学校 School", "指标 Indicator", "数值 Value", "日期 Date"], SCHOOL_ROWS[0][:4]]
    return one_sheet(rows)


@shape(
    "h18_hidden_but_mapped.xlsx",
    "held_out",
    "the figures are in a hidden column; --map names it, so it is read",
    kind="progress",
    mapping=["C=value"],
    expect={
        "header_rows": [1],
        "columns": {"学校": "source", "指标": "indicator", "实际完成": "value", "日期": "date"},
        "matches": {"实际完成": "map"},
        "rows": [2],
        "values": {2: {"value": 1200}},
    },
)
def _h18() -> bytes:
    rows: list[list[Cell]] = [["学校", "指标", "实际完成", "日期"], SCHOOL_ROWS[0][:4]]
    return one_sheet(rows, hidden_columns=[2])


@shape(
    "h19_plan_before_done.csv",
    "held_out",
    "计划完成数 before 实际完成数: the plan is not the progress",
    kind="progress",
    expect={
        "header_rows": [1],
        "columns": {"学校": "source", "指标": "indicator", "实际完成数": "value", "日期": "date"},
        "not_used": ["计划完成数"],
        "rows": [2],
        "values": {2: {"value": "900"}},
    },
)
def _h19() -> bytes:
    return csv_bytes(
        [["学校", "指标", "计划完成数", "实际完成数", "日期"], ["巴中二中", "新建校舍", "1200", "900", "2023-06-05"]]
    )


@shape(
    "h20_section_headings.xlsx",
    "held_out",
    "section headings inside the table (一、校舍建设) over their rows: not data",
    kind="progress",
    expect={
        "header_rows": [1],
        "columns": {"单位": "source", "项目": "indicator", "完成数": "value", "日期": "date"},
        "not_used": ["序号"],
        "rows": [3, 5],
        "skipped": {"no_data": [2, 4]},
    },
)
def _h20() -> bytes:
    rows: list[list[Cell]] = [
        ["序号", "单位", "项目", "完成数", "日期"],
        ["一", "校舍建设", None, None, None],
        [1, "巴中二中", "新建校舍", 1200, D(2023, 6, 5)],
        ["二", "教师队伍", None, None, None],
        [2, "人事股", "补充教师", 80, D(2023, 6, 30)],
    ]
    return one_sheet(rows)


@shape(
    "h21_dotted_text_dates.xlsx",
    "held_out",
    "dates typed as text 2023.06.05, and figures typed as text",
    kind="progress",
    expect={
        "header_rows": [1],
        "columns": {"学校": "source", "指标": "indicator", "完成量": "value", "完成日期": "date"},
        "rows": [2],
        "values": {2: {"value": "1200", "date": "2023.06.05"}},
    },
)
def _h21() -> bytes:
    return one_sheet([["学校", "指标", "完成量", "完成日期"], ["巴中二中", "新建校舍", "1200", "2023.06.05"]])


@shape(
    "h22_monitoring_items.xlsx",
    "held_out",
    "measurements with 监测项目, 监测值, 计量单位, 监测日期, 班级",
    kind="measurement",
    source="巴中二中",
    expect={
        "header_rows": [1],
        "columns": {
            "监测项目": "metric",
            "班级": "class",
            "监测值": "value",
            "计量单位": "measure_unit",
            "监测日期": "date",
        },
        "rows": [2, 3],
        "values": {2: {"metric": "班额", "value": 48, "measure_unit": "人"}},
    },
)
def _h22() -> bytes:
    rows: list[list[Cell]] = [
        ["监测项目", "班级", "监测值", "计量单位", "监测日期"],
        ["班额", "八年级1班", 48, "人", D(2023, 9, 4)],
        ["班额", "八年级2班", 51, "人", D(2023, 9, 4)],
    ]
    return one_sheet(rows)


@shape(
    "h23_whole_district_total_first.csv",
    "held_out",
    "全区合计 as the first data row, above the schools",
    kind="progress",
    expect={
        "header_rows": [1],
        "columns": {"单位": "source", "指标": "indicator", "数值": "value", "日期": "date"},
        "rows": [3, 4],
        "skipped": {"total": [2]},
    },
)
def _h23() -> bytes:
    return csv_bytes(
        [
            ["单位", "指标", "数值", "日期"],
            ["全区合计", "新建校舍", "1500", "2023-06-30"],
            ["巴中二中", "新建校舍", "1200", "2023-06-30"],
            ["区七小", "新建校舍", "300", "2023-06-30"],
        ]
    )


# --- writing -----------------------------------------------------------------------------------


def main() -> None:
    manifest = []
    for item in SHAPES:
        data = item.build()
        (HERE / item.name).write_bytes(data)
        entry: Spec = {"file": item.name, "split": item.split, "about": item.about}
        entry |= {key: value for key, value in (("kind", item.kind), ("source", item.source)) if value}
        if item.mapping:
            entry["map"] = item.mapping
        entry["expect"] = item.expect
        manifest.append(entry)
    text = yaml.safe_dump(manifest, allow_unicode=True, sort_keys=False, width=120)
    (HERE / "manifest.yaml").write_text(
        "# Generated by make_sheets.py (the expectations are written there, by hand); do not edit.\n" + text,
        encoding="utf-8",
    )
    print(f"{len(SHAPES)} shapes written to {HERE}")


if __name__ == "__main__":
    main()
