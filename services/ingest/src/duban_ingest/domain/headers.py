"""Which column of a sheet means which field (pure).

A header row is read column by column (`keys.read_header`: known spellings, weighted words, fuzzy
likeness, a unit in brackets), then the columns' contents are looked at — a column of numbers is
not a school's name, a column of 平方米/万元 headed 单位 is the unit of measure, not the reporting
unit, a column of 新增/累计 is the mode — and the fields are handed out for the whole row at once,
best match first, each field to one column and each column to one field. Fields the submission's
kind does not use are not handed out (a 填报时间 column means nothing to a progress report).

The result (`SheetMapping`) says which column gives which field and how it was recognised, the units
of measure found, what the headers imply for every row (累计完成 → mode cumulative, 班额（人） → the
metric is 班额), and the columns not used and why. When a field the kind needs has no column, the
result is a `MissingColumns` that names the columns found and the fields wanted: the file is
refused once, never row by row.

`--map 列名=field` (or a column letter, `D=value`; `列名=-` to leave a column out) overrides the
reading for the columns it names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from .keys import FIELD_NAMES_ZH, FIELD_SPELLINGS, HeaderReading, field_for
from .numbers import resolve_spelling
from .text import compact

#: Below this a guess is not taken.
MIN_SCORE = 0.45
#: Fields each kind of submission reads; others are not handed out for a sheet of that kind.
FIELDS_BY_KIND: dict[str, frozenset[str]] = {
    "progress": frozenset({"kind", "source", "indicator", "metric", "value", "measure_unit", "mode", "date", "note"}),
    "measurement": frozenset(
        {"kind", "source", "metric", "indicator", "value", "measure_unit", "class", "date", "note"}
    ),
    "incident": frozenset(
        {
            "kind",
            "source",
            "category",
            "disease",
            "cases",
            "class",
            "grade",
            "deaths",
            "injuries",
            "occurred_at",
            "date",
            "reported_at",
            "summary",
            "note",
        }
    ),
    "activity": frozenset({"kind", "source", "activity", "date", "note"}),
}
#: What each kind needs: one column (or default) for each group of alternatives.
REQUIRED_BY_KIND: dict[str, tuple[tuple[str, ...], ...]] = {
    "progress": (("indicator", "metric"), ("value",), ("date",)),
    "measurement": (("metric", "indicator"), ("value",), ("date",)),
    "incident": (("category",), ("occurred_at", "date")),
    "activity": (("activity",), ("date",)),
}
#: The category of an incident told by a 病种 column (the incident category's Chinese name).
INFECTIOUS_DISEASE = "传染病"
#: A field only one kind has tells the kind when no kind column or default says it.
KIND_BY_FIELD = {"indicator": "progress", "metric": "measurement", "category": "incident", "activity": "activity"}
_KIND_WORDS = {
    "progress": ("progress", "进度"),
    "measurement": ("measurement", "测量"),
    "incident": ("incident", "事件"),
    "activity": ("activity", "活动"),
}
_TEXT_FIELDS = frozenset(
    {"kind", "source", "indicator", "metric", "activity", "category", "disease", "class", "grade", "summary", "mode"}
)
_DATE_FIELDS = frozenset({"date", "occurred_at", "reported_at"})
_MODE_WORDS = frozenset(
    compact(word) for word in ("新增", "累计", "本期", "本次", "增量", "累积", "当期", "increment", "cumulative")
)
_DATE_TEXT = re.compile(r"^\s*(\d{4}\s*[-/.年]\s*\d{1,2}|\d{1,2}\s*月\s*\d{1,2}\s*日|\d{8}$)")
_NUMBER_TEXT = re.compile(r"^\s*[-+]?(\d[\d,]*(\.\d+)?|\.\d+)\s*$")
_AMOUNT_TEXT = re.compile(r"^[-+约近]?(\d[\d,]*(\.\d+)?|\.\d+)(?P<unit>\D{0,6})$")
_PROFILE_ROWS = 200
#: The score of a field told only by a column's contents (dates, figures, units, 新增/累计).
_CONTENT_SCORE = 0.5
_EXACT_FIT = 0.6
_MOSTLY = 0.8


@dataclass(frozen=True)
class Column:
    """One column of the header: where it is, what its header says, what its cells look like."""

    position: int  # 0-based
    letter: str  # A, B, … AA
    reading: HeaderReading
    profile: Profile
    hidden: bool = False


@dataclass(frozen=True)
class Profile:
    """What a column's data cells look like (fractions of the filled ones)."""

    filled: int = 0
    numbers: float = 0.0
    dates: float = 0.0
    units: float = 0.0
    modes: float = 0.0

    @property
    def texts(self) -> float:
        return max(0.0, 1.0 - self.numbers - self.dates)


@dataclass(frozen=True)
class ColumnUse:
    position: int
    letter: str
    header: str
    field: str | None
    how: str  # exact, keyword, fuzzy, content, map — or, for a column not used, why not
    score: float = 0.0
    unit: str | None = None

    def as_json(self) -> dict[str, object]:
        shown: dict[str, object] = {"column": self.letter, "header": self.header}
        if self.field is not None:
            shown |= {"field": self.field, "match": self.how, "score": round(self.score, 2)}
            if self.unit:
                shown["unit"] = self.unit
        else:
            shown["why"] = self.how
        return shown


@dataclass(frozen=True)
class SheetMapping:
    used: tuple[ColumnUse, ...]  # in column order
    unused: tuple[ColumnUse, ...]
    kind: str | None  # the kind every row has (default, or told by the fields), None when rows say
    implied: Mapping[str, str]  # values the headers give every row: mode (累计完成), metric (班额)
    unit_column: str | None  # the letter of a 计量单位 column
    duplicates: tuple[ColumnUse, ...] = ()  # a second column that means the same, kept for the normaliser

    def column_of(self, field: str) -> ColumnUse | None:
        return next((use for use in self.used if use.field == field), None)

    @property
    def units(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(use.unit for use in self.used if use.unit))

    def as_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "columns": [use.as_json() for use in self.used],
            "unit_of_measure": {
                "in_headers": list(self.units),
                "column": self.unit_column,
            },
            "implied": dict(self.implied),
            "not_used": [use.as_json() for use in (*self.duplicates, *self.unused)],
        }


@dataclass(frozen=True)
class MissingColumns:
    """No column for a field the sheet's kind needs: the file is refused once, saying what is there."""

    wanted: tuple[tuple[str, ...], ...]  # groups of alternatives, e.g. (("indicator", "metric"), ("value",))
    found: tuple[str, ...]  # the headers of the sheet
    kind: str | None
    partial: SheetMapping


@dataclass(frozen=True)
class MapError:
    """A `--map` that names no column of the sheet, or no field."""

    code: str  # unknown_map_column, unknown_map_field, invalid_map
    zh: str
    en: str


def parse_overrides(specs: Sequence[str]) -> dict[str, str | None] | MapError:
    """`['完成面积=value', 'D=数值, 备注=-']` -> {'完成面积': 'value', 'D': 'value', '备注': None}."""
    overrides: dict[str, str | None] = {}
    for spec in specs:
        for item in re.split(r"[\n,，;；]+", spec):
            if not item.strip():
                continue
            column, sep, name = item.rpartition("=")
            if not sep or not column.strip():
                return MapError(
                    "invalid_map",
                    f"映射“{item.strip()}”格式有误，应为 列名=字段。",
                    f"The mapping '{item.strip()}' is not of the form column=field.",
                )
            target = name.strip()
            if target in {"", "-", "ignore", "忽略", "不用"}:
                overrides[column.strip()] = None
                continue
            field = field_for(target)
            if field is None:
                fields = ", ".join(FIELD_SPELLINGS)
                return MapError(
                    "unknown_map_field",
                    f"映射“{item.strip()}”中的字段“{target}”不认识；可用字段：{fields}。",
                    f"The mapping '{item.strip()}' names no known field '{target}'; fields are: {fields}.",
                )
            overrides[column.strip()] = field
    return overrides


def profile(cells: Sequence[object]) -> Profile:
    """What the first data cells of a column look like."""
    filled = [cell for cell in cells[:_PROFILE_ROWS] if cell is not None and str(cell).strip()]
    if not filled:
        return Profile()
    count = len(filled)
    return Profile(
        filled=count,
        numbers=sum(_is_number(cell) for cell in filled) / count,
        dates=sum(_is_date(cell) for cell in filled) / count,
        units=sum(_is_unit(cell) for cell in filled) / count,
        modes=sum(isinstance(cell, str) and compact(cell) in _MODE_WORDS for cell in filled) / count,
    )


def _is_number(cell: object) -> bool:
    """An amount: a number, or a figure with a unit of measure (1200平方米, 12.5万元) — not 1班 or 2023年."""
    if isinstance(cell, bool):
        return False
    if isinstance(cell, int | float):
        return True
    if not isinstance(cell, str) or _DATE_TEXT.match(cell):
        return False
    found = _AMOUNT_TEXT.match(compact(cell))
    return found is not None and (not found["unit"] or resolve_spelling(found["unit"]) is not None)


def _is_date(cell: object) -> bool:
    return isinstance(cell, date | datetime) or (isinstance(cell, str) and bool(_DATE_TEXT.match(cell)))


def _is_unit(cell: object) -> bool:
    if not isinstance(cell, str) or len(cell.strip()) > 6:
        return False
    resolved = resolve_spelling(compact(cell))
    return resolved is not None and resolved[0] is not None


def is_bare_number(text: str) -> bool:
    return bool(_NUMBER_TEXT.match(text))


# --- handing out the fields ----------------------------------------------------------------------


def map_columns(
    columns: Sequence[Column],
    *,
    default_kind: str | None,
    default_source: str | None,
    overrides: Mapping[str, str | None] | None = None,
) -> SheetMapping | MissingColumns:
    forced = _forced(columns, overrides or {})
    kind = _kind_word(default_kind)
    first = _assign(columns, forced, None if kind is None else FIELDS_BY_KIND.get(kind))
    if kind is None and "kind" not in _fields(first):
        kind = _inferred_kind(first)
        if kind is not None:
            first = _assign(columns, forced, FIELDS_BY_KIND[kind])
    mapping = _mapping(columns, first, kind)
    missing = _missing(mapping, kind, default_source)
    if missing:
        found = tuple(column.reading.text for column in columns if column.reading.text)
        return MissingColumns(missing, found, kind, mapping)
    return mapping


def _kind_word(kind: str | None) -> str | None:
    if kind is None:
        return None
    written = compact(kind)
    return next((name for name, words in _KIND_WORDS.items() if written in words), None)


@dataclass(frozen=True)
class _Choice:
    column: Column
    field: str
    score: float
    how: str


def _forced(columns: Sequence[Column], overrides: Mapping[str, str | None]) -> dict[int, str | None]:
    forced: dict[int, str | None] = {}
    for name, field in overrides.items():
        column = _column_named(columns, name)
        if column is not None:  # a name no sheet has is refused by the reader, which sees every sheet
            forced[column.position] = field
    return forced


def _column_named(columns: Sequence[Column], name: str) -> Column | None:
    return next((column for column in columns if names_column(name, column.reading.text, column.letter)), None)


_BRACKETS = re.compile(r"[(（\[【][^()（）\[\]【】]*[)）\]】]")


def names_column(name: str, header: str, letter: str) -> bool:
    """Whether `--map` means this column by `name`: its header (with or without the unit in brackets,
    or only the lower part of a two-row header `完成情况/数值`), or its letter (`D`)."""
    wanted = compact(name)
    lower = header.rpartition("/")[2]
    spellings = {header, lower, _BRACKETS.sub("", header), _BRACKETS.sub("", lower)}
    if wanted in {compact(text) for text in spellings if text}:
        return True
    return bool(re.fullmatch(r"[A-Za-z]{1,3}", name.strip())) and name.strip().upper() == letter


def _assign(
    columns: Sequence[Column], forced: Mapping[int, str | None], allowed: frozenset[str] | None
) -> list[_Choice]:
    chosen = [
        _Choice(column, field, 1.0, "map")
        for column in columns
        if (field := forced.get(column.position, "")) and column.position in forced
    ]
    taken_fields = {choice.field for choice in chosen}
    taken_columns = set(forced)
    candidates = [
        _Choice(column, field, score, how)
        for column in columns
        if column.position not in taken_columns and not column.hidden
        for field, score, how in _scored(column)
        if score >= MIN_SCORE and (allowed is None or field in allowed)
    ]
    candidates.sort(key=lambda c: (-c.score, c.column.position))
    for candidate in candidates:
        if candidate.field in taken_fields or candidate.column.position in taken_columns:
            continue
        chosen.append(candidate)
        taken_fields.add(candidate.field)
        taken_columns.add(candidate.column.position)
    return sorted(chosen, key=lambda c: c.column.position)


def _scored(column: Column) -> list[tuple[str, float, str]]:
    """(field, score, how) for a column: its header's guesses, weighed against its contents."""
    reading, shape = column.reading, column.profile
    scores = {guess.field: (guess.score, guess.how) for guess in reading.guesses}
    if reading.ignored_because:
        return []
    if shape.filled:
        if shape.units >= _MOSTLY:
            scores["measure_unit"] = (max(0.9, scores.get("measure_unit", (0.0, ""))[0]), "content")
            scores.pop("source", None)
        if shape.modes >= _MOSTLY:
            scores["mode"] = (max(0.85, scores.get("mode", (0.0, ""))[0]), "content")
        for field, (score, how) in list(scores.items()):
            misfit = _fit(field, shape)
            # A known spelling (班级) is trusted more than a word in passing: its column may hold 1, 2, 3.
            scores[field] = (score * (max(misfit, _EXACT_FIT) if how == "exact" else misfit), how)
        if shape.numbers >= _MOSTLY and "value" not in scores and "value" not in reading.ruled_out and reading.text:
            scores["value"] = (_CONTENT_SCORE, "content")  # a column of figures under 完成情况 is the value
        if shape.dates >= _MOSTLY and "date" not in scores and not (_DATE_FIELDS & scores.keys()) and reading.text:
            scores["date"] = (_CONTENT_SCORE, "content")
    return [(field, score, how) for field, (score, how) in scores.items()]


def _fit(field: str, shape: Profile) -> float:
    """How well a column's contents suit a field (1: fine; less: the header is probably misread)."""
    if field in _TEXT_FIELDS and (shape.numbers >= _MOSTLY or shape.dates >= _MOSTLY):
        return 0.3
    if field in {"value", "cases", "deaths", "injuries"} and (shape.texts >= _MOSTLY or shape.dates >= _MOSTLY):
        return 0.3 if shape.units < _MOSTLY else 0.1
    if field in _DATE_FIELDS and shape.numbers >= _MOSTLY:
        return 0.3
    return 1.0


def _fields(choices: Sequence[_Choice]) -> set[str]:
    return {choice.field for choice in choices}


def _inferred_kind(choices: Sequence[_Choice]) -> str | None:
    fields = _fields(choices) | set(_implied(choices, None))
    kinds = {kind for field, kind in KIND_BY_FIELD.items() if field in fields}
    if kinds == {"progress", "measurement"}:  # 指标 and 测量项目 side by side: the measurement's own word wins
        return "measurement"
    return kinds.pop() if len(kinds) == 1 else None


def _mapping(columns: Sequence[Column], choices: Sequence[_Choice], kind: str | None) -> SheetMapping:
    by_position = {choice.column.position: choice for choice in choices}
    used = tuple(
        ColumnUse(
            c.column.position,
            c.column.letter,
            c.column.reading.text,
            c.field,
            c.how,
            c.score,
            c.column.reading.unit if c.field == "value" else None,
        )
        for c in choices
    )
    duplicates: list[ColumnUse] = []
    unused: list[ColumnUse] = []
    for column in columns:
        if column.position in by_position or not column.reading.text:
            continue
        duplicate = _same_as(column, choices)
        if duplicate is not None:
            why = (
                f"same meaning as column {duplicate.column.letter} ({duplicate.field}); "
                "rows where they differ are refused"
            )
            duplicates.append(ColumnUse(column.position, column.letter, column.reading.text, None, why))
        else:
            unused.append(ColumnUse(column.position, column.letter, column.reading.text, None, _why_unused(column)))
    implied = _implied(choices, kind)
    unit_column = next((c.column.letter for c in choices if c.field == "measure_unit"), None)
    return SheetMapping(used, tuple(unused), kind, implied, unit_column, tuple(duplicates))


def _same_as(column: Column, choices: Sequence[_Choice]) -> _Choice | None:
    """The chosen column this one duplicates: both headers are known spellings of the same field."""
    exact = {guess.field for guess in column.reading.guesses if guess.how == "exact"}
    return next((c for c in choices if c.how == "exact" and c.field in exact and not column.hidden), None)


def _why_unused(column: Column) -> str:
    if column.hidden:
        return "hidden column"
    if column.reading.ignored_because:
        return column.reading.ignored_because
    if any(guess.score >= MIN_SCORE for guess in column.reading.guesses):
        best = column.reading.guesses[0]
        return f"read as {best.field}, which another column gives better or this kind does not use"
    return "not understood"


def _implied(choices: Sequence[_Choice], kind: str | None) -> dict[str, str]:
    """What the headers say of every row: 累计完成 → mode cumulative, 班额（人） → metric 班额, a 病种
    column without a category → an infectious disease."""
    implied: dict[str, str] = {}
    fields = _fields(choices)
    if "disease" in fields and "category" not in fields and kind in {None, "incident"}:
        implied["category"] = INFECTIOUS_DISEASE
    value = next((c for c in choices if c.field == "value"), None)
    if value is None:
        return implied
    reading = value.column.reading
    if reading.mode and "mode" not in fields and kind in {None, "progress"}:
        implied["mode"] = reading.mode
    if reading.names_metric and not {"metric", "indicator"} & fields and kind in {None, "measurement"}:
        implied["metric"] = reading.names_metric
    return implied


def _missing(mapping: SheetMapping, kind: str | None, default_source: str | None) -> tuple[tuple[str, ...], ...]:
    have = {use.field for use in mapping.used} | set(mapping.implied)
    missing: list[tuple[str, ...]] = []
    if "source" not in have and not default_source:
        missing.append(("source",))
    if kind is None and "kind" not in have:
        missing.append(("kind", *KIND_BY_FIELD))
        return tuple(missing)
    for group in REQUIRED_BY_KIND.get(kind or "", ()):
        if not have & set(group):
            missing.append(group)
    return tuple(missing)


def describe_fields(group: Sequence[str]) -> tuple[str, str]:
    """('指标（indicator）或 测量指标（metric）', 'indicator or metric') for messages."""
    zh = " 或 ".join(f"{FIELD_NAMES_ZH.get(field, field)}（{field}）" for field in group)
    return zh, " or ".join(group)
