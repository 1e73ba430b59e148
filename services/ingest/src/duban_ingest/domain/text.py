"""Text clean-up shared by the normalisers: full-width forms, stray spaces, quotes.

Submissions are typed on Chinese keyboards and pasted from Word and Excel, so the same name arrives
as `巴中二中`, `巴中二中 `, `巴中 二中` or `“巴中二中”`, and digits as `１２０`. Lookups compare the
*compact* form: NFKC (full-width → half-width), no whitespace, no quotation marks, ASCII lower-case.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

#: Values echoed back in rejections are cut to this many characters.
ECHO_CHARS = 200

_CACHED_CHARS = 64
_WHITESPACE = re.compile(r"\s+")
_QUOTES = str.maketrans("", "", "\"'“”‘’「」『』《》〈〉")


def nfkc(text: str) -> str:
    """Full-width letters, digits and punctuation as their ASCII forms; ideographic space as space."""
    return unicodedata.normalize("NFKC", text)


def squeeze(text: str) -> str:
    """Runs of whitespace collapsed to one space, ends trimmed; otherwise as written (for free text)."""
    return _WHITESPACE.sub(" ", text).strip()


def tidy(text: str) -> str:
    """`squeeze` after NFKC (for names and codes, where １２０ and 120 must be the same)."""
    return squeeze(nfkc(text))


def compact(text: str) -> str:
    """The form names are compared in: NFKC, no whitespace, no quotation marks, lower-case."""
    return _compact_short(text) if len(text) <= _CACHED_CHARS else _compact(text)


def _compact(text: str) -> str:
    return _WHITESPACE.sub("", nfkc(text)).translate(_QUOTES).lower()


# Unit names, indicators and codes repeat from message to message; long free text is not cached.
_compact_short = lru_cache(maxsize=8192)(_compact)


def echo(value: object) -> str | None:
    """How an offending value is quoted back: its text, cut to ECHO_CHARS characters."""
    if value is None:
        return None
    text = value if isinstance(value, str) else _safe_repr(value)
    return text if len(text) <= ECHO_CHARS else text[: ECHO_CHARS - 1] + "…"


def _safe_repr(value: object) -> str:
    # The repr of a huge or deeply nested JSON structure is itself costly (or recursive); name it instead.
    if isinstance(value, list | tuple | dict | set):
        return f"<{type(value).__name__} of {len(value)} items>"
    try:
        return repr(value)[: ECHO_CHARS * 2]
    except Exception:  # a hostile __repr__ must not break a rejection
        return f"<{type(value).__name__}>"
