"""Amounts as schools write them: `1.54万平方米`, `一千五百`, `两所`, `１２０`, `3,200`, `约200`,
`12.5%`, `1亿元`, `300人次`, `6600余人次`, `1小时`, `百分之九十` — and their conversion to a
target's base unit (`duban_contracts.units`).

Arithmetic is decimal, so `1.54万` is exactly 15400 and not 15400.000000000002. Words of
approximation (约, 近, 余, 左右, 以上 …) are accepted and the figure is taken as written; ranges
(`200-300`) are not numbers and are rejected rather than averaged.

Every amount is finite and within `MAX_MAGNITUDE`, before *and* after conversion to the base unit:
`1亿亿…亿` (forty 亿) is 1 with a multiplier of 10³²⁰ and becomes a `value_out_of_range` fault,
never a float that overflows to `inf` (or a 1e294 that a consumer cannot use). `NaN`, `Infinity`
and a JSON 1e400 are `not_finite`. Zero has no sign: `-0` is 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

import cn2an

from duban_contracts.units import RATIO, lookup

from .text import nfkc

#: Longest number text worth reading; anything longer is not an amount (and cn2an is not cheap).
MAX_NUMBER_CHARS = 64
#: Larger magnitudes are certainly typing errors (10¹⁵ 元 is a thousand times China's GDP); they are
#: refused as `value_out_of_range`, whatever the target. Within it, a float holds every amount to
#: the unit, so what a consumer reads is what was written.
MAX_MAGNITUDE = Decimal(10) ** 15

_APPROXIMATE_PREFIXES = ("大约", "约为", "约计", "将近", "接近", "约", "近", "逾", "超过", "超")
_PLAIN_PREFIXES = ("共计", "合计", "累计", "总计", "达到", "完成", "新增", "共", "计", "达")
_APPROXIMATE_WORDS = re.compile(r"左右|以上|上下|有余|余|多|来")
_TRAILING_PUNCTUATION = ".。,;:!?、"
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_ARABIC = re.compile(r"^(?P<sign>[-+−]|负)?(?P<number>\d+(?:\.\d+)?|\.\d+)(?P<rest>.*)$")
_CHINESE = re.compile(
    r"^(?P<sign>负)?(?P<number>[零〇一二两三四五六七八九十百千万亿点壹贰叁肆伍陆柒捌玖拾佰仟]+|半)(?P<rest>.*)$"
)
_HOURS_AND_MINUTES = re.compile(r"^(?P<hours>\d+(?:\.\d+)?)(?:小时|h)(?P<minutes>\d+)(?:分钟|分|min)$")
_HALF_HOUR_AFTER = re.compile(r"^(?P<hours>.+?)个?半(?:小时|钟头)$")
_MULTIPLIERS = {"百": Decimal(100), "千": Decimal(1000), "万": Decimal(10**4), "亿": Decimal(10**8)}
_SIXTY = Decimal(60)
_DIGIT = re.compile(r"\d")
#: How NaN and infinity are spelled in spreadsheets and programming languages.
_NOT_FINITE = re.compile(r"^[-+−]?(?:nan|inf|infinity|∞|#num!)$", re.IGNORECASE)

FaultCode = Literal["invalid_number", "not_finite", "value_out_of_range"]


@dataclass(frozen=True)
class Quantity:
    """A number as written: the amount, and the unit spelling after it (None when bare)."""

    amount: Decimal
    spelling: str | None
    approximate: bool = False


@dataclass(frozen=True)
class NotANumber:
    """Why a text or number is not an amount; `code` is the rejection code it becomes."""

    reason_zh: str
    reason_en: str
    code: FaultCode = "invalid_number"


_NOT_FINITE_FAULT = NotANumber("不是有限数（NaN 或无穷大）", "not a finite number (NaN or infinity)", "not_finite")


@dataclass(frozen=True)
class UnitFault:
    """Why a quantity does not convert: an unknown spelling, another family, a bare rate above 1, or a
    converted amount beyond `MAX_MAGNITUDE` (`amount` is then that amount)."""

    kind: Literal["unknown", "mismatch", "ambiguous_ratio", "out_of_range"]
    spelling: str
    amount: Decimal | None = None


def quantity_from_number(number: int | float | Decimal) -> Quantity | NotANumber:
    """A JSON number (or a spreadsheet cell's number) as a bare quantity."""
    try:
        amount = Decimal(str(number)) if isinstance(number, float) else Decimal(number)
    except (InvalidOperation, ValueError):
        return NotANumber("无法读取", "unreadable")
    return _bounded(Quantity(amount, None))


def parse_quantity(text: str) -> Quantity | NotANumber:
    """`1.54万平方米` -> Quantity(1.54, '万平方米'); `两所` -> Quantity(2, '所'); `约200` -> Quantity(200, None)."""
    if len(text) > MAX_NUMBER_CHARS * 4:
        return NotANumber("过长", "too long")
    cleaned = _THOUSANDS.sub("", "".join(nfkc(text).split())).rstrip(_TRAILING_PUNCTUATION)
    if not cleaned:
        return NotANumber("为空", "empty")
    if len(cleaned) > MAX_NUMBER_CHARS:
        return NotANumber("过长", "too long")
    if _NOT_FINITE.match(cleaned):
        return _NOT_FINITE_FAULT
    return _parse_cleaned(cleaned)


def _parse_cleaned(text: str) -> Quantity | NotANumber:
    text, approximate = _strip_prefixes(text)
    if duration := _parse_duration(text):
        return _bounded(Quantity(duration, "分钟", approximate))
    unit_prefix: str | None = None
    if text.startswith("百分之"):
        text, unit_prefix = text.removeprefix("百分之"), "%"
    elif text[:1] in "¥$":
        text, unit_prefix = text[1:], "元"
    parsed = _leading_number(text)
    if isinstance(parsed, NotANumber):
        return parsed
    amount, rest = parsed
    rest, approximate_suffix = _strip_approximation(rest)
    spelling = _spelling(rest, unit_prefix)
    if isinstance(spelling, NotANumber):
        return spelling
    return _bounded(Quantity(amount, spelling, approximate or approximate_suffix))


def _strip_prefixes(text: str) -> tuple[str, bool]:
    approximate = False
    changed = True
    while changed:
        changed = False
        for prefix in (*_APPROXIMATE_PREFIXES, *_PLAIN_PREFIXES):
            if text.startswith(prefix) and len(text) > len(prefix):
                text = text[len(prefix) :]
                approximate = approximate or prefix in _APPROXIMATE_PREFIXES
                changed = True
                break
    return text, approximate


def _strip_approximation(rest: str) -> tuple[str, bool]:
    stripped = _APPROXIMATE_WORDS.sub("", rest)
    return stripped, stripped != rest


def _spelling(rest: str, unit_prefix: str | None) -> str | NotANumber | None:
    rest = rest.replace("个小时", "小时").replace("钟头", "小时")
    if _DIGIT.search(rest) and resolve_spelling(rest) is None:
        return NotANumber(
            "数字后夹杂其他内容，不能填写范围或多个数", "not a single number (a range or several numbers?)"
        )
    if unit_prefix == "%":
        return "%" if not rest else NotANumber("百分数后不应再带单位", "a percentage carries no further unit")
    if unit_prefix == "元":
        return rest if rest.endswith("元") else rest + "元"
    return rest or None


def _parse_duration(text: str) -> Decimal | None:
    """`1小时30分钟` -> 90; `1个半小时` -> 90; other texts -> None (they are not compound durations)."""
    if match := _HOURS_AND_MINUTES.match(text):
        return Decimal(match["hours"]) * _SIXTY + Decimal(match["minutes"])
    if match := _HALF_HOUR_AFTER.match(text):
        hours = _leading_number(match["hours"])
        if not isinstance(hours, NotANumber) and not hours[1]:
            return (hours[0] + Decimal("0.5")) * _SIXTY
    return None


def _leading_number(text: str) -> tuple[Decimal, str] | NotANumber:
    if match := _ARABIC.match(text):
        sign = -1 if match["sign"] in ("-", "−", "负") else 1
        return sign * Decimal(match["number"]), match["rest"]
    if match := _CHINESE.match(text):
        amount = _chinese_numeral(match["number"])
        if amount is None:
            return NotANumber("中文数字写法有误", "malformed Chinese numeral")
        return (-amount if match["sign"] else amount), match["rest"]
    return NotANumber("没有数字", "no number found")


def _chinese_numeral(numeral: str) -> Decimal | None:
    if numeral == "半":
        return Decimal("0.5")
    converted = _cn2an(numeral)
    if converted is not None:
        return converted
    # cn2an reads 一万五 but not 一点五万: take the trailing 万/亿 as a multiplier and read the rest.
    multiplier = Decimal(1)
    while numeral and numeral[-1] in "万亿":
        multiplier *= _MULTIPLIERS[numeral[-1]]
        numeral = numeral[:-1]
    converted = _cn2an(numeral) if numeral and multiplier != 1 else None
    return None if converted is None else converted * multiplier


def _cn2an(numeral: str) -> Decimal | None:
    try:
        return Decimal(str(cn2an.cn2an(numeral, "normal")))
    except (ValueError, KeyError, IndexError, TypeError, InvalidOperation):
        return None


def _bounded(quantity: Quantity) -> Quantity | NotANumber:
    amount = quantity.amount
    if not amount.is_finite():
        return _NOT_FINITE_FAULT
    if out_of_range(amount):
        return NotANumber(
            f"绝对值超过 {MAX_MAGNITUDE:.0e}", f"its magnitude exceeds {MAX_MAGNITUDE:.0e}", "value_out_of_range"
        )
    if amount.is_zero() and amount.is_signed():
        return Quantity(Decimal(0), quantity.spelling, quantity.approximate)
    return quantity


def out_of_range(amount: Decimal) -> bool:
    """Whether `amount` lies beyond what duban holds (`MAX_MAGNITUDE`), or is not finite at all."""
    return not amount.is_finite() or abs(amount) > MAX_MAGNITUDE


def resolve_spelling(spelling: str) -> tuple[str | None, Decimal] | None:
    """`万平方米` -> ('平方米', 10000); `万` -> (None, 10000) (a bare multiplier); unknown -> None."""
    found = lookup(spelling)
    if found is not None:
        return found[0], Decimal(str(found[1]))
    factor = Decimal(1)
    rest = spelling
    while rest and rest[0] in _MULTIPLIERS:
        factor *= _MULTIPLIERS[rest[0]]
        rest = rest[1:]
    if factor == 1:
        return None
    if not rest:
        return None, factor
    found = lookup(rest)
    return None if found is None else (found[0], factor * Decimal(str(found[1])))


def in_base_unit(quantity: Quantity, base_unit: str, default_spelling: str | None = None) -> Decimal | UnitFault:
    """The quantity in `base_unit`: a bare number takes `default_spelling` (a column's unit) or the base unit.

    A unit of another family is a fault, never converted; so is a bare rate above 1 (95 could mean
    95% or 95 times), which must be written 95% or 0.95.
    """
    spelling = quantity.spelling or default_spelling
    if spelling is None:
        return _checked_bare(quantity.amount, base_unit, str(quantity.amount))
    resolved = resolve_spelling(spelling)
    if resolved is None:
        return UnitFault("unknown", spelling)
    base, factor = resolved
    if base is None:
        return _checked_bare(quantity.amount * factor, base_unit, spelling)
    if base != base_unit:
        return UnitFault("mismatch", spelling)
    return _in_range(quantity.amount * factor, spelling)


def _checked_bare(amount: Decimal, base_unit: str, spelling: str) -> Decimal | UnitFault:
    if out_of_range(amount):
        return UnitFault("out_of_range", spelling, amount)
    if base_unit == RATIO and amount > 1:
        return UnitFault("ambiguous_ratio", spelling)
    return amount


def _in_range(amount: Decimal, spelling: str) -> Decimal | UnitFault:
    # 1亿亿…亿 (forty 亿) is 1 × 10³²⁰: each factor is fine, their product is not.
    return UnitFault("out_of_range", spelling, amount) if out_of_range(amount) else amount
