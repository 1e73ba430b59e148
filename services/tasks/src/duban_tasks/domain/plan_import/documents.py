"""Which reader a plan file needs: plain text, a task table (XLSX, DOCX), or a DOCX of paragraphs."""

from __future__ import annotations

from .importer import ImportResult, import_plan
from .table_reading import import_grid
from .tables import TableError, docx_grids, xlsx_grids

TABLE_SUFFIXES = (".xlsx", ".xlsm")
DOCX_SUFFIXES = (".docx",)


def import_document(data: bytes, *, suffix: str, year: int | None = None, plan_id: str = "imported") -> ImportResult:
    """The draft plan in a file's bytes; `suffix` (.txt, .xlsx, .docx …) says how to read them.

    A workbook's first sheet with a header row is read; a DOCX is read as its first table when it has
    one, else as the text of its paragraphs."""
    suffix = suffix.lower()
    if suffix == ".xls":
        raise TableError("旧版 .xls 不能读取，请另存为 .xlsx / legacy .xls is not read: save it as .xlsx")
    if suffix in TABLE_SUFFIXES:
        grids = xlsx_grids(data)
        if not grids:
            raise TableError("工作簿中没有带表头（序号、任务、责任单位…）的表 / no sheet with a header row found")
        return import_grid(grids[0], year=year, plan_id=plan_id)
    if suffix in DOCX_SUFFIXES:
        tables, paragraphs = docx_grids(data)
        if tables:
            return import_grid(tables[0], year=year, plan_id=plan_id)
        return import_plan("\n".join(paragraphs), year=year, plan_id=plan_id)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise TableError(f"文本不是 UTF-8 编码 / the text is not UTF-8: {error}") from error
    return import_plan(text, year=year, plan_id=plan_id)
