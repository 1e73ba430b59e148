"""Uploads built to hurt: a row of a million cells, zip bombs, a huge CSV, a slow but honest workbook.

Built in memory, deterministically (seeded; fixed zip entry times), at the size each test needs.
"""

from __future__ import annotations

import io
import random
import zipfile
from datetime import date

import xlsxwriter

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE = "http://schemas.openxmlformats.org/package/2006/relationships"
_TYPES = "application/vnd.openxmlformats-officedocument.spreadsheetml"


def workbook_with_sheet_xml(sheet_xml: bytes) -> bytes:
    """A minimal valid workbook whose one worksheet part is `sheet_xml`."""
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{_TYPES}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_TYPES}.worksheet+xml"/></Types>'
        ).encode(),
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PACKAGE}">'
            f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ).encode(),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{_MAIN}" xmlns:r="{_REL}">'
            '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ).encode(),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PACKAGE}">'
            f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
        ).encode(),
        "xl/worksheets/sheet1.xml": sheet_xml,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, content in parts.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2023, 7, 3, 9, 0, 0)), content, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def _one_row(cells: bytes) -> bytes:
    header = (
        '<c t="inlineStr"><is><t>学校</t></is></c><c t="inlineStr"><is><t>指标</t></is></c>'
        '<c t="inlineStr"><is><t>数值</t></is></c><c t="inlineStr"><is><t>日期</t></is></c>'
    )
    return (
        (
            f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{_MAIN}"><sheetData>'
            f'<row r="1">{header}</row><row r="2">'
        ).encode()
        + cells
        + b"</row></sheetData></worksheet>"
    )


def million_cell_row(cells: int = 1_000_000) -> bytes:
    """The issue's workbook: one row of a million cells; 30 KB here (the issue's, with cell references,
    was 197 KB), expanding about 500-fold."""
    return workbook_with_sheet_xml(_one_row(b"<c><v>1</v></c>" * cells))


def million_cell_row_of_varied_figures(cells: int = 1_000_000) -> bytes:
    """One row of a million different figures: it compresses only ~8:1, so no ratio check stops it."""
    rng = random.Random(13)
    return workbook_with_sheet_xml(_one_row(b"".join(b"<c><v>%d</v></c>" % rng.randrange(10**7) for _ in range(cells))))


def zip_bomb(uncompressed: int = 90 * 1024 * 1024) -> bytes:
    """A worksheet part of zeros: 90 MB that compress to about 90 KB."""
    return workbook_with_sheet_xml(b"\0" * uncompressed)


def huge_csv(rows: int = 400_000) -> bytes:
    """About 18 MB of well-formed CSV rows, many times the row limit."""
    lines = ["学校,指标,数值,日期"] + [f"巴中二中,新建校舍,{n % 97},2023-06-05" for n in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def wide_csv_line(cells: int = 1_000_000) -> bytes:
    """A header, then one CSV line of a million fields."""
    return ("学校,指标,数值,日期\n" + ",".join(["12"] * cells) + "\n").encode()


def honest_workbook(rows: int, *, dated: bool = True) -> bytes:
    """A legitimate progress workbook of `rows` rows, slow to parse when large. Without its date
    column it is read whole and then refused (missing_columns): seconds of parsing, nothing published."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    book.set_properties({"created": date(2023, 7, 3)})
    sheet = book.add_worksheet("Sheet1")
    sheet.write_row(0, 0, ["学校", "指标", "数值", "日期" if dated else "说明", "备注"])
    for n in range(1, rows + 1):
        sheet.write_row(n, 0, ["巴中二中", "新建校舍", n % 7 + 1, "2023-06-05" if dated else "无", f"第{n}批"])
    book.close()
    return buffer.getvalue()
