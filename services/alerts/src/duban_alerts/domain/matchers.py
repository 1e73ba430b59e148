"""Label matchers as Alertmanager writes them: `name="value"`, `name!="value"`, `name=~"re"`, `name!~"re"`.

Regular expressions are fully anchored, and a label an alert does not carry matches as the empty
string — both as in Alertmanager, so `unit_id!=""` means "has a unit".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

_MATCHER_RE = re.compile(
    r'^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(?:"((?:[^"\\]|\\.)*)"|([^\s"=~!][^\s"]*)?)\s*$'
)


class MatchOp(StrEnum):
    EQUAL = "="
    NOT_EQUAL = "!="
    REGEX = "=~"
    NOT_REGEX = "!~"


@dataclass(frozen=True)
class Matcher:
    name: str
    op: MatchOp
    value: str
    _pattern: re.Pattern[str] | None = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "op", MatchOp(self.op))
        is_regex = self.op in (MatchOp.REGEX, MatchOp.NOT_REGEX)
        object.__setattr__(self, "_pattern", re.compile(rf"(?:{self.value})\Z") if is_regex else None)

    def matches(self, labels: Mapping[str, str]) -> bool:
        actual = labels.get(self.name, "")
        if self._pattern is not None:
            return (self._pattern.match(actual) is not None) == (self.op is MatchOp.REGEX)
        return (actual == self.value) == (self.op is MatchOp.EQUAL)

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"')
        return f'{self.name}{self.op.value}"{escaped}"'


def parse_matcher(text: str) -> Matcher:
    """`severity=~"critical|major"` -> Matcher. Raises ValueError on anything else."""
    found = _MATCHER_RE.match(text)
    if found is None:
        raise ValueError(f'not a label matcher: {text!r} (expected name="value", !=, =~ or !~)')
    name, op, quoted, bare = found.groups()
    value = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else (bare or "")
    try:
        return Matcher(name, MatchOp(op), value)
    except re.error as error:
        raise ValueError(f"bad regular expression in {text!r}: {error}") from error


@lru_cache(maxsize=512)
def _parse_all(texts: tuple[str, ...]) -> tuple[Matcher, ...]:
    return tuple(parse_matcher(text) for text in texts)


def parse_matchers(texts: Iterable[str]) -> tuple[Matcher, ...]:
    return _parse_all(tuple(texts))


def matches_all(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    return all(matcher.matches(labels) for matcher in matchers)
