"""A submission's bytes read as JSON within bounds: `read_json(data, max_bytes=…, max_depth=…)`.

It is the first thing to look at a message — the inbound handler's decoder, the replay of a stored
message — and is meant for any other door JSON comes in by (an HTTP body). It never raises; what it
refuses comes back as a `Problem`, which becomes a `submission.rejected`, never a retry and never a
dead letter:

- longer than `max_bytes` → `too_large`, without decoding a byte of it;
- nested deeper than `max_depth` → `too_deep`, found by a scan of the text *before* parsing, so a
  body of 3,000 nested objects never reaches the recursive parser (whose RecursionError would be
  retried as if it were a fault of ours);
- not text, or not JSON, or text that is not Unicode (a lone surrogate such as `"\\ud800"`, which
  no event could carry: it cannot be written as UTF-8) → `invalid_json`.

Integers too long for `int()` (Python refuses more than 4,300 digits) are read as `Decimal`, so
they reach normalisation and are refused there as `value_out_of_range` of their field. The
`NaN`/`Infinity` literals are read as floats, as Python's json reads them, and refused by
normalisation as `not_finite`.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal

from . import problems as p

#: Integer literals longer than this are read as Decimal (int() of a very long literal is refused).
MAX_INT_DIGITS = 64
#: Bytes of a refused body handed to `invalid_json`, which masks them and then cuts them to 200
#: characters (cut after masking, a number at the cut is still recognised whole).
_PREVIEW_CHARS = 2000
#: JSON strings (whose brackets are text) and the brackets that open or close a level.
_STRING_OR_BRACKET = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)
#: A \\u escape of a surrogate (\\ud800–\\udfff): only then can the parsed text hold a lone one.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")
_OPENING = frozenset("[{")
_CLOSING = frozenset("]}")


def read_json(data: bytes | bytearray, *, max_bytes: int, max_depth: int) -> object:
    """The JSON value `data` holds, or the `Problem` that refuses it (`too_large`, `too_deep`, `invalid_json`).

    Depth counts containers: `{"a": 1}` is 1 deep, `{"a": [1]}` 2; a bare scalar is 0.
    """
    if len(data) > max_bytes:
        return p.too_large(len(data), max_bytes)
    try:
        text = bytes(data).decode(json.detect_encoding(data))
    except UnicodeDecodeError as error:
        return p.invalid_json(_preview(data), f"not UTF-8 text: {error.reason}")
    if nesting_exceeds(text, max_depth):
        return p.too_deep(max_depth)
    try:
        value = json.loads(text, parse_int=_integer)
    except RecursionError:  # cannot happen after the scan; kept so that no input can make this raise
        return p.too_deep(max_depth)
    except ValueError as error:
        return p.invalid_json(_preview(data), str(error))
    if _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(value):
        return p.invalid_json(_preview(data), "a \\u escape that is half of a character (a lone surrogate)")
    return value


def nesting_exceeds(text: str, max_depth: int) -> bool:
    """Whether the JSON `text` opens more than `max_depth` containers at once (brackets in strings excluded).

    Stops at the first level too deep, so a hostile body costs no more than reading up to it. A body with
    no more brackets than `max_depth` in all (nearly every submission) cannot be too deep: not scanned.
    """
    if text.count("{") + text.count("[") <= max_depth:
        return False
    depth = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        token = match.group()
        if token in _OPENING:
            depth += 1
            if depth > max_depth:
                return True
        elif token in _CLOSING:
            depth -= 1
    return False


def _has_lone_surrogate(value: object) -> bool:
    """Whether a text in `value` (keys included) cannot be written as UTF-8. Recursive: `value` is shallow."""
    if isinstance(value, str):
        return not value.isascii() and _LONE_SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(item) for item in value)
    return False


def _integer(literal: str) -> int | Decimal:
    return int(literal) if len(literal) <= MAX_INT_DIGITS else Decimal(literal)


def _preview(data: bytes | bytearray) -> str:
    return bytes(data[:_PREVIEW_CHARS]).decode("utf-8", "replace")
