"""Set phrases that promise a measurable outcome without a figure: 全覆盖, 只增不减, 零发生 …

Plans state some promises as formulas rather than numbers. Each formula here has one fixed
reading; a count before it (“两个全覆盖”, “两个只增不减”) makes that many targets, one per item
the formula bundles, for a reviewer to name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from duban_contracts.plan.model import Comparator, TargetKind
from duban_contracts.units import RATIO

from .numbers import parse_number

_COUNT = r"(?:(?P<count>[一二两三四五六七八九十])个)?"


@dataclass(frozen=True)
class Formula:
    pattern: re.Pattern[str]
    kind: TargetKind
    value: float
    unit: str
    comparator: Comparator
    note: str


FORMULAS: tuple[Formula, ...] = (
    Formula(
        # A promise only where it ends its clause (实现高品质高中全覆盖); 全覆盖的学习培训 and
        # 全覆盖开展培训 describe a manner.
        re.compile(_COUNT + r"全覆盖(?=[”\"’)\s]*(?:的?目标|要求)?[”\"’)\s]*$)"),
        TargetKind.COVERAGE,
        1.0,
        RATIO,
        Comparator.GE,
        "全覆盖：100%覆盖",
    ),
    Formula(
        re.compile(_COUNT + r"只增不减"),
        TargetKind.GROWTH,
        0.0,
        RATIO,
        Comparator.GE,
        "只增不减：较上年增长不小于0，需基线",
    ),
    Formula(
        re.compile(r"一个(?:都)?不(?:能)?少"),
        TargetKind.COVERAGE,
        1.0,
        RATIO,
        Comparator.GE,
        "一个都不少：100%覆盖（或流失清零）",
    ),
    Formula(
        re.compile(r"全额(?:用于|拨付|保障|落实|发放)"),
        TargetKind.COVERAGE,
        1.0,
        RATIO,
        Comparator.GE,
        "全额：100%",
    ),
    Formula(
        # 完成全区学校体育场AED配备: every one of them equipped.
        re.compile(r"(?:全区|全县|全市|全镇|所有|每所|每个)[^,;。]*?(?:配备|配齐)$"),
        TargetKind.COVERAGE,
        1.0,
        RATIO,
        Comparator.GE,
        "全区/所有…配备：100%配备",
    ),
    Formula(
        # 大班额动态清零, 辍学学生动态清零: none left at any time.
        re.compile(r"(?:动态)?清零"),
        TargetKind.CONSTRAINT,
        0.0,
        "个",
        Comparator.LE,
        "清零：任何时候不得存在（单位按实际对象核定）",
    ),
    Formula(
        re.compile(r"零发生|零(?:事故|伤亡|死亡)(?!率)"),
        TargetKind.CONSTRAINT,
        0.0,
        "次",
        Comparator.LE,
        "零发生：全年不得发生",
    ),
)


@dataclass(frozen=True)
class FormulaMatch:
    formula: Formula
    start: int
    end: int
    count: int  # how many targets the formula bundles


def find_formulas(text: str, start: int, end: int) -> list[FormulaMatch]:
    """The formulas in text[start:end], at most one match per formula."""
    found = []
    for formula in FORMULAS:
        match = formula.pattern.search(text[start:end])
        if match:
            count = match.groupdict().get("count")
            found.append(
                FormulaMatch(
                    formula, start + match.start(), start + match.end(), int(parse_number(count)) if count else 1
                )
            )
    return found
