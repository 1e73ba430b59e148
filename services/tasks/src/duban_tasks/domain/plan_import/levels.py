"""Levels and standards to reach: 创建为四星级高中, 创成省级示范校, 学校装备达省Ⅰ类标准,
通过国家义务教育优质均衡发展县评估.

Each is one attainment — value 1, unit 达标, kind level — with the standard it names (the reading
rule of tests/tasks/plan_corpus/README.md). Only a clause without any figure is read this way: a
count (创建省级示范幼儿园1所) is a count. 创建 as a noun (做好…创建工作, 推进…创建) names work, not
a level, and is left alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_LEVEL = re.compile(
    r"(?:(?:创建|创评|评选|评定|评|晋升|升格|认定|命名)(?:成为|为|成)|建(?:设)?成为)(?P<named>[^,;:。]{2,30})"
    r"|创成(?P<made>[^,;:。]{2,30})"
    r"|通过(?P<passed>[^,;:。]{2,30}?(?:验收|认定|评估|复核|评审|认证))"
    r"|达(?:到)?(?P<standard>[^,;:。达]{1,20}?标准)"
)
#: What a named level looks like: a grade, a star, a model, a standard …
_LEVEL_WORDS = re.compile(r"级|星|示范|标准|特色|先进|文明|达标|优质|一流|样板|基地|品牌|认证|合格|均衡")
#: A level named as a piece of work, not reached: 创建工作, 示范区迎检.
_WORK_WORDS = re.compile(r"(?:工作|活动|迎检|行动|创建|申报|建设|体系)$")
_TRAILING = re.compile(r"(?:的?(?:目标|要求)|验收|评估|认定|复核|评审|认证)$")


@dataclass(frozen=True)
class Level:
    start: int  # where the verb begins
    end: int
    standard: str  # 四星级高中, 省Ⅰ类标准


def find_level(masked: str, normalised: str, start: int, end: int) -> Level | None:
    """The level or standard the clause masked[start:end] promises to reach, if any."""
    for match in _LEVEL.finditer(masked, start, end):
        group = next(name for name in ("named", "made", "passed", "standard") if match.group(name))
        span_start, span_end = match.span(group)
        standard = _TRAILING.sub("", normalised[span_start:span_end].strip()) if group != "standard" else None
        standard = standard or normalised[span_start:span_end].strip()
        if _LEVEL_WORDS.search(standard) and not _WORK_WORDS.search(standard):
            return Level(match.start(), match.end(), _unquoted(standard))
    return None


def _unquoted(text: str) -> str:
    return re.sub(r"[“”\"‘’《》]", "", text)
