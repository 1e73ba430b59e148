"""A draft plan from a task table: each numbered row a task, its targets read from its task and
target cells, 责任单位 into `responsible`, 完成时限 into the targets' due date.

Columns are known by their header (序号, 项目名称, 主要内容, 目标任务, 牵头单位, 完成时限 …). Columns
that report rather than plan (完成情况, 进展, 成效), name people (分管领导) or partners (配合单位) are
not read. A row whose number cell holds a heading (一、…) or whose 类别 cell is filled starts a
section; a row without a number continues the task above it (its number cell is merged).
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from enum import Enum

from duban_contracts.plan.model import Plan, Section, Task

from .dates import due_in
from .importer import ImportResult, UnreadPhrase, draft_target, short_title, task_title
from .numbers import parse_number
from .outline import chinese_ordinal, number_tasks_in_order, read_header
from .reading import Draft, read_commitments
from .tables import Grid


class Role(Enum):
    NUMBER = "number"
    TITLE = "title"
    CONTENT = "content"
    TARGET = "target"
    RESPONSIBLE = "responsible"
    DUE = "due"
    CATEGORY = "category"
    IGNORED = "ignored"


#: Header words -> the column's role, first match wins (责任领导 is a person, 完成时限 a date).
_ROLES: tuple[tuple[Role, re.Pattern[str]], ...] = (
    (Role.NUMBER, re.compile(r"^(?:序号|编号|序|项目编号|No\.?)$", re.IGNORECASE)),
    (
        Role.IGNORED,
        re.compile(r"完成情况|进展|进度|成效|取得|备注|电话|监督|领导|联系人|配合|协同|协办|参与|资金|投资额"),
    ),
    (Role.DUE, re.compile(r"时限|完成时间|时间节点|截止|期限|完成日期")),
    (Role.RESPONSIBLE, re.compile(r"责任|牵头|主办|承办|实施单位|主体")),
    (Role.CATEGORY, re.compile(r"^(?:类别|分类|领域|板块|类型)$")),
    (Role.TITLE, re.compile(r"名称")),
    (Role.TARGET, re.compile(r"目标|指标")),
    (Role.CONTENT, re.compile(r"任务|内容|措施|工作|事项|项目|举措")),
)
_SECTION_HEADING = re.compile(r"^\s*([一二三四五六七八九十]+)\s*[、.．]\s*(.*)$", re.DOTALL)
_WRITTEN_NUMBER = re.compile(r"^\s*(\d{1,3})\s*(?:[.、．](?!\d)|$)\s*")
_CHINESE_NUMBER = re.compile(r"^\s*[(（]?\s*([一二三四五六七八九十]+)\s*[)）]?\s*$")
_UNITS_SEPARATOR = re.compile(r"[、,，;；/\s]+")
_YEAR = re.compile(r"(20\d{2})\s*年")


@dataclass
class _Row:
    written_no: int | None
    title: str
    texts: list[str]  # the cells whose commitments are read, in order
    responsible: list[str]
    due_text: str


@dataclass
class _TaskRows:
    written_no: int | None
    title: str
    texts: list[str] = field(default_factory=list)
    responsible: list[str] = field(default_factory=list)
    due_text: str = ""
    no: int = 0


@dataclass
class _SectionRows:
    title: str
    number: int | None = None  # as written (六、…), else numbered in order
    tasks: list[_TaskRows] = field(default_factory=list)


def column_roles(header: list[str]) -> list[Role]:
    return [_role(re.sub(r"\s+", "", cell)) for cell in header]


def import_grid(grid: Grid, *, year: int | None = None, plan_id: str = "imported") -> ImportResult:
    """The draft plan in one task table."""
    roles = column_roles(grid.header)
    if not any(role in (Role.CONTENT, Role.TARGET, Role.TITLE) for role in roles):
        raise ValueError(f"表头中没有任务或目标列 / no task or target column in the header: {' | '.join(grid.header)}")
    header = read_header("\n".join(grid.title_lines), "\n".join(grid.title_lines))
    plan_year = year or header.year or _year_of_cells(grid)
    if plan_year is None:
        raise ValueError("no year in the table; pass year=")
    sections = _sections(grid, roles, header.title)
    tasks = [task for section in sections for task in section.tasks]
    number_tasks_in_order(tasks)
    unread: list[UnreadPhrase] = []
    kept = [section for section in sections if section.tasks]
    written = [section.number for section in kept]
    keep_written = all(a is not None and b is not None and a < b for a, b in itertools.pairwise(written))
    plan_sections = [
        Section(
            no=chinese_ordinal(section.number if keep_written and section.number else index),
            index=index,
            title=short_title(section.title),
            tasks=[_task(task, plan_year, unread) for task in section.tasks],
        )
        for index, section in enumerate(kept, start=1)
    ]
    plan = Plan(
        id=plan_id,
        title=header.title if grid.title_lines else "导入的任务分解表",
        year=plan_year,
        issuer=header.issuer,
        published=header.published,
        sections=plan_sections,
    )
    return ImportResult(plan=plan, unread=unread)


def _role(header: str) -> Role:
    return next((role for role, pattern in _ROLES if pattern.search(header)), Role.IGNORED)


def _sections(grid: Grid, roles: list[Role], plan_title: str) -> list[_SectionRows]:
    sections = [_SectionRows(plan_title)]
    numbered = Role.NUMBER in roles  # without a 序号 column every row is a task of its own
    for index, cells in enumerate(grid.rows):
        fresh = [
            "" if (index, column) in grid.merged_below else cell for column, cell in enumerate(cells[: len(roles)])
        ]
        heading = _section_heading(fresh, roles)
        if heading is not None:
            sections.append(_SectionRows(*heading))
            continue
        row = _row(cells, fresh, roles)
        if row is None:
            continue
        current = sections[-1].tasks[-1] if sections[-1].tasks else None
        if numbered and row.written_no is None and current is not None and not row.title:
            current.texts += row.texts  # a continuation row: the number cell is merged
            current.responsible += [unit for unit in row.responsible if unit not in current.responsible]
            continue
        sections[-1].tasks.append(_TaskRows(row.written_no, row.title, row.texts, row.responsible, row.due_text))
    if len(sections) > 1 and not sections[0].tasks:
        sections.pop(0)
    return sections


def _section_heading(fresh: list[str], roles: list[Role]) -> tuple[str, int | None] | None:
    """一、2025年经济社会发展的主要预期目标 alone in its row, or a filled 类别 cell (四、教育文化)."""
    filled = [(role, cell) for role, cell in zip(roles, fresh, strict=False) if cell]
    if len(filled) == 1 and filled[0][0] is not Role.CONTENT and _SECTION_HEADING.match(filled[0][1]):
        return _heading(filled[0][1])
    category = next((cell for role, cell in zip(roles, fresh, strict=False) if role is Role.CATEGORY and cell), None)
    if category and len(filled) > 1:
        return _heading(category)
    return None


def _heading(cell: str) -> tuple[str, int | None]:
    found = _SECTION_HEADING.match(cell)
    if not found:
        return cell.strip(), None
    try:
        number: int | None = int(parse_number(found.group(1)))
    except ValueError:
        number = None
    return (found.group(2).strip() or cell.strip()), number


def _row(cells: list[str], fresh: list[str], roles: list[Role]) -> _Row | None:
    def fresh_of(*wanted: Role) -> list[str]:
        return [cell for role, cell in zip(roles, fresh, strict=False) if role in wanted and cell]

    def any_of(*wanted: Role) -> list[str]:
        return [cell for role, cell in zip(roles, cells, strict=False) if role in wanted and cell]

    numbers, titles = fresh_of(Role.NUMBER), fresh_of(Role.TITLE)
    texts = fresh_of(Role.CONTENT, Role.TARGET) or titles
    if not texts and not numbers:
        return None
    written = _number(numbers[0]) if numbers else None
    if written is None and (titles or texts):
        found = _WRITTEN_NUMBER.match(titles[0] if titles else texts[0])
        written = int(found.group(1)) if found else None
    title = _WRITTEN_NUMBER.sub("", titles[0]) if titles else ""
    texts = [_WRITTEN_NUMBER.sub("", text, count=1) if _WRITTEN_NUMBER.match(text) else text for text in texts]
    responsible = [unit for cell in any_of(Role.RESPONSIBLE) for unit in _UNITS_SEPARATOR.split(cell) if unit]
    return _Row(written, title, texts, responsible, " ".join(any_of(Role.DUE)))


def _number(cell: str) -> int | None:
    """3, 3., (三) or 三 in a 序号 cell."""
    found = _WRITTEN_NUMBER.match(cell)
    if found:
        return int(found.group(1))
    chinese = _CHINESE_NUMBER.match(cell)
    try:
        return int(parse_number(chinese.group(1))) if chinese else None
    except ValueError:
        return None


def _task(rows: _TaskRows, year: int, unread: list[UnreadPhrase]) -> Task:
    due = due_in(rows.due_text, year) if rows.due_text else None
    drafts: list[Draft] = []
    promised: set[tuple[float, str, str]] = set()
    for text in rows.texts:
        reading = read_commitments(text, year=year)
        unread += [UnreadPhrase(rows.no, phrase.text, phrase.reason) for phrase in reading.unread]
        # The same promise in the task cell and again in the target cell is one target.
        fresh = [d for d in reading.drafts if (d.value, d.unit, d.comparator.value) not in promised]
        promised |= {(d.value, d.unit, d.comparator.value) for d in fresh}
        drafts += [d if d.due or due is None else replace(d, due=due) for d in fresh]
    title = rows.title or (task_title(rows.texts[0]) if rows.texts else f"任务{rows.no}")
    return Task(
        no=rows.no,
        title=short_title(title),
        responsible=list(dict.fromkeys(rows.responsible)),
        targets=[draft_target(draft, f"t{rows.no:02d}_{index:02d}") for index, draft in enumerate(drafts, start=1)],
    )


def _year_of_cells(grid: Grid) -> int | None:
    years = Counter(int(m.group(1)) for cells in [grid.header, *grid.rows] for c in cells for m in _YEAR.finditer(c))
    return max(years, key=lambda y: (years[y], y)) if years else None
