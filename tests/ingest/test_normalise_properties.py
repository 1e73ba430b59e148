"""Properties of normalisation that must hold for every input, not just the tabled ones."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from duban_contracts.plan import Target, TargetKind, load_plan
from duban_contracts.units import RATIO, UNITS
from duban_ingest.domain.keys import FIELD_SPELLINGS
from duban_ingest.domain.normalise import NormalisationContext, Progress, Rejection, UnitRegistry, normalise

CONTEXT = NormalisationContext(
    plan=load_plan(), registry=UnitRegistry.load(), received_at=datetime(2023, 12, 20, 2, 0, tzinfo=UTC)
)
PROPERTY_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=50)
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=20,
)
known_keys = st.sampled_from([spelling for spellings in FIELD_SPELLINGS.values() for spelling in spellings])
plausible_texts = st.sampled_from(
    [
        "进度",
        "事件",
        "测量",
        "活动",
        "巴中二中",
        "新建校舍",
        "班额",
        "传染病",
        "1.2万平方米",
        "2023-06-05",
        "约200",
        "Ⅳ级",
    ]
)
weird_texts = st.text(alphabet=st.characters(codec="utf-8"), max_size=300) | st.text(min_size=2001, max_size=2500)
field_values = json_values | plausible_texts | weird_texts
submissions = st.dictionaries(known_keys | st.text(max_size=20), field_values, max_size=12)


def _assert_normalised_or_rejected_with_reason(result: object) -> None:
    if isinstance(result, Rejection):
        assert result.problems, "a rejection must give at least one reason"
        assert "internal_error" not in result.codes, [p.message_en for p in result.problems]
        for problem in result.problems:
            assert problem.message_zh
            assert problem.message_en
            assert problem.value is None or len(problem.value) <= 200
    else:
        assert result.unit.id  # type: ignore[attr-defined]


@PROPERTY_SETTINGS
@given(json_values)
def test_any_json_value_is_normalised_or_rejected_with_a_reason(raw: object) -> None:
    _assert_normalised_or_rejected_with_reason(normalise(raw, CONTEXT))


@PROPERTY_SETTINGS
@given(submissions)
def test_any_mapping_of_known_and_unknown_keys_is_normalised_or_rejected(raw: dict[str, object]) -> None:
    _assert_normalised_or_rejected_with_reason(normalise(raw, CONTEXT))


def _progress_targets() -> list[Target]:
    return [
        placed.target for placed in CONTEXT.plan.placed_targets() if placed.target.kind is not TargetKind.CONSTRAINT
    ]


#: Stacked multipliers (亿亿亿%) multiply beyond any float: they must be refused, never overflow to inf.
stacked = ["亿" * n + suffix for n in (2, 5, 37, 40) for suffix in ("", "%", "元", "平方米")]
spellings = st.sampled_from([spelling for unit in UNITS.values() for spelling in unit.spellings] + [""] + stacked)
amounts = st.decimals(min_value=-(10**9), max_value=10**9, places=3, allow_nan=False, allow_infinity=False)


def _plausible(value: float, target: Target) -> bool:
    limits = CONTEXT.limits
    if target.kind is TargetKind.GROWTH:
        return limits.growth_min <= value <= limits.growth_max
    if target.unit == RATIO:
        return 0 <= value <= 1
    return 0 <= value <= target.value * max(limits.implausible_factor, limits.cumulative_factor)


@PROPERTY_SETTINGS
@given(
    target=st.sampled_from(_progress_targets()),
    amount=amounts,
    spelling=spellings,
    prefix=st.sampled_from(["", "约", "近", "共计"]),
)
def test_accepted_progress_is_finite_plausible_for_its_target_and_in_its_base_unit(
    target: Target, amount: Decimal, spelling: str, prefix: str
) -> None:
    submission = {
        "kind": "progress",
        "source": "巴中二中",
        "indicator": target.id,
        "value": f"{prefix}{amount}{spelling}",
        "date": "2023-06-05",
    }
    result = normalise(submission, CONTEXT)
    _assert_normalised_or_rejected_with_reason(result)
    if isinstance(result, Progress):
        assert math.isfinite(result.value)
        assert _plausible(result.value, target), (result.value, target.id)
        assert result.measure_unit == target.unit
        assert result.target_id == target.id


@PROPERTY_SETTINGS
@given(target=st.sampled_from(_progress_targets()), spelling=spellings)
def test_a_unit_of_another_family_is_rejected_never_converted(target: Target, spelling: str) -> None:
    family = next((unit.base for unit in UNITS.values() if spelling in unit.spellings), None)
    submission = {
        "kind": "progress",
        "source": "巴中二中",
        "indicator": target.id,
        "value": f"1{spelling}",
        "date": "2023-06-05",
    }
    result = normalise(submission, CONTEXT)
    if family is not None and family != target.unit:
        assert isinstance(result, Rejection)
        assert "unit_mismatch" in result.codes


@PROPERTY_SETTINGS
@given(whole=st.integers(min_value=0, max_value=15_400), hundredths=st.integers(min_value=0, max_value=99))
def test_wan_square_metres_convert_exactly(whole: int, hundredths: int) -> None:
    written = Decimal(whole * 100 + hundredths) / Decimal(1_000_000)  # in 万平方米, up to 1.54万
    submission = {
        "kind": "progress",
        "source": "巴中二中",
        "indicator": "新建校舍",
        "value": f"{written}万平方米",
        "date": "2023-06-05",
    }
    result = normalise(submission, CONTEXT)
    assert isinstance(result, Progress)
    assert result.value == float(written * 10_000)


@pytest.mark.parametrize(
    "raw",
    [
        {"kind": "progress", "value": "9" * 100_000},
        {"kind": "progress", "source": "巴" * 1_000_000},
        {"类型" * 10_000: "进度"},
        {"kind": "incident", "summary": "x" * 10_000_000},
        {"kind": [[[[[]]]]], "source": {"a": {"b": {"c": None}}}},
        {i: i for i in range(10)},
        {"value": 10**5000},
    ],
    ids=["huge number", "huge name", "huge key", "huge summary", "nested", "integer keys", "giant integer"],
)
def test_hostile_inputs_are_rejected_with_a_reason(raw: object) -> None:
    _assert_normalised_or_rejected_with_reason(normalise(raw, CONTEXT))
