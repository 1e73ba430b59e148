"""Hiding what only looks like a quantity: labels in quotes and titles, ordinals, years, slogans.

Every function keeps the text's length, so an offset found in the masked text is an offset in the
original, and the verbatim phrase can always be cut from the input.
"""

from __future__ import annotations

import re

from .numbers import FULL_WIDTH

MASK = "_"

#: Quoted labels and titles: “双减”, 《教育信息化2.0行动计划》, (一期).
_BRACKETED = (
    re.compile(r"“[^”\n]{0,80}”"),
    re.compile(r"‘[^’\n]{0,80}’"),
    re.compile(r'"[^"\n]{0,80}"'),
    re.compile(r"「[^」\n]{0,80}」"),
    re.compile(r"『[^』\n]{0,80}』"),
    re.compile(r"《[^》\n]{0,80}》"),
    re.compile(r"〈[^〉\n]{0,80}〉"),
    re.compile(r"【[^】\n]{0,80}】"),
    # Parentheses, except a subtotal written in them: (其中羽毛球场 100 片) is a target of its own.
    re.compile(r"\((?!\s*(?:其中|含|包括|包含))[^()\n]{0,80}\)"),
)

_CHINESE_DIGIT = "零〇一二两三四五六七八九十百千"

#: Numbers that label rather than count.
_LABELS = (
    # Ordinals and editions: 第39个教师节, 第26届, 第七届, 第二季, 第一粒扣子.
    re.compile(rf"第\s*[0-9{_CHINESE_DIGIT}]+"),
    # Document numbers: 巴教发〔2023〕12号, 临政办函[2020]49号.
    re.compile(r"[〔\[［【(]\s*(?:19|20)\d{2}\s*[〕\]］】)]\s*\d+\s*号"),
    # Calendar dates written with digits only: 2024-03-27, 2024.3.27, 2024/3/27.
    re.compile(r"(?<!\d)(?:19|20)\d{2}\s*([-/.])\s*\d{1,2}\s*\1\s*\d{1,2}(?!\d)"),
    # Years and school cohorts: 2023年, 2023年度, 高2020级, 2023-2025年.
    re.compile(r"(?<!\d)(?:19|20)\d{2}\s*(?:年度|学年|年|级|届|版)"),
    # Anniversaries: 30周年.
    re.compile(rf"[0-9{_CHINESE_DIGIT}]+\s*周年"),
    # Calendar dates and times of day: 5月12日, 8:00.
    re.compile(r"\d{1,2}\s*月\s*\d{1,2}\s*日"),
    re.compile(r"\d{1,2}:\d{2}"),
    # 一校一品, 一人一档, 一生一案.
    re.compile(r"一[\u4e00-\u9fff]一[\u4e00-\u9fff]"),
    # Vague amounts and idioms built on 一: 一批, 一系列, 一次性, 一张网, 高效办成一件事.
    re.compile(
        r"一(?:批|些|系列|大批|揽子|次性|站式|体化|把手|票否决|岗双责|盘棋|条龙|本账|件事"
        r"|张(?:网|图|蓝图|表|清单)|片天)"
    ),
    # Slogans that count ones: 四个一, 三个一百.
    re.compile(r"[二两三四五六七八九十]个一(?:百|千|万)?"),
    # Named standards of distance in time: 15分钟健身圈, 15分钟生活圈.
    re.compile(r"\d+\s*分钟[\u4e00-\u9fff]{0,4}圈"),
    # Political formulas that read like counts when left unquoted.
    re.compile(
        r"两个(?:确立|维护|务必|结合|只增不减|全覆盖)|[三四]个(?:意识|自信|全面|代表|务必|引路人|相统一|服务)"
        r"|一个都不(?:能)?少|[一二两三四五六七八九十]+项(?:规定|禁令|纪律|准则)"
    ),
    # Numbered items at the start of a line: 1. 1、 (2).
    re.compile(r"(?m)^\s*(?:\d{1,3}\s*[.、](?!\d)|[一二三四五六七八九十]+\s*、)"),
)


def normalise(text: str) -> str:
    """Full-width digits and punctuation to their ASCII forms, one character for one."""
    return text.translate(FULL_WIDTH)


def blank(text: str, spans: list[tuple[int, int]], *, keep_ends: bool = False) -> str:
    chars = list(text)
    for start, end in spans:
        inner_start, inner_end = (start + 1, end - 1) if keep_ends else (start, end)
        chars[inner_start:inner_end] = MASK * max(inner_end - inner_start, 0)
    return "".join(chars)


#: A span of years (2023-2025, 2023至2025年); 2000-3000人 is a range of people, not of years.
_YEAR_SPAN = re.compile(
    r"(?<!\d)(?P<first>(?:19|20)\d{2})\s*[-—~至到]\s*(?P<last>(?:19|20)?\d{2,4})(?!\d)(?P<suffix>\s*(?:年度|学年|年))?"
)


def mask_labels(normalised: str) -> str:
    """The text with quoted content, ordinals, years and formulas blanked out (same length)."""
    masked = normalised
    for pattern in _BRACKETED:
        masked = blank(masked, [m.span() for m in pattern.finditer(masked)], keep_ends=True)
    masked = blank(masked, [m.span() for m in _YEAR_SPAN.finditer(masked) if _is_year_span(m)])
    for pattern in _LABELS:
        masked = blank(masked, [m.span() for m in pattern.finditer(masked)])
    return masked


def _is_year_span(match: re.Match[str]) -> bool:
    first, last = int(match.group("first")), match.group("last")
    last_year = int(last) if len(last) == 4 else (first // 100) * 100 + int(last) if len(last) == 2 else None
    if match.group("suffix"):
        return True
    return last_year is not None and 0 < last_year - first <= 10
