"""`payload.read_json`: a message's bytes as JSON within bounds — any input gives a value or a Problem."""

from __future__ import annotations

import json
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from duban_ingest.domain.normalise import Limits
from duban_ingest.domain.payload import read_json
from duban_ingest.domain.problems import Problem

LIMITS = Limits()


def read(data: bytes, *, max_bytes: int = LIMITS.max_submission_bytes, max_depth: int = 32) -> object:
    return read_json(data, max_bytes=max_bytes, max_depth=max_depth)


def nested(depth: int) -> bytes:
    """A submission whose `note` holds a `note` … `depth` objects deep in all (the submission itself counts)."""
    return ('{"note": ' * depth + '"底"' + "}" * depth).encode()


def code(result: object) -> str | None:
    return result.code if isinstance(result, Problem) else None


def test_a_note_nested_three_thousand_levels_is_refused_as_too_deep_without_parsing_it() -> None:
    result = read(nested(3000))
    assert code(result) == "too_deep"
    assert isinstance(result, Problem)
    assert "32" in result.message_zh and "32" in result.message_en


def test_depth_is_counted_in_containers_and_the_limit_itself_is_accepted() -> None:
    assert read(nested(32)) == json.loads(nested(32))
    assert code(read(nested(33))) == "too_deep"
    assert code(read(b"[" * 33 + b"]" * 33)) == "too_deep"
    assert read(b"[" * 32 + b"]" * 32) is not None


def test_brackets_inside_strings_are_text_not_nesting() -> None:
    body = {"note": "[[[[{{{{" * 100 + '\\"[{', "value": "1.2万平方米"}
    assert read(json.dumps(body).encode()) == body


def test_a_message_longer_than_the_limit_is_refused_unread() -> None:
    result = read(b'{"note": "' + b"x" * 2000 + b'"}', max_bytes=1000)
    assert code(result) == "too_large"
    assert isinstance(result, Problem) and result.value == "2012"


def test_an_integer_too_long_for_int_is_read_as_a_decimal_for_normalisation_to_refuse() -> None:
    digits = "9" * 5000  # int() refuses more than 4300 digits: json.loads would raise
    result = read(f'{{"value": {digits}}}'.encode())
    assert result == {"value": Decimal(digits)}


def test_text_that_is_not_json_or_not_unicode_is_invalid_json() -> None:
    for data in (b"{not json", b"", b"\xff\xfe\x00", b'{"note": "\\ud800"}', b'{"\\udfff": 1}'):
        assert code(read(data)) == "invalid_json", data


def test_what_python_reads_as_json_is_read_alike() -> None:
    emoji = {"note": "😀 巴中"}
    assert read(json.dumps(emoji).encode()) == emoji  # a \\ud83d\\ude00 pair is one character
    assert read(json.dumps(emoji).encode("utf-16")) == emoji
    assert read(b'\xef\xbb\xbf{"a": 1}') == {"a": 1}
    assert read(b'{"note": "\\\\ud800"}') == {"note": "\\ud800"}  # an escaped backslash, not a surrogate


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300) | st.text(alphabet='[]{}"\\:,0123456789.eE-ud', max_size=300).map(str.encode))
def test_any_bytes_give_a_value_or_a_problem_never_an_exception(data: bytes) -> None:
    read(data, max_depth=8)
