from __future__ import annotations

import io
import warnings
import zipfile
from datetime import datetime

import pytest
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

from duban_reports.rendering import render
from duban_reports.rendering.xlsx import MAX_SHEET_NAME, sheet_name
from tests.reports.report_goldens import assert_matches_golden
from tests.reports.report_samples import SECTIONS, sample_report

SECTION_SHEETS = [
    "一、深化党建引领",
    "二、夯实教育基础",
    "三、加快教育现代化",
    "四、坚持德育为首",
    "五、狠抓队伍建设",
    "六、坚守底线思维",
    "七、办好民生实事",
    "八、加快创新驱动",
    "九、发展体育事业",
]


def _workbook() -> Workbook:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # openpyxl warns on parts it cannot read; there should be none
        return load_workbook(io.BytesIO(render(sample_report(), "xlsx")))


def test_xlsx_matches_its_golden_file() -> None:
    assert_matches_golden("2023-Q2_quarterly.xlsx", render(sample_report(), "xlsx"))


def test_xlsx_is_byte_identical_when_rendered_twice() -> None:
    assert render(sample_report(), "xlsx") == render(sample_report(), "xlsx")


def test_xlsx_takes_its_timestamps_from_as_of_not_the_clock() -> None:
    package = zipfile.ZipFile(io.BytesIO(render(sample_report(), "xlsx")))
    core = package.read("docProps/core.xml").decode("utf-8")

    assert {entry.date_time for entry in package.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert '<dcterms:created xsi:type="dcterms:W3CDTF">2023-06-30T16:00:00Z</dcterms:created>' in core
    assert '<dcterms:modified xsi:type="dcterms:W3CDTF">2023-06-30T16:00:00Z</dcterms:modified>' in core


def test_xlsx_has_a_summary_sheet_and_one_sheet_per_plan_section() -> None:
    names = _workbook().sheetnames

    assert names[0] == "总览"
    assert names[1:10] == SECTION_SHEETS
    assert names[10:] == ["滞后、逾期及未达标事项", "校园安全与疫情", "数据报送"]


def test_each_section_sheet_lists_that_sections_targets_with_typed_values() -> None:
    workbook = _workbook()
    data = sample_report()

    for section, name in zip(data.sections, SECTION_SHEETS, strict=True):
        sheet = workbook[name]
        ids = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
        assert ids == [row.target_id for row in data.section_targets(section.no)]

    sheet = workbook["二、夯实教育基础"]
    header = [cell.value for cell in sheet[1]]
    building = next(row for row in sheet.iter_rows(min_row=2, values_only=True) if row[1] == "t07_school_building_new")
    values = dict(zip(header, building, strict=True))
    assert values["目标"] == "1.54万平方米"
    assert values["目标值"] == 15400
    assert values["实际值"] == 6200
    assert values["完成率"] == pytest.approx(6200 / 15400, abs=1e-4)
    assert values["状态"] == "正常推进"
    assert values["截止日期"] == datetime(2023, 12, 31)
    assert values["责任单位"] == "计划财务股、项目办"


def test_target_sheets_freeze_the_header_filter_and_colour_the_status() -> None:
    sheet = _workbook()["三、加快教育现代化"]

    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:N{sheet.max_row}"
    assert sheet["A1"].font.b
    assert sheet["J2"].number_format == "0.0%"
    assert sheet["M2"].number_format == 'yyyy"年"m"月"d"日"'
    rules = [rule for ranges in sheet.conditional_formatting for rule in ranges.rules]
    assert {rule.formula[0] for rule in rules if rule.type == "cellIs"} >= {'"逾期未完成"', '"严重滞后"', '"进度滞后"'}
    assert sheet.column_dimensions["C"].width >= 30


def test_the_summary_sheet_carries_the_headline_figures() -> None:
    sheet = _workbook()["总览"]
    figures = {row[0]: row[1] for row in sheet.iter_rows(min_row=5, max_row=40, values_only=True) if row[0]}

    assert sheet["A1"].value == "巴州区教育科技和体育局 2023年第二季度工作计划执行情况报告（季报）"
    assert figures["量化指标（项）"] == 60
    assert figures["本期校园安全事件（起）"] == 9
    assert figures["确认用时中位数"] == "2小时35分钟"
    assert figures["报送率"] == pytest.approx(145 / 156)
    assert figures["一、深化党建引领"] == 6  # the section table: targets per section


@pytest.mark.parametrize(
    ("text", "taken", "expected"),
    [
        ("一、深化党建引领", (), "一、深化党建引领"),
        ("a/b\\c?d*e[f]g:h", (), "abcdefgh"),
        ("'引号'", (), "引号"),
        ("三、" + "很长的领域名称" * 6, (), ("三、" + "很长的领域名称" * 6)[:MAX_SHEET_NAME]),
        ("总览", ("总览",), "总览(2)"),
        ("Sheet", ("sheet", "Sheet(2)"), "Sheet(3)"),
        ("", (), "Sheet"),
    ],
)
def test_sheet_names_are_valid_unique_and_at_most_31_characters(
    text: str, taken: tuple[str, ...], expected: str
) -> None:
    name = sheet_name(text, taken)

    assert name == expected
    assert len(name) <= MAX_SHEET_NAME


def test_the_sample_covers_all_nine_sections() -> None:
    assert len(SECTIONS) == 9
