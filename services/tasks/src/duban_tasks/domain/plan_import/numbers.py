"""Numbers as Chinese plans write them: 1.54万, 一百五十, 两, １２０, 27亿.

Conversion is cn2an's; this module only decides what a numeral looks like and falls back to
splitting off 万/亿 for spellings cn2an refuses (一点五万).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import cn2an

#: Characters that start a Chinese numeral (百/千/万 alone are too often words: 百姓, 千方百计, 万村).
CHINESE_NUMERAL_START = "零〇一二两三四五六七八九十"
CHINESE_NUMERAL_BODY = "零〇一二两三四五六七八九十百千"
LARGE_MULTIPLIERS = {"万": Decimal(10_000), "亿": Decimal(100_000_000)}

#: Full-width forms map one character to one character, so offsets stay valid after translation.
FULL_WIDTH = str.maketrans(
    {
        **{chr(0xFF10 + digit): str(digit) for digit in range(10)},
        "．": ".",
        "％": "%",
        "（": "(",
        "）": ")",
        "，": ",",
        "；": ";",
        "：": ":",
        "！": "!",
        "？": "?",
        "＋": "+",
        "＞": ">",
        "＜": "<",
    }
)


def parse_number(numeral: str) -> float:
    """'1.54万' -> 15400.0, '二百六十' -> 260.0, '１２０' -> 120.0; ValueError if it is no number."""
    cleaned = numeral.translate(FULL_WIDTH).strip()
    if not cleaned:
        raise ValueError("empty numeral")
    try:
        return _exact(_cn2an(cleaned))
    except ValueError:
        multiplier = LARGE_MULTIPLIERS.get(cleaned[-1])
        if multiplier is None or len(cleaned) == 1:
            raise
        return _exact(Decimal(str(_cn2an(cleaned[:-1]))) * multiplier)


def _cn2an(numeral: str) -> object:
    """cn2an's reading; its KeyError and IndexError on malformed numerals (六十零千) as ValueError."""
    try:
        return cn2an.cn2an(numeral, "smart")
    except (KeyError, IndexError) as error:
        raise ValueError(f"not a numeral: {numeral!r}") from error


def is_chinese_numeral(numeral: str) -> bool:
    return bool(numeral) and numeral[0] in CHINESE_NUMERAL_START


def _exact(number: object) -> float:
    """cn2an returns int, float or Decimal; round away binary noise such as 70199.99999999999."""
    try:
        as_decimal = Decimal(str(number))
    except InvalidOperation as error:
        raise ValueError(f"not a number: {number!r}") from error
    return float(round(as_decimal, 9))
