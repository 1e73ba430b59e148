"""JSON from strangers, decoded within a size and a nesting depth (pure: bytes in, value or error out).

`json.loads` has neither limit: a megabyte of `[` overflows the interpreter's recursion limit
(`RecursionError`, which is not a `ValueError` and so escapes the usual handlers), and a large body
is decoded whole before anyone looks at its size. `loads_bounded` checks the size first, then the
nesting depth with a scan that never recurses (string literals are skipped, so brackets inside text
do not count), and only then decodes. Every refusal is a `ValueError`, so code that already turns
`ValueError` into "bad JSON" stays correct; the two subclasses say which limit was passed.
"""

from __future__ import annotations

import json
import re
from typing import Any

# A JSON string literal, written as an "unrolled loop" so that long strings are matched in one pass.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_A_BRACKET = re.compile(r"[^\[\]{}]+")


class JsonTooLarge(ValueError):
    def __init__(self, size: int, max_bytes: int) -> None:
        super().__init__(f"JSON of {size} bytes exceeds the limit of {max_bytes} bytes")
        self.size = size
        self.max_bytes = max_bytes


class JsonTooDeep(ValueError):
    def __init__(self, max_depth: int) -> None:
        super().__init__(f"JSON nested more than {max_depth} levels deep")
        self.max_depth = max_depth


def loads_bounded(data: bytes, *, max_depth: int, max_bytes: int) -> Any:
    """`json.loads(data)`, refused with `JsonTooLarge` above `max_bytes` and `JsonTooDeep` above `max_depth`.

    Depth counts arrays and objects: `1` is 0 deep, `[1]` and `{"a": 1}` 1, `[{"a": [1]}]` 3.
    Malformed JSON raises `json.JSONDecodeError`, and a number too long to convert a `ValueError`.
    """
    if len(data) > max_bytes:
        raise JsonTooLarge(len(data), max_bytes)
    text = data.decode(json.detect_encoding(data), errors="strict") if data else ""
    could_be_too_deep = text.count("[") + text.count("{") > max_depth  # skips the scan for ordinary bodies
    if could_be_too_deep and nesting_depth(text, stop_above=max_depth) > max_depth:
        raise JsonTooDeep(max_depth)
    return json.loads(text)


def nesting_depth(text: str, *, stop_above: int | None = None) -> int:
    """How deeply arrays and objects nest in JSON text (0 for a scalar); stops counting past `stop_above`.

    Malformed text gives some number; `json.loads` reports the malformation itself.
    """
    brackets = _NOT_A_BRACKET.sub("", _STRING.sub('""', text))
    depth = deepest = 0
    for bracket in brackets:
        if bracket in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if stop_above is not None and deepest > stop_above:
                    return deepest
        else:
            depth -= 1
    return deepest
