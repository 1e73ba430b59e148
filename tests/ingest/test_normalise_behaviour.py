"""Normalisation beyond single fields: the context, limits, fingerprints and rejections as a whole."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta

import pytest

from duban_contracts.plan import load_plan
from duban_ingest.domain.normalise import (
    Incident,
    Limits,
    Measurement,
    NormalisationContext,
    Progress,
    Rejection,
    UnitRegistry,
    content_fingerprint,
    normalise,
)

RECEIVED_AT = datetime(2023, 12, 20, 2, 0, tzinfo=UTC)
PROGRESS = {
    "kind": "progress",
    "source": "巴中二中",
    "indicator": "新建校舍",
    "value": "1.2万平方米",
    "date": "2023-06-05",
}
INCIDENT = {"kind": "incident", "source": "区七小", "category": "溺水", "occurred_at": "2023-07-10 15:20", "deaths": 1}


@pytest.fixture(scope="module")
def context() -> NormalisationContext:
    return NormalisationContext(plan=load_plan(), registry=UnitRegistry.load(), received_at=RECEIVED_AT)


def test_a_context_for_the_next_message_reuses_the_target_index(context: NormalisationContext) -> None:
    later = context.received(RECEIVED_AT + timedelta(hours=1))
    assert later.targets is context.targets
    assert later.received_at == RECEIVED_AT + timedelta(hours=1)


def test_received_at_must_be_aware(context: NormalisationContext) -> None:
    with pytest.raises(ValueError, match="aware"):
        NormalisationContext(plan=context.plan, registry=context.registry, received_at=datetime(2023, 12, 20))


def test_received_at_in_another_zone_is_kept_as_utc(context: NormalisationContext) -> None:
    from zoneinfo import ZoneInfo

    local = datetime(2023, 12, 20, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert context.received(local).received_at == RECEIVED_AT
    assert context.received(local).received_at.tzinfo is UTC


def test_the_same_report_received_twice_has_the_same_fingerprint(context: NormalisationContext) -> None:
    first = normalise(INCIDENT, context)
    again = normalise(INCIDENT, context.received(RECEIVED_AT + timedelta(days=1)))
    assert isinstance(first, Incident)
    assert isinstance(again, Incident)
    assert first.reported_at != again.reported_at
    assert content_fingerprint(first) == content_fingerprint(again)


@pytest.mark.parametrize(
    "change",
    [{"value": "1.3万平方米"}, {"source": "区七小"}, {"date": "2023-06-06"}, {"mode": "累计"}, {"note": "二期"}],
)
def test_a_different_report_has_a_different_fingerprint(context: NormalisationContext, change: dict[str, str]) -> None:
    original, changed = normalise(PROGRESS, context), normalise({**PROGRESS, **change}, context)
    assert isinstance(original, Progress)
    assert isinstance(changed, Progress)
    assert content_fingerprint(original) != content_fingerprint(changed)


def test_the_same_content_spelled_differently_has_the_same_fingerprint(context: NormalisationContext) -> None:
    english = normalise(PROGRESS, context)
    chinese = normalise(
        {
            "类型": "进度",
            "单位": "巴中市第二中学",
            "指标": "新建中小学校舍",
            "数值": "12000平方米",
            "日期": "2023年6月5日",
        },
        context,
    )
    assert isinstance(english, Progress)
    assert isinstance(chinese, Progress)
    assert content_fingerprint(english) == content_fingerprint(chinese)


def test_a_rejection_names_the_kind_and_the_unit_when_they_could_be_read(context: NormalisationContext) -> None:
    result = normalise({**PROGRESS, "value": "100元"}, context)
    assert isinstance(result, Rejection)
    assert (result.kind, result.unit_id) == ("progress", "bz-ez")


def test_a_problem_says_what_where_and_why_in_both_languages(context: NormalisationContext) -> None:
    result = normalise(
        {"类型": "进度", "单位": "巴中二中", "指标": "新建校舍", "数值": "100元", "日期": "2023-06-05"}, context
    )
    assert isinstance(result, Rejection)
    (problem,) = result.problems
    assert (problem.code, problem.field, problem.value) == ("unit_mismatch", "数值", "100元")
    assert "数值" in problem.message_zh
    assert "元" in problem.message_zh
    assert "平方米" in problem.message_zh
    assert "平方米" in problem.message_en


def test_too_many_fields_are_refused_before_reading_them(context: NormalisationContext) -> None:
    raw = {f"key{i}": i for i in range(context.limits.max_fields + 1)}
    result = normalise(raw, context)
    assert isinstance(result, Rejection)
    assert result.codes == ("too_many_fields",)


def test_an_overlong_text_is_refused_and_echoed_truncated(context: NormalisationContext) -> None:
    result = normalise({**INCIDENT, "摘要": "情况" * 2000}, context)
    assert isinstance(result, Rejection)
    assert result.codes == ("too_long",)
    assert result.problems[0].field == "摘要"
    assert result.problems[0].value is not None
    assert len(result.problems[0].value) == 200


def test_a_name_longer_than_a_name_is_refused(context: NormalisationContext) -> None:
    result = normalise({**PROGRESS, "source": "巴" * 500}, context)
    assert isinstance(result, Rejection)
    assert result.codes == ("too_long",)


def test_limits_are_configurable(context: NormalisationContext) -> None:
    strict = NormalisationContext(
        plan=context.plan,
        registry=context.registry,
        received_at=RECEIVED_AT,
        limits=Limits(class_size_max=65, implausible_factor=2.0),
        target_index=context.targets,
    )
    size = {"kind": "measurement", "source": "区七小", "metric": "班额", "value": 66, "date": "2023-09-01"}
    big = {**PROGRESS, "value": "3.5万平方米"}
    assert isinstance(normalise(size, context), Measurement)
    assert isinstance(normalise(big, context), Progress)
    for raw in (size, big):
        result = normalise(raw, strict)
        assert isinstance(result, Rejection)
        assert result.codes == ("implausible_value",)


class _ExplodingMapping(Mapping[str, object]):
    def __getitem__(self, key: str) -> object:
        raise RuntimeError("boom")

    def __iter__(self) -> Iterator[str]:
        raise RuntimeError("boom")

    def __len__(self) -> int:
        return 1


def test_normalise_never_raises_even_when_the_input_itself_fails(context: NormalisationContext) -> None:
    result = normalise(_ExplodingMapping(), context)
    assert isinstance(result, Rejection)
    assert result.codes == ("internal_error",)


def test_all_output_times_are_utc(context: NormalisationContext) -> None:
    incident = normalise({**INCIDENT, "reported_at": "2023-07-10T16:00:00+08:00"}, context)
    assert isinstance(incident, Incident)
    for moment in (incident.occurred_at, incident.reported_at):
        assert moment.tzinfo is UTC
