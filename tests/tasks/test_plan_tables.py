"""Task tables (任务分解表) as XLSX and DOCX: numbered rows become tasks, 责任单位 their responsible
units, 完成时限 their targets' due dates; report columns (完成情况) are not read."""

from __future__ import annotations

from datetime import date
from io import BytesIO
from pathlib import Path

import pytest
from docx import Document
from openpyxl import Workbook
from typer.testing import CliRunner

from duban_tasks.domain.plan_import import ImportResult
from duban_tasks.domain.plan_import.documents import import_document
from duban_tasks.domain.plan_import.tables import TableError
from duban_tasks.entrypoints.cli import plan_app

TITLE = "某县教育局2024年重点工作任务分解表"
HEADER = ("序号", "重点任务", "目标要求", "牵头单位", "配合单位", "完成时限", "1-6月完成情况")
ROWS: tuple[tuple[object, ...], ...] = (
    ("一、办学条件", None, None, None, None, None, None),
    (1, "新建城北幼儿园", "新建幼儿园3所,新增学位900个", "县教育局", "县住建局", "2024年8月底前", "已完成主体工程50%"),
    (None, None, "改造学校旱厕26座", None, None, None, None),  # 序号 merged with the row above
    ("二、队伍建设", None, None, None, None, None, None),
    (2, "补充教师", "招聘教师120名、培训教师3000人次", "县教育局、县人社局", None, "年底前", None),
    (3, "每月开展校园安全检查", None, "县教育局", None, "长期", None),
)


def _xlsx(rows: tuple[tuple[object, ...], ...] = ROWS, title: str | None = TITLE) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    if title:
        sheet.append([title])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    sheet.append(list(HEADER))
    for row in rows:
        sheet.append(list(row))
    first = 3 if title else 2
    sheet.merge_cells(start_row=first + 1, start_column=1, end_row=first + 2, end_column=1)  # 序号 of task 1
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _docx() -> bytes:
    document = Document()
    document.add_paragraph(TITLE)
    table = document.add_table(rows=1 + len(ROWS), cols=len(HEADER))
    for column, text in enumerate(HEADER):
        table.cell(0, column).text = text
    for row_index, row in enumerate(ROWS, start=1):
        for column, value in enumerate(row):
            if value is not None:
                table.cell(row_index, column).text = str(value)
    table.cell(2, 0).merge(table.cell(3, 0))  # 序号 of task 1 over its continuation row
    for row_index in (1, 4):  # the section headings span the whole row
        table.cell(row_index, 0).merge(table.cell(row_index, len(HEADER) - 1))
    buffer = BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _summary(result: ImportResult) -> list[tuple[int, float, str, date]]:
    return [(p.task.no, p.target.value, p.target.unit, p.due) for p in result.placed_targets]


EXPECTED_TARGETS = [
    (1, 3, "所", date(2024, 8, 31)),
    (1, 900, "个", date(2024, 8, 31)),
    (1, 26, "座", date(2024, 8, 31)),
    (2, 120, "人", date(2024, 12, 31)),
    (2, 3000, "人次", date(2024, 12, 31)),
    (3, 1, "次", date(2024, 12, 31)),
]


@pytest.mark.parametrize(("suffix", "make"), [(".xlsx", _xlsx), (".docx", _docx)])
def test_numbered_rows_are_tasks_with_their_units_and_due_dates(suffix: str, make: object) -> None:
    assert callable(make)
    result = import_document(make(), suffix=suffix)
    plan = result.plan
    assert (plan.year, plan.title, plan.issuer) == (2024, TITLE, "某县教育局")
    assert [(s.no, s.title) for s in plan.sections] == [("一", "办学条件"), ("二", "队伍建设")]
    assert [(t.no, t.title, t.responsible) for _, t in plan.tasks()] == [
        (1, "新建城北幼儿园", ["县教育局"]),
        (2, "补充教师", ["县教育局", "县人社局"]),
        (3, "每月开展校园安全检查", ["县教育局"]),
    ]
    assert _summary(result) == EXPECTED_TARGETS
    assert plan.target("t03_01").target.schedule is not None


def test_report_columns_are_not_read() -> None:
    result = import_document(_xlsx(), suffix=".xlsx")
    assert all("完成主体" not in p.target.text for p in result.placed_targets)
    assert all(p.target.unit != "ratio" for p in result.placed_targets)


def test_a_table_without_a_year_in_its_title_takes_the_year_of_its_cells_or_the_caller() -> None:
    untitled = import_document(_xlsx(title=None), suffix=".xlsx")
    assert untitled.plan.year == 2024  # 2024年8月底前 in a 完成时限 cell
    assert import_document(_xlsx(title=None), suffix=".xlsx", year=2025).plan.year == 2025


def test_a_docx_without_a_table_is_read_as_text() -> None:
    document = Document()
    for line in ("某县教育局2024年为民办实事", "1.新建幼儿园3所。", "2.新增校车12辆。"):
        document.add_paragraph(line)
    buffer = BytesIO()
    document.save(buffer)
    result = import_document(buffer.getvalue(), suffix=".docx")
    assert [(p.task.no, p.target.value, p.target.unit) for p in result.placed_targets] == [(1, 3, "所"), (2, 12, "辆")]


def test_files_that_hold_no_table_are_refused_with_the_reason() -> None:
    with pytest.raises(TableError, match="xlsx"):
        import_document(b"", suffix=".xls")
    with pytest.raises(TableError, match="XLSX"):
        import_document(b"not a workbook", suffix=".xlsx")
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["随便写的一行"])
    buffer = BytesIO()
    workbook.save(buffer)
    with pytest.raises(TableError, match="header"):
        import_document(buffer.getvalue(), suffix=".xlsx")


def test_the_import_command_reads_a_table_and_refuses_an_unreadable_file(tmp_path: Path) -> None:
    table = tmp_path / "分解表.xlsx"
    table.write_bytes(_xlsx())
    outcome = CliRunner().invoke(plan_app, ["import", str(table), "--json"])
    assert outcome.exit_code == 0, outcome.output
    assert "26" in outcome.output
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK no zip")
    refused = CliRunner().invoke(plan_app, ["import", str(broken)])
    assert refused.exit_code == 2
    assert "XLSX" in refused.output
