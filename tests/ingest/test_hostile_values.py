"""Hostile numbers, per kind of target: each ends as a specific rejection, or as a finite, plausible value.

Overflow is the point: `1亿亿…亿` (forty 亿) is 10³²⁰ and `1亿…亿%` (thirty-seven 亿) 10²⁹⁴ — once a
float, `inf` (published as `null`, which every consumer dead-letters) or a number no consumer can use.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import pytest

from duban_contracts.plan import load_plan
from duban_ingest.domain.normalise import (
    Incident,
    Limits,
    Measurement,
    NormalisationContext,
    Normalised,
    Progress,
    Rejection,
    UnitRegistry,
    normalise,
)

RECEIVED_AT = datetime(2023, 12, 20, 2, 0, tzinfo=UTC)
FORTY_YI = "1" + "亿" * 40
FORTY_YI_PERCENT = FORTY_YI + "%"
THIRTY_SEVEN_YI_PERCENT = "1" + "亿" * 37 + "%"  # 10²⁹⁴: a finite float, and still no growth
MANY_DIGITS = "0." + "1234567890" * 4  # 42 characters: more digits than a float keeps

Family = Literal["ratio", "amount", "class_size", "minutes", "count"]


@dataclass(frozen=True)
class Kind:
    family: Family
    submission: dict[str, object]
    field: str = "value"


KINDS: dict[str, Kind] = {
    "growth progress": Kind(
        "ratio", {"kind": "progress", "source": "巴中二中", "indicator": "t05_edu_spending_no_decrease"}
    ),
    "growth measurement": Kind("ratio", {"kind": "measurement", "source": "巴中二中", "metric": "本科上线人数增幅"}),
    "rate progress": Kind("ratio", {"kind": "progress", "source": "巴中二中", "indicator": "优生录取就读率"}),
    "coverage measurement": Kind("ratio", {"kind": "measurement", "source": "区七小", "metric": "AED配备率"}),
    "area increment": Kind("amount", {"kind": "progress", "source": "巴中二中", "indicator": "新建中小学校舍"}),
    "area cumulative": Kind(
        "amount", {"kind": "progress", "source": "巴中二中", "indicator": "新建中小学校舍", "mode": "累计"}
    ),
    "money increment": Kind("amount", {"kind": "progress", "source": "巴中二中", "indicator": "技术合同登记额"}),
    "class size": Kind(
        "class_size", {"kind": "measurement", "source": "区七小", "metric": "班额", "class": "七年级3班"}
    ),
    "exercise minutes": Kind("minutes", {"kind": "measurement", "source": "区七小", "metric": "每天运动时间"}),
    "incident deaths": Kind(
        "count",
        {"kind": "incident", "source": "巴中二中", "category": "溺水", "occurred_at": "2023-07-10 15:20"},
        field="deaths",
    ),
}

OUT, NOT_FINITE, IMPLAUSIBLE = "value_out_of_range", "not_finite", "implausible_value"
Outcome = str | float  # a rejection code, or the value accepted

#: value → outcome per family (ratio, amount, class size, minutes, count).
HOSTILE: list[tuple[object, tuple[Outcome, Outcome, Outcome, Outcome, Outcome]]] = [
    (FORTY_YI, (OUT, OUT, OUT, OUT, "unknown_measure_unit")),
    (FORTY_YI_PERCENT, (OUT, "unit_mismatch", "unit_mismatch", "unit_mismatch", "unknown_measure_unit")),
    (THIRTY_SEVEN_YI_PERCENT, (OUT, "unit_mismatch", "unit_mismatch", "unit_mismatch", "unknown_measure_unit")),
    (float("inf"), (NOT_FINITE,) * 5),  # a JSON 1e400 is read as inf
    (float("-inf"), (NOT_FINITE,) * 5),
    (float("nan"), (NOT_FINITE,) * 5),
    ("NaN", (NOT_FINITE,) * 5),
    ("Infinity", (NOT_FINITE,) * 5),
    ("-Infinity", (NOT_FINITE,) * 5),
    ("1e400", ("invalid_number",) * 5),  # exponents are not how amounts are written (see cases.yaml)
    (10**400, (OUT,) * 5),
    (10**5000, (OUT,) * 5),  # as read from JSON (read_json gives a Decimal; normalise takes both)
    ("123456789012345678901234567890", (OUT,) * 5),
    ("1" + "0" * 16, (OUT,) * 5),  # 10¹⁶: one digit too many
    ("-0", (0.0, 0.0, IMPLAUSIBLE, 0.0, 0.0)),
    (-0.0, (0.0, 0.0, IMPLAUSIBLE, 0.0, 0.0)),
    (MANY_DIGITS, (0.12345678901234568, 0.12345678901234568, "not_integer", 0.12345678901234568, "not_integer")),
]

#: Bounds of each kind of target (`Limits`): growth within -100%…1000%, rates within 0–100%, an
#: increment or a cumulative total within ten times the annual target.
PLAUSIBILITY: dict[str, list[tuple[object, Outcome]]] = {
    "growth progress": [
        ("1亿%", IMPLAUSIBLE),
        ("1001%", IMPLAUSIBLE),
        ("999%", 9.99),
        ("-100%", -1.0),
        ("-101%", IMPLAUSIBLE),
        ("-5%", -0.05),
    ],
    "growth measurement": [("1亿%", IMPLAUSIBLE), ("1001%", IMPLAUSIBLE), ("999%", 9.99), ("-101%", IMPLAUSIBLE)],
    "rate progress": [("101%", IMPLAUSIBLE), ("100%", 1.0), ("-5%", "negative_value")],
    "coverage measurement": [("101%", IMPLAUSIBLE), ("100%", 1.0)],
    "area increment": [("15.4万平方米", 154_000.0), ("15.41万平方米", IMPLAUSIBLE)],
    "area cumulative": [("15.4万平方米", 154_000.0), ("15.41万平方米", IMPLAUSIBLE)],
    "money increment": [("10亿元", 1e9), ("10.01亿元", IMPLAUSIBLE)],
    "class size": [(150, 150.0), (151, IMPLAUSIBLE)],
    "exercise minutes": [(600, 600.0), (601, IMPLAUSIBLE)],
    "incident deaths": [(10_000, 10_000.0), (10_001, IMPLAUSIBLE)],
}
FAMILIES: tuple[Family, ...] = ("ratio", "amount", "class_size", "minutes", "count")


@pytest.fixture(scope="module")
def context() -> NormalisationContext:
    return NormalisationContext(plan=load_plan(), registry=UnitRegistry.load(), received_at=RECEIVED_AT)


def submission(kind: Kind, value: object) -> dict[str, object]:
    date = {} if kind.family == "count" else {"date": "2023-09-01"}
    return {**kind.submission, **date, kind.field: value}


def outcome(result: Normalised | Rejection, kind: Kind) -> Outcome:
    """The first rejection code, or the accepted value (which must be a finite float without a sign on 0)."""
    if isinstance(result, Rejection):
        return result.codes[0]
    if isinstance(result, Incident):
        return float(result.deaths)
    assert isinstance(result, Progress | Measurement)
    assert math.isfinite(result.value)
    assert math.copysign(1.0, result.value) == 1.0 or result.value != 0, "zero carries no sign"
    return result.value


def same(got: Outcome, expected: Outcome) -> bool:
    if isinstance(expected, float) and isinstance(got, float):
        return math.isclose(got, expected, rel_tol=1e-12)
    return got == expected


@pytest.mark.parametrize("name", list(KINDS))
def test_hostile_numbers_are_refused_with_a_specific_code_or_read_as_finite_plausible_values(
    name: str, context: NormalisationContext
) -> None:
    kind = KINDS[name]
    column = FAMILIES.index(kind.family)
    table = [(value, expected[column]) for value, expected in HOSTILE] + PLAUSIBILITY[name]
    wrong = []
    for value, expected in table:
        got = outcome(normalise(submission(kind, value), context), kind)
        if not same(got, expected):
            wrong.append((str(value)[:24], expected, got))
    assert wrong == [], "(value, expected, got)"


def test_an_overflow_is_explained_in_both_languages_with_the_field_and_the_magnitude(
    context: NormalisationContext,
) -> None:
    result = normalise(submission(KINDS["growth progress"], THIRTY_SEVEN_YI_PERCENT), context)
    assert isinstance(result, Rejection)
    (problem,) = result.problems
    assert (problem.code, problem.field) == ("value_out_of_range", "value")
    assert problem.value is not None and problem.value.startswith("1亿亿")
    assert "1.00e+296%" in problem.message_zh and "1e+15" in problem.message_zh  # as written: 10²⁹⁶ %
    assert "1.00e+296%" in problem.message_en and "beyond the largest magnitude" in problem.message_en


def test_a_non_finite_value_is_named_as_such_in_both_languages(context: NormalisationContext) -> None:
    result = normalise(submission(KINDS["class size"], "Infinity"), context)
    assert isinstance(result, Rejection)
    (problem,) = result.problems
    assert (problem.code, problem.field, problem.value) == ("not_finite", "value", "Infinity")
    assert "无穷大" in problem.message_zh and "not a finite number" in problem.message_en


def test_the_bounds_of_each_kind_of_target_are_configurable(context: NormalisationContext) -> None:
    strict = NormalisationContext(
        plan=context.plan,
        registry=context.registry,
        received_at=RECEIVED_AT,
        limits=Limits(growth_min=-0.5, growth_max=0.5, cumulative_factor=2.0),
        target_index=context.targets,
    )
    growth = KINDS["growth progress"]
    cumulative, increment = KINDS["area cumulative"], KINDS["area increment"]
    for raw in (submission(growth, "60%"), submission(growth, "-60%"), submission(cumulative, "3.5万平方米")):
        assert isinstance(normalise(raw, context), Progress)
        result = normalise(raw, strict)
        assert isinstance(result, Rejection)
        assert result.codes == (IMPLAUSIBLE,)
    assert isinstance(normalise(submission(increment, "3.5万平方米"), strict), Progress)
