"""Figures in a masked text: a numeral, its unit, and the words that bound it (余, 以上, 以内).

A figure is found in the masked text (see `masking`), so quoted labels, ordinals and years never
produce one. Its value is already in the base unit: 1.54万平方米 -> 15400 平方米, 90% -> 0.9 ratio.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from duban_contracts.plan.model import Comparator
from duban_contracts.units import RATIO, SPELLINGS_LONGEST_FIRST, lookup

from .numbers import CHINESE_NUMERAL_START, is_chinese_numeral, parse_number

#: 分 is a score far more often than a minute in plans (平均分, 90分); a minute is written 分钟.
_AMBIGUOUS_SPELLINGS = {"分"}

#: Spellings that are not base-unit spellings but that plans use with the same meaning.
_EXTRA_SPELLINGS: dict[str, tuple[str, float]] = {
    "个百分点": (RATIO, 0.01),
    "百分点": (RATIO, 0.01),
}

#: Measure words that mark a real quantity no base unit takes (durations): reported as unread, never guessed.
UNCONVERTIBLE_SPELLINGS = ("个工作日", "工作日", "个月", "天", "分")

#: Measure words that after a Chinese numeral mostly make a word rather than a count (一对一, 一起,
#: 一面, 一门心思, 一把手, 一支队伍, 一批, 一轮, 一部分); after Arabic digits they count.
_ARABIC_ONLY_SPELLINGS = frozenset(
    {"对", "双", "口", "头", "面", "起", "例", "门", "层", "只", "把", "节", "根", "眼", "批", "组", "队", "班",
     "部", "轮", "封", "副", "颗", "本", "份", "支", "块", "笔", "宗", "件", "首", "匹", "架", "吨", "米"}
)  # fmt: skip

_ALL_SPELLINGS = tuple(
    sorted(
        {s for s in SPELLINGS_LONGEST_FIRST if s not in _AMBIGUOUS_SPELLINGS}
        | set(_EXTRA_SPELLINGS)
        | set(UNCONVERTIBLE_SPELLINGS),
        key=len,
        reverse=True,
    )
)

_ARABIC = r"\d+(?:\.\d+)?(?![\d.])[千万亿]?"
_CHINESE = r"[零〇一二两三四五六七八九十][零〇一二两三四五六七八九十百千]*(?:点[零〇一二三四五六七八九]+)?[万亿]?"
#: A numeral, or a range of two (3-4所, 3至5个, 三至五所): the low end is the target, the range is kept.
_NUMERAL = re.compile(
    rf"(?P<low>{_ARABIC})(?:\s*(?:-|—|–|~|～|至|到)\s*(?P<high>{_ARABIC}))?"
    rf"|(?P<clow>{_CHINESE})(?:(?:至|到)(?P<chigh>{_CHINESE}))?"
)
#: The high end of a range written after the unit: 90%-95%, 3所至5所.
_HIGH_AFTER_UNIT = re.compile(rf"\s*(?:-|—|–|~|～|至)\s*(?P<high>{_ARABIC})")
#: Spaces plans put between a figure and its unit: 学位 970 个.
_SPACES = " \t\u3000\xa0"
_BARE_NUMBER = re.compile(r"(?<![0-9A-Za-z.])\d+(?:\.\d+)?(?![\d.])")
_QUOTED_PERCENT = re.compile(r"[“\"][^”\"\n]*?(\d+(?:\.\d+)?)%[^”\"\n]*[”\"]")
_PERCENT_IN_WORDS = re.compile(
    r"百分之(百|[零〇一二两三四五六七八九十百]+(?:点[零〇一二三四五六七八九]+)?|\d+(?:\.\d+)?)"
)

#: A Chinese numeral right after one of these is part of a word: 每一, 统一, 唯一, 初三, 高一.
_WORD_BEFORE_CHINESE_NUMERAL = set("第每逐统唯同这那某之其单万周初高星专划归合")

APPROXIMATE = "余多"

#: An unknown character after a longer number is not guessed to be its measure word.
_MAX_GUESSED_DIGITS = 4

#: Characters after a number that make it a date, an age, an edition or a range, not a count.
_NOT_MEASURE_WORDS = set("年月日号时点届级岁后前末底初旬至到或和及与的是为在以之余多万亿千百周")

#: Words after a figure that bound it; 以上 includes the number itself in Chinese legal usage.
COMPARATOR_AFTER: dict[str, Comparator] = {
    "及以上": Comparator.GE,
    "以上": Comparator.GE,
    "以下": Comparator.LE,
    "以内": Comparator.LE,
    "之内": Comparator.LE,
    "左右": Comparator.GE,
}


@dataclass(frozen=True)
class Figure:
    start: int  # first character of the numeral (or of 百分之)
    end: int  # after the unit and any 余/多
    stop: int  # after a bounding word (以上, 以内 …), else == end
    numeral: str
    spelling: str  # the unit as written: 万平方米 is numeral 1.54万 + spelling 平方米
    unit: str | None  # base unit; None when the spelling does not convert
    value: float  # in the base unit; the bare numeral when the unit does not convert
    approximate: bool
    bound: str  # the bounding word after the figure, '' if none
    guessed_unit: bool = False  # the unit is an unknown character that merely follows the number
    high: float | None = None  # the high end of a range (3-4所), in the base unit; `value` is the low end

    @property
    def chinese(self) -> bool:
        return is_chinese_numeral(self.numeral)


def find_figures(masked: str, start: int, end: int) -> list[Figure]:
    """Every numeral with a unit in masked[start:end], in order."""
    figures = [f for m in _NUMERAL.finditer(masked, start, end) if (f := _figure_at(masked, m, end)) is not None]
    figures += [f for m in _PERCENT_IN_WORDS.finditer(masked, start, end) if (f := _percent_in_words(masked, m))]
    return sorted(figures, key=lambda f: f.start)


def bare_numbers(masked: str, start: int, end: int, figures: list[Figure]) -> list[tuple[int, int]]:
    """Arabic numbers in masked[start:end] that belong to no figure."""
    taken = [(f.start, f.stop) for f in figures]
    return [
        m.span() for m in _BARE_NUMBER.finditer(masked, start, end) if not any(a <= m.start() < b for a, b in taken)
    ]


#: A number whose unit the metric before it already names: 参与人次达到10万, 销售额突破3亿.
_UNIT_NAMED_BEFORE: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"人次$"), "人次"),
    (re.compile(r"人数$"), "人"),
    (re.compile(r"场次$"), "场次"),
    (re.compile(r"次数$"), "次"),
    (re.compile(r"(?:金额|资金|经费|投资|投入|产值|收入|营收|销售额|成交额|交易额|总额)$"), "元"),
)
_NUMBER_WITH_MULTIPLIER = re.compile(r"(?<![0-9A-Za-z.])(\d+(?:\.\d+)?)([万亿]?)(?![\d.])")
_COMPARATOR_WORDS_BEFORE = re.compile(r"(?:达到|达|突破|超过|不少于|不低于|不超过|控制在|保持在|稳定在|为)\s*$")


def figures_with_unit_named_before(masked: str, start: int, end: int, figures: list[Figure]) -> list[Figure]:
    """参与人次达到10万: a bare number after a comparator, its unit named by the metric before it
    (人次, 人数, 场次, 次数; 元 for an amount written with 万 or 亿)."""
    taken = [(f.start, f.stop) for f in figures]
    found = []
    for match in _NUMBER_WITH_MULTIPLIER.finditer(masked, start, end):
        if any(a <= match.start() < b for a, b in taken):
            continue
        following = masked[match.end() : match.end() + 1]
        if (
            following
            and "\u4e00" <= following <= "\u9fff"
            and not masked.startswith(tuple(COMPARATOR_AFTER), match.end())
        ):
            continue  # a unit follows after all, or a word: not a bare number
        comparator = _COMPARATOR_WORDS_BEFORE.search(masked, start, match.start())
        if comparator is None:
            continue
        metric = masked[start : comparator.start()].rstrip()
        unit = next((u for pattern, u in _UNIT_NAMED_BEFORE if pattern.search(metric)), None)
        if unit is None or (unit == "元" and not match.group(2)):
            continue
        number = parse_number(match.group(1) + match.group(2))
        bound = next((w for w in COMPARATOR_AFTER if masked.startswith(w, match.end())), "")
        found.append(
            Figure(match.start(), match.end(), match.end() + len(bound), match.group(), "", unit, number, False, bound)
        )
    return found


def scaled(number: float, factor: float) -> float:
    """number × factor without binary noise: 90 × 0.01 is 0.9, not 0.9000000000000001."""
    return float(round(Decimal(str(number)) * Decimal(str(factor)), 9))


def _figure_at(masked: str, match: re.Match[str], limit: int) -> Figure | None:
    numeral = match.group("low") or match.group("clow")
    high_numeral = match.group("high") or match.group("chigh")
    before = masked[match.start() - 1] if match.start() > 0 else ""
    chinese = is_chinese_numeral(numeral)
    if chinese:
        if before and (before in _WORD_BEFORE_CHINESE_NUMERAL or before in CHINESE_NUMERAL_START):
            return None
    elif before and (before.isascii() and (before.isalnum() or before in "+-/_%")):
        return None
    position = match.end()
    approximate = position < limit and masked[position] in APPROXIMATE
    position += approximate
    while position < limit and masked[position] in _SPACES:
        position += 1
    spelling = _spelling_at(masked, position, chinese=chinese)
    guessed = spelling is None and _unknown_measure_word(numeral, masked[position : position + 1])
    if guessed:
        spelling = masked[position]
    if spelling is None:
        return None
    try:
        number = parse_number(_with_multiplier_of(numeral, high_numeral))
        high = parse_number(high_numeral) if high_numeral else None
    except ValueError:
        return None
    unit_end = position + len(spelling)
    approximate_after = unit_end < limit and masked[unit_end] in "余" and not approximate
    unit_end += approximate_after
    repeated = _HIGH_AFTER_UNIT.match(masked, unit_end, limit)
    if high is None and repeated and masked.startswith(spelling, repeated.end()):
        high = parse_number(repeated.group("high"))
        unit_end = repeated.end() + len(spelling)
    bound = next((w for w in COMPARATOR_AFTER if masked.startswith(w, unit_end)), "")
    converted = _EXTRA_SPELLINGS.get(spelling) or lookup(spelling)
    value = scaled(number, converted[1]) if converted else number
    high_value = (scaled(high, converted[1]) if converted else high) if high is not None else None
    return Figure(
        start=match.start(),
        end=unit_end,
        stop=unit_end + len(bound),
        numeral=numeral,
        spelling=spelling,
        unit=converted[0] if converted else None,
        value=value,
        approximate=approximate or approximate_after,
        bound=bound,
        guessed_unit=guessed,
        high=high_value if high_value is not None and high_value > value else None,
    )


def _spelling_at(masked: str, position: int, *, chinese: bool) -> str | None:
    for spelling in _ALL_SPELLINGS:
        if masked.startswith(spelling, position):
            if chinese and spelling in _ARABIC_ONLY_SPELLINGS:
                return None
            return spelling
    return None


def _with_multiplier_of(low: str, high: str | None) -> str:
    """3-5万人 is 3万 to 5万: the low end borrows the high end's 千/万/亿 when it has none."""
    if high and high[-1] in "千万亿" and low[-1] not in "千万亿":
        return low + high[-1]
    return low


def _unknown_measure_word(numeral: str, following: str) -> bool:
    """12孔: an Arabic figure followed by a character that may be a measure word we do not know. Long
    numbers (12345热线, 2024327) are codes, not counts."""
    return (
        not is_chinese_numeral(numeral)
        and len(numeral) <= _MAX_GUESSED_DIGITS
        and "\u4e00" <= following <= "\u9fff"
        and following not in _NOT_MEASURE_WORDS
    )


def _percent_in_words(masked: str, match: re.Match[str]) -> Figure | None:
    numeral = match.group(1)
    try:
        number = 100.0 if numeral == "百" else parse_number(numeral)
    except ValueError:
        return None
    bound = next((w for w in COMPARATOR_AFTER if masked.startswith(w, match.end())), "")
    return Figure(
        start=match.start(),
        end=match.end(),
        stop=match.end() + len(bound),
        numeral=numeral,
        spelling="百分之",
        unit=RATIO,
        value=scaled(number, 0.01),
        approximate=False,
        bound=bound,
    )


def with_quoted_percents(figures: list[Figure], normalised: str, start: int, end: int) -> list[Figure]:
    """Add percentages the masking hid in quotes: 6个“100%建设”, 实现“三个100%”. A count right
    before the quote counts the quoted items and joins the figure instead of standing alone."""
    for quoted in _QUOTED_PERCENT.finditer(normalised, start, end):
        count = next((f for f in figures if f.stop == quoted.start() and f.unit in {"个", "项"}), None)
        figures = [f for f in figures if f is not count]
        figures.append(
            Figure(
                start=count.start if count else quoted.start(),
                end=quoted.end(),
                stop=quoted.end(),
                numeral=quoted.group(1),
                spelling="%",
                unit=RATIO,
                value=scaled(float(quoted.group(1)), 0.01),
                approximate=False,
                bound="",
            )
        )
    return sorted(figures, key=lambda f: f.start)
