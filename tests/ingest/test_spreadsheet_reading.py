"""Reading the CSV and XLSX files schools upload: layout quirks, encodings, limits and hostile files."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from duban_contracts.plan import load_plan
from duban_ingest.domain.normalise import NormalisationContext, Progress, Rejection, UnitRegistry, normalise
from duban_ingest.domain.spreadsheets import FileLimits, FileRejection, Table, read_table

CSV_TEXT = (
    "巴州区2023年校舍建设进度报送表,,,,,\n"
    "单位,指标,数值,方式,日期,备注\n"
    "巴中二中,新建校舍,1.2万平方米,新增,2023-06-05,一期竣工\n"
    ",,,,,\n"
    "区七小,新建校舍,3000平方米,新增,2023年6月6日,\n"
    "\n"
    "合 计,,1.5万平方米,,,\n"
)


def _table(result: Table | FileRejection) -> Table:
    assert isinstance(result, Table), result
    return result


def _rejection(result: Table | FileRejection) -> FileRejection:
    assert isinstance(result, FileRejection), result
    return result


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_each_encoding_gives_the_same_rows(encoding: str) -> None:
    table = _table(read_table(CSV_TEXT.encode(encoding), "进度.csv", FileLimits()))
    assert table.encoding == encoding
    assert table.header_row == 2
    assert [row.number for row in table.rows] == [3, 5]
    assert table.rows[0].values == {
        "source": "巴中二中",
        "indicator": "新建校舍",
        "value": "1.2万平方米",
        "mode": "新增",
        "date": "2023-06-05",
        "note": "一期竣工",
    }


def test_csv_total_row_is_skipped_and_reported() -> None:
    table = _table(read_table(CSV_TEXT.encode("gb18030"), "进度.csv", FileLimits()))
    assert [(skipped.number, skipped.reason) for skipped in table.skipped] == [(7, "total")]


def test_tab_separated_text_is_read() -> None:
    text = "单位\t指标\t数值\t日期\n巴中二中\t新建校舍\t100\t2023-06-05\n"
    table = _table(read_table(text.encode("utf-8"), "进度.txt", FileLimits()))
    assert table.rows[0].values["value"] == "100"


def test_rows_take_the_callers_default_kind_and_source_unless_they_carry_their_own() -> None:
    text = "单位,指标,数值,日期\n,新建校舍,100,2023-06-05\n区七小,新建校舍,200,2023-06-05\n"
    table = _table(read_table(text.encode(), "a.csv", FileLimits(), default_kind="progress", default_source="巴中二中"))
    assert [row.values["source"] for row in table.rows] == ["巴中二中", "区七小"]
    assert all(row.values["kind"] == "progress" for row in table.rows)


def _progress_workbook() -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert isinstance(sheet, Worksheet)
    sheet.title = "校舍建设"
    sheet.append(["巴州区2023年校舍建设进度报送表"])
    sheet.merge_cells("A1:G1")
    sheet.append(["序号", "单位", "指标", "完成情况", None, "日期", "备注"])
    sheet.append([None, None, None, "数值（万平方米）", "方式", None, None])
    for column in "ABCFG":  # header cells merged over both header rows
        sheet.merge_cells(f"{column}2:{column}3")
    sheet.merge_cells("D2:E2")  # 完成情况 groups 数值 and 方式
    sheet.append([1, "巴中二中", "新建校舍", 1.2, "新增", datetime(2023, 6, 5), "一期竣工"])
    sheet.append([None] * 7)
    sheet.append([2, "区七小", "新建校舍", 0.3, "累计", "2023年6月6日", None])
    sheet.append([None, "合计", None, 1.5, None, None, None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_xlsx_with_title_and_two_level_merged_header_is_read() -> None:
    table = _table(read_table(_progress_workbook(), "进度.xlsx", FileLimits(), default_kind="progress"))
    assert (table.format, table.sheet, table.header_row) == ("xlsx", "校舍建设", 3)
    assert table.headers == ("序号", "单位", "指标", "完成情况/数值（万平方米）", "完成情况/方式", "日期", "备注")
    assert [row.number for row in table.rows] == [4, 6]
    assert [skipped.number for skipped in table.skipped] == [7]
    first = table.rows[0].values
    assert first["source"] == "巴中二中"
    assert first["value"] == "1.2万平方米"  # the header's unit travels with the bare number
    assert first["date"] == datetime(2023, 6, 5)
    assert first["note"] == "一期竣工"
    assert "note" not in table.rows[1].values


def test_xlsx_rows_normalise_to_progress() -> None:
    table = _table(read_table(_progress_workbook(), "进度.xlsx", FileLimits(), default_kind="progress"))
    context = NormalisationContext(load_plan(), UnitRegistry.load(), datetime(2023, 12, 20, tzinfo=UTC))
    results = [normalise(row.values, context) for row in table.rows]
    assert all(isinstance(result, Progress) for result in results), results
    assert [result.value for result in results if isinstance(result, Progress)] == [12000.0, 3000.0]
    assert [result.mode for result in results if isinstance(result, Progress)] == ["increment", "cumulative"]


def test_a_second_column_with_the_same_meaning_is_kept_for_the_normaliser_to_flag() -> None:
    text = "单位,指标,数值,完成数,日期\n巴中二中,新建校舍,100,200,2023-06-05\n"
    row = _table(read_table(text.encode(), "a.csv", FileLimits(), default_kind="progress")).rows[0]
    assert row.values["value"] == "100"
    assert row.values["完成数"] == "200"
    context = NormalisationContext(load_plan(), UnitRegistry.load(), datetime(2023, 12, 20, tzinfo=UTC))
    result = normalise(row.values, context)
    assert isinstance(result, Rejection)
    assert result.codes == ("conflicting_fields",)


def test_a_formula_is_read_as_its_cached_value_never_evaluated() -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert isinstance(sheet, Worksheet)
    sheet.append(["单位", "指标", "数值", "日期"])
    sheet.append(["巴中二中", "新建校舍", "=1+1", "2023-06-05"])
    buffer = io.BytesIO()
    workbook.save(buffer)  # openpyxl writes no cached result, so a values-only reader sees none
    row = _table(read_table(buffer.getvalue(), "a.xlsx", FileLimits())).rows[0]
    assert "value" not in row.values


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_a_zip_bomb_is_refused_by_its_declared_size() -> None:
    bomb = _zip({"xl/worksheets/sheet1.xml": b"\0" * (20 * 1024 * 1024)})
    rejection = _rejection(read_table(bomb, "bomb.xlsx", FileLimits(max_uncompressed_bytes=10 * 1024 * 1024)))
    assert rejection.code == "archive_too_large"
    assert "压缩炸弹" in rejection.message_zh


def test_a_zip_bomb_under_the_size_limit_is_refused_by_its_compression_ratio() -> None:
    bomb = _zip({"xl/worksheets/sheet1.xml": b"\0" * (5 * 1024 * 1024)})
    assert len(bomb) < 50 * 1024
    rejection = _rejection(read_table(bomb, "bomb.xlsx", FileLimits()))
    assert rejection.code == "suspicious_compression"


def test_too_many_archive_parts_are_refused() -> None:
    many = _zip({f"xl/part{i}.xml": b"<a/>" for i in range(20)})
    assert _rejection(read_table(many, "many.xlsx", FileLimits(max_zip_entries=10))).code == "archive_too_large"


def _with_replaced_part(workbook: bytes, name: str, content: bytes) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(workbook))
    assert name in source.namelist()
    return _zip({info.filename: content if info.filename == name else source.read(info) for info in source.infolist()})


SHEET_PART = "xl/worksheets/sheet1.xml"


def _sheet_xml(doctype: str, cell_text: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>{doctype}'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        '<row r="1"><c r="A1" t="inlineStr"><is><t>单位</t></is></c>'
        '<c r="B1" t="inlineStr"><is><t>指标</t></is></c></row>'
        f'<row r="2"><c r="A2" t="inlineStr"><is><t>{cell_text}</t></is></c></row>'
        "</sheetData></worksheet>"
    ).encode()


def _xxe_workbook(secret: Path) -> bytes:
    sheet = _sheet_xml(f'<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file://{secret}">]>', "&xxe;")
    return _with_replaced_part(_progress_workbook(), SHEET_PART, sheet)


def test_an_xlsx_with_an_external_entity_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    rejection = _rejection(read_table(_xxe_workbook(secret), "xxe.xlsx", FileLimits()))
    assert rejection.code == "unsafe_xml"
    assert SHEET_PART in rejection.message_en
    assert "TOP-SECRET" not in rejection.message_zh + rejection.message_en


def test_openpyxl_parses_through_defusedxml_as_a_second_line(tmp_path: Path) -> None:
    from openpyxl.xml import DEFUSEDXML
    from openpyxl.xml.functions import iterparse

    assert DEFUSEDXML
    assert iterparse.__module__.startswith("defusedxml")
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    with pytest.raises(ValueError, match="invalid XML") as raised:
        openpyxl.load_workbook(io.BytesIO(_xxe_workbook(secret)), read_only=True, data_only=True)
    causes = [raised.value.__cause__, raised.value.__context__]
    assert any(type(cause).__module__.startswith("defusedxml") for cause in causes)


def test_a_billion_laughs_workbook_is_refused() -> None:
    laughs = _sheet_xml(
        '<!DOCTYPE worksheet [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>',
        "&lol3;",
    )
    workbook = _with_replaced_part(_progress_workbook(), SHEET_PART, laughs)
    assert _rejection(read_table(workbook, "lol.xlsx", FileLimits())).code == "unsafe_xml"


@pytest.mark.parametrize(
    ("data", "filename", "limits", "code"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "old.xls", FileLimits(), "unsupported_format"),
        (b"not a zip at all", "fake.xlsx", FileLimits(), "unreadable_file"),
        (b"PK\x03\x04 broken", "broken.xlsx", FileLimits(), "unreadable_file"),
        (b"  \n ", "empty.csv", FileLimits(), "empty_file"),
        ("单位,指标\n".encode() * 50, "big.csv", FileLimits(max_bytes=100), "file_too_large"),
        (b"\x81\x30\xff\xfe\x00\x80", "odd.csv", FileLimits(), "unknown_encoding"),
        ("名称,金额\n甲,1\n".encode(), "nohead.csv", FileLimits(), "no_header"),
    ],
    ids=["legacy xls", "xlsx that is not a zip", "damaged zip", "empty", "too large", "unknown encoding", "no header"],
)
def test_unreadable_files_are_refused_with_a_clear_code(
    data: bytes, filename: str, limits: FileLimits, code: str
) -> None:
    rejection = _rejection(read_table(data, filename, limits))
    assert rejection.code == code
    assert rejection.message_zh
    assert rejection.message_en


def test_a_file_with_too_many_rows_is_refused() -> None:
    text = "单位,指标,数值,日期\n" + "巴中二中,新建校舍,1,2023-06-05\n" * 30
    assert _rejection(read_table(text.encode(), "a.csv", FileLimits(max_rows=10))).code == "too_many_rows"


def test_blank_rows_do_not_count_towards_the_row_limit() -> None:
    text = "单位,指标,数值,日期\n" + ",,,\n" * 50 + "巴中二中,新建校舍,1,2023-06-05\n"
    table = _table(read_table(text.encode(), "a.csv", FileLimits(max_rows=10)))
    assert [row.number for row in table.rows] == [52]


def test_an_overlong_cell_is_refused_with_its_row_and_column() -> None:
    text = "单位,指标,数值,日期,备注\n巴中二中,新建校舍,1,2023-06-05," + "长" * 50 + "\n"
    rejection = _rejection(read_table(text.encode(), "a.csv", FileLimits(max_cell_chars=20)))
    assert (rejection.code, rejection.row, rejection.column) == ("cell_too_long", 2, "备注")


def test_the_issues_school_sheet_is_read_by_meaning_and_its_rows_become_progress() -> None:
    """完成面积（平方米） is in no list of spellings; its rows used to be rejected one by one as missing a value."""
    data = (Path(__file__).parent / "data" / "sheets" / "t02_school_quarter.xlsx").read_bytes()
    table = _table(read_table(data, "校舍.xlsx", FileLimits(), default_kind="progress"))
    context = NormalisationContext(load_plan(), UnitRegistry.load(), datetime(2023, 12, 20, tzinfo=UTC))
    results = [normalise(row.values, context) for row in table.rows]
    assert all(isinstance(result, Progress) for result in results), results
    assert [(r.value, r.measure_unit) for r in results if isinstance(r, Progress)] == [
        (1200.0, "平方米"),
        (300.0, "平方米"),
        (800.0, "平方米"),
    ]
