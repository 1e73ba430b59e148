"""Units of measure: the base units values travel in, and the spellings that convert to them.

Plan targets and canonical events carry values in a base unit (`平方米`, `元`, `人次`, …). A value
written with a multiplied unit (`万平方米`, `亿元`) converts by its factor; a unit from another
family (元 for a 平方米 target) does not convert at all — that is a rejection, never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Ratios (rates, coverage, growth) travel as fractions: 90% is 0.9.
RATIO = "ratio"

#: A level or standard reached (创建为四星级高中, 达省Ⅰ类标准): one attainment, value 1.
ATTAINMENT = "达标"

#: Chinese measure words (量词) that count things no other unit here takes. Each is its own base unit,
#: spelled as written: 150片 球场 stays 150 片 and is never converted to 个 (a pitch is not a court).
MEASURE_WORDS: dict[str, str] = {
    "片": "pitches, plots", "张": "sheets, tables, beds", "间": "rooms", "座": "structures",
    "栋": "buildings", "幢": "buildings", "层": "storeys", "件": "pieces, articles, cases",
    "辆": "vehicles", "艘": "vessels", "架": "aircraft, racks", "部": "devices, works", "支": "teams, units",
    "队": "teams", "组": "groups", "批": "batches", "班": "classes", "门": "courses", "节": "lessons",
    "只": "items, animals", "头": "head (livestock)", "匹": "horses", "棵": "trees", "株": "plants",
    "本": "volumes", "册": "volumes", "篇": "articles", "首": "songs, poems", "幅": "pictures", "份": "copies",
    "封": "letters", "枚": "medals, badges", "面": "flags", "盏": "lamps", "根": "rods, poles", "颗": "grains",
    "把": "chairs, tools", "副": "sets (pairs)", "双": "pairs", "对": "pairs", "块": "pieces, plots",
    "户": "households", "宗": "lots, cases", "起": "incidents", "例": "cases", "笔": "transactions",
    "口": "wells, mouths", "眼": "wells", "轮": "rounds", "亩": "mu (666.7 m², kept as written)",
    "学时": "credit hours", "课时": "lesson hours", "吨": "tonnes",
}  # fmt: skip


@dataclass(frozen=True)
class MeasureUnit:
    base: str
    name_en: str
    spellings: dict[str, float]


_MULTIPLIERS = {"": 1.0, "万": 1e4, "亿": 1e8}


def _with_multipliers(*names: str, extra: dict[str, float] | None = None) -> dict[str, float]:
    spellings = {f"{m}{n}": factor for n in names for m, factor in _MULTIPLIERS.items()}
    spellings.update(extra or {})
    return spellings


UNITS: dict[str, MeasureUnit] = {
    u.base: u
    for u in (
        MeasureUnit(
            "平方米",
            "square metres",
            _with_multipliers(
                "平方米", "平米", "㎡", extra={"m2": 1.0, "m²": 1.0, "万㎡": 1e4, "公顷": 1e4, "平方公里": 1e6}
            ),
        ),
        MeasureUnit("元", "yuan", _with_multipliers("元", extra={"千元": 1e3, "百万元": 1e6, "千万元": 1e7})),
        MeasureUnit("人次", "person-times", _with_multipliers("人次")),
        MeasureUnit("人", "people", _with_multipliers("人", "名", "位")),
        MeasureUnit("所", "schools", _with_multipliers("所")),
        MeasureUnit("个", "items", _with_multipliers("个", "处")),
        MeasureUnit("套", "sets", _with_multipliers("套", "台")),
        MeasureUnit("家", "enterprises", _with_multipliers("家")),
        MeasureUnit("项", "items (projects)", _with_multipliers("项")),
        MeasureUnit("场次", "events", _with_multipliers("场次", "场")),
        MeasureUnit("次", "times", _with_multipliers("次")),
        MeasureUnit("期", "sessions", _with_multipliers("期")),
        MeasureUnit("条", "entries", _with_multipliers("条")),
        MeasureUnit("分钟", "minutes", {"分钟": 1.0, "分": 1.0, "小时": 60.0, "h": 60.0, "min": 1.0}),
        MeasureUnit(RATIO, "ratio", {"%": 0.01, "％": 0.01, "百分之": 0.01, "‰": 0.001}),
        MeasureUnit("米", "metres", {"米": 1.0, "公里": 1000.0, "千米": 1000.0, "万米": 1e4, "万公里": 1e7}),
        MeasureUnit(ATTAINMENT, "attainment of a level or standard", {ATTAINMENT: 1.0}),
        *(MeasureUnit(word, name, _with_multipliers(word)) for word, name in MEASURE_WORDS.items()),
    )
}

_SPELLING_INDEX: dict[str, tuple[str, float]] = {
    spelling: (unit.base, factor) for unit in UNITS.values() for spelling, factor in unit.spellings.items()
}

#: Spellings longest first, so that 万平方米 is found before 平方米 and 人次 before 人.
SPELLINGS_LONGEST_FIRST: tuple[str, ...] = tuple(sorted(_SPELLING_INDEX, key=len, reverse=True))


class UnitMismatch(ValueError):
    """A value's unit cannot be converted to the unit it is measured against."""

    def __init__(self, given: str, expected: str) -> None:
        super().__init__(f"unit {given!r} does not convert to {expected!r}")
        self.given = given
        self.expected = expected


def lookup(spelling: str) -> tuple[str, float] | None:
    """`万平方米` -> (`平方米`, 10000.0); unknown spellings -> None."""
    return _SPELLING_INDEX.get(spelling.strip())


def to_base(value: float, spelling: str, base_unit: str) -> float:
    """Convert `value` written in `spelling` to `base_unit`, or raise UnitMismatch."""
    found = lookup(spelling)
    if found is None or found[0] != base_unit:
        raise UnitMismatch(spelling, base_unit)
    return value * found[1]


def is_base_unit(name: str) -> bool:
    return name in UNITS
