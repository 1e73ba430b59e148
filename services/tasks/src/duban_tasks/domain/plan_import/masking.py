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
    re.compile(r"\([^()\n]{0,80}\)"),
)

_CHINESE_DIGIT = "零〇一二两三四五六七八九十百千"

#: Numbers that label rather than count.
_LABELS = (
    # Ordinals and editions: 第39个教师节, 第26届, 第七届, 第二季, 第一粒扣子.
    re.compile(rf"第\s*[0-9{_CHINESE_DIGIT}]+"),
    # Years and school cohorts: 2023年, 2023年度, 高2020级, 2023-2025年.
    re.compile(r"(?<!\d)(?:19|20)\d{2}\s*[-—~至]\s*(?:19|20)?\d{2,4}(?:\s*(?:年度|学年|年))?"),
    re.compile(r"(?<!\d)(?:19|20)\d{2}\s*(?:年度|学年|年|级|届|版)"),
    # Anniversaries: 30周年.
    re.compile(rf"[0-9{_CHINESE_DIGIT}]+\s*周年"),
    # Calendar dates and times of day: 5月12日, 8:00.
    re.compile(r"\d{1,2}\s*月\s*\d{1,2}\s*日"),
    re.compile(r"\d{1,2}:\d{2}"),
    # 一校一品, 一人一档, 一生一案.
    re.compile(r"一[\u4e00-\u9fff]一[\u4e00-\u9fff]"),
    # Vague amounts and idioms built on 一: 一批, 一系列, 一次性.
    re.compile(r"一(?:批|些|系列|大批|揽子|次性|站式|体化|把手|票否决|岗双责)"),
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


def mask_labels(normalised: str) -> str:
    """The text with quoted content, ordinals, years and formulas blanked out (same length)."""
    masked = normalised
    for pattern in _BRACKETED:
        masked = blank(masked, [m.span() for m in pattern.finditer(masked)], keep_ends=True)
    for pattern in _LABELS:
        masked = blank(masked, [m.span() for m in pattern.finditer(masked)])
    return masked
