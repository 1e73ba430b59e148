"""The outline of a plan text: its header, its sections (一、) and its tasks (1. / （一）).

Numbering styles are ranked by first appearance: with two or more styles the first marks sections
and the second tasks, deeper ones are sub-items kept inside their task; with one style the text
is a flat list of tasks in a single section.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Protocol

import cn2an

from .numbers import FULL_WIDTH, parse_number


class Numbering(Enum):
    CHINESE = re.compile(r"([一二三四五六七八九十]+)\s*、\s*")
    CHINESE_PARENTHESISED = re.compile(r"\(\s*([一二三四五六七八九十]+)\s*\)\s*")
    ARABIC = re.compile(r"(\d{1,3})\s*[.、](?!\d)\s*")
    ARABIC_PARENTHESISED = re.compile(r"\(\s*(\d{1,3})\s*\)\s*")


@dataclass(frozen=True)
class Heading:
    style: Numbering
    number: int
    line_start: int  # where the line begins in the text
    body_start: int  # just after the marker


@dataclass
class TaskSpan:
    written_no: int | None
    start: int  # body start (after the marker), in the original text
    end: int
    no: int = 0


@dataclass
class SectionSpan:
    number: int
    start: int
    end: int
    tasks: list[TaskSpan] = field(default_factory=list)


@dataclass(frozen=True)
class Header:
    title: str
    issuer: str
    year: int | None
    published: date | None


@dataclass(frozen=True)
class Outline:
    header: Header
    sections: list[SectionSpan]
    has_section_headings: bool


def read_outline(text: str) -> Outline:
    headings = _headings(text)
    styles = list(dict.fromkeys(h.style for h in headings))
    section_style = styles[0] if len(styles) >= 2 else None
    task_style = styles[1] if len(styles) >= 2 else (styles[0] if styles else None)
    body_start = headings[0].line_start if headings else _after_title(text)
    sections = _sections(text, headings, section_style, task_style)
    if not sections:
        # No numbering at all (一是…二是…): the text after the title is one task.
        sections = [SectionSpan(1, body_start, len(text), [TaskSpan(1, body_start, len(text))])]
    _number_tasks(sections)
    return Outline(read_header(text[:body_start], text), sections, section_style is not None)


def _after_title(text: str) -> int:
    """Where the body begins: after the first line when it is a title, at the text's start when the
    first line is already a sentence of the body (2023 年由市体育局承担的…项目主要包括…。)."""
    title = re.search(r"\S[^\n]*", text)
    if title is None:
        return len(text)
    return title.end() if is_title_line(title.group()) else title.start()


def is_title_line(line: str) -> bool:
    """A title is short and is not a sentence: no 。；, at most one comma, no trailing full stop."""
    stripped = line.strip().translate(FULL_WIDTH)
    return (
        0 < len(stripped) <= 60
        and not re.search(r"[。;!?]", stripped.rstrip("。"))
        and not stripped.endswith("。")
        and stripped.count(",") <= 1
    )


def first_line(text: str) -> str:
    return text.strip().splitlines()[0].strip() if text.strip() else ""


def chinese_ordinal(number: int) -> str:
    return str(cn2an.an2cn(number))


def _headings(text: str) -> list[Heading]:
    normalised = text.translate(FULL_WIDTH)
    headings = []
    for line in re.finditer(r"[^\n]*", normalised):
        stripped = line.group().lstrip()
        indent = len(line.group()) - len(stripped)
        for style in Numbering:
            marker = style.value.match(stripped)
            if marker and stripped[marker.end() :].strip():
                try:
                    number = int(parse_number(marker.group(1)))
                except ValueError:
                    break  # 十六一、 is no number: not a heading
                start = line.start() + indent
                headings.append(Heading(style, number, line.start(), start + marker.end()))
                break
    return headings


def _sections(
    text: str, headings: list[Heading], section_style: Numbering | None, task_style: Numbering | None
) -> list[SectionSpan]:
    sections: list[SectionSpan] = []
    current_task: TaskSpan | None = None
    for index, heading in enumerate(headings):
        end = _next_boundary(headings, index, {section_style, task_style}, len(text))
        if heading.style is section_style:
            section_end = _next_boundary(headings, index, {section_style}, len(text))
            sections.append(SectionSpan(heading.number, heading.body_start, section_end))
            current_task = None
        elif heading.style is task_style:
            if not sections:
                sections.append(SectionSpan(1, heading.line_start, len(text)))
            current_task = TaskSpan(heading.number, heading.body_start, end)
            sections[-1].tasks.append(current_task)
    for section in sections:
        if not section.tasks:
            # A section without numbered tasks is itself one task.
            section.tasks.append(TaskSpan(section.number, section.start, section.end))
    return sections


def _next_boundary(headings: list[Heading], index: int, styles: set[Numbering | None], default: int) -> int:
    for later in headings[index + 1 :]:
        if later.style in styles:
            return later.line_start
    return default


class Numbered(Protocol):
    written_no: int | None
    no: int


def _number_tasks(sections: list[SectionSpan]) -> None:
    number_tasks_in_order([task for section in sections for task in section.tasks])


def number_tasks_in_order(tasks: Sequence[Numbered]) -> None:
    """Keep the written numbers when they run through the whole plan (1 … 36); otherwise, as when
    every section restarts at 1 or （一）, number the tasks in order so that ids stay unique."""
    written = [task.written_no for task in tasks]
    keep = all(a is not None and b is not None and a < b for a, b in itertools.pairwise(written))
    keep = keep and all(number is not None and number >= 1 for number in written)
    for position, task in enumerate(tasks, start=1):
        task.no = task.written_no if keep and task.written_no is not None else position


_TITLE_WORDS = re.compile(r"计划|要点|方案|清单|实事|安排|任务|意见")
_ISSUER = re.compile(r"[\u4e00-\u9fff]{2,30}?(?:局|委员会|委|厅|办公室|政府|中心)")
_YEAR = re.compile(r"(20\d{2})\s*年")
_DATE = re.compile(r"(20\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})")


def read_header(head: str, text: str) -> Header:
    """Title, issuer, year and publication date from the lines above the body (`head`)."""
    lines = [line.strip() for line in head.splitlines() if line.strip()]
    titles = [line for line in lines if _TITLE_WORDS.search(line) and len(line) <= 60 and ">" not in line]
    title = titles[0] if titles else (lines[0][:60] if lines else "导入的工作计划")
    issuer = _issuer(title, lines)
    if issuer and issuer not in title:
        title = issuer + title
    return Header(title=title, issuer=issuer or "未注明", year=_year(title, text), published=_published(lines, text))


def _issuer(title: str, lines: list[str]) -> str | None:
    year = _YEAR.search(title)
    if year:
        before = title[: year.start()].strip()
        if before and _ISSUER.fullmatch(before):
            return before
    for line in lines:
        for part in re.split(r"[>|/\s:：]+", line):
            if len(part) >= 4 and _ISSUER.fullmatch(part):
                return part
    return None


def _year(title: str, text: str) -> int | None:
    """The year of the title; else the year the text names most often (the latest on a tie)."""
    found = re.search(r"20\d{2}", title)
    if found:
        return int(found.group())
    years = Counter(int(match.group(1)) for match in _YEAR.finditer(text.translate(FULL_WIDTH)))
    return max(years, key=lambda year: (years[year], year)) if years else None


def _published(head_lines: list[str], text: str) -> date | None:
    tail = [line.strip() for line in text.strip().splitlines()[-5:]]
    for line in [*head_lines, *tail]:
        found = _DATE.search(line)
        if found:
            try:
                return date(*(int(part) for part in found.groups()))
            except ValueError:
                continue
    return None
