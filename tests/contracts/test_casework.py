"""Casework vocabulary: a case's file from its actions, and the four rates every service counts alike."""

from __future__ import annotations

import itertools
import json
import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import jsonschema
import pytest

from duban import schemas
from duban_contracts.casework import (
    CaseAction,
    CaseChannel,
    CaseMismatch,
    CaseState,
    CaseStep,
    CaseSummary,
    Period,
    Satisfaction,
    case_rates,
    conclusion_rate,
    fold_case,
    improved,
    on_time_rate,
    periods,
    resolution_rate,
    satisfaction_rate,
    step_of,
)
from duban_contracts.events import EVENT_TYPES, CaseRecorded

SHANGHAI = ZoneInfo("Asia/Shanghai")
A = CaseAction


def at(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=SHANGHAI)


def step(
    action: CaseAction,
    when: str,
    *,
    case_id: str = "XF2023-001",
    channel: CaseChannel = CaseChannel.LETTER,
    event_id: str | None = None,
    unit: str = "安全稳定股",
    category: str = "教育收费",
    satisfaction: Satisfaction | None = None,
    limit_working_days: int | None = None,
) -> CaseStep:
    return CaseStep(
        event_id=event_id or f"{case_id}/{action}/{when}",
        case_id=case_id,
        action=action,
        at=at(when),
        channel=channel,
        unit_id=unit,
        unit_name=unit,
        category=category,
        satisfaction=satisfaction,
        limit_working_days=limit_working_days,
    )


# --- the case file ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actions", "state"),
    [
        ([A.RECEIVED], CaseState.RECEIVED),
        ([A.RECEIVED, A.ACCEPTED], CaseState.ACCEPTED),
        ([A.RECEIVED, A.ACCEPTED, A.EXTENDED], CaseState.EXTENDED),
        ([A.RECEIVED, A.FORWARDED], CaseState.FORWARDED),
        ([A.RECEIVED, A.FORWARDED, A.ACCEPTED], CaseState.ACCEPTED),  # handed back, then accepted
        ([A.RECEIVED, A.ACCEPTED, A.CONCLUDED], CaseState.CONCLUDED),
        ([A.RECEIVED, A.ACCEPTED, A.CONCLUDED, A.REVISITED], CaseState.REVISITED),
        ([A.RECEIVED, A.ACCEPTED, A.CONCLUDED, A.REVISITED, A.RESOLVED], CaseState.RESOLVED),
        ([A.ACCEPTED], CaseState.ACCEPTED),  # first seen when accepted
    ],
)
def test_a_cases_state_follows_its_actions(actions: list[CaseAction], state: CaseState) -> None:
    steps = [step(action, f"2023-03-{day + 1:02d} 09:00") for day, action in enumerate(actions)]

    case = fold_case(steps)

    assert case.state is state
    assert case.state.label_zh
    assert case.state.is_open is (state in (CaseState.RECEIVED, CaseState.ACCEPTED, CaseState.EXTENDED))


def test_event_time_decides_not_arrival_order_and_a_duplicate_counts_once() -> None:
    steps = [
        step(A.RECEIVED, "2023-03-01 09:00"),
        step(A.ACCEPTED, "2023-03-03 10:00"),
        step(A.EXTENDED, "2023-04-20 10:00"),
        step(A.CONCLUDED, "2023-05-20 16:00"),
        step(A.REVISITED, "2023-05-25 10:00", satisfaction=Satisfaction.DISSATISFIED),
        step(A.REVISITED, "2023-06-05 10:00", satisfaction=Satisfaction.BASICALLY_SATISFIED),
    ]
    expected = fold_case(steps)

    for seed in range(5):
        shuffled = [*steps, steps[1], steps[3]]  # re-sent under the same ids
        random.Random(seed).shuffle(shuffled)
        assert fold_case(shuffled) == expected

    assert expected.accepted_at == at("2023-03-03 10:00")
    assert len(expected.extensions) == 1
    assert expected.satisfaction is Satisfaction.BASICALLY_SATISFIED  # the latest rating
    assert expected.rated_at == at("2023-06-05 10:00")


def test_the_earliest_of_a_repeated_action_counts_and_the_latest_unit_handles_it() -> None:
    case = fold_case(
        [
            step(A.RECEIVED, "2023-03-01 09:00", unit="安全稳定股"),
            step(A.ACCEPTED, "2023-03-05 09:00", unit="基础教育股", event_id="a2"),
            step(A.ACCEPTED, "2023-03-02 09:00", unit="基础教育股", event_id="a1"),
            step(A.CONCLUDED, "2023-04-01 09:00", unit="基础教育股"),
        ]
    )

    assert case.accepted_at == at("2023-03-02 09:00")
    assert case.unit_id == "基础教育股"
    assert case.channel is CaseChannel.LETTER


def test_as_of_shows_the_case_as_it_stood_then() -> None:
    steps = [
        step(A.RECEIVED, "2023-03-01 09:00"),
        step(A.ACCEPTED, "2023-03-03 10:00"),
        step(A.CONCLUDED, "2023-05-20 16:00"),
    ]

    assert fold_case(steps, as_of=at("2023-03-02 00:00")).state is CaseState.RECEIVED
    assert fold_case(steps, as_of=at("2023-05-20 16:00")).state is CaseState.CONCLUDED


def test_a_work_orders_own_limit_and_clock_start_come_from_its_receipt() -> None:
    case = fold_case(
        [
            step(A.RECEIVED, "2023-09-28 15:00", channel=CaseChannel.HOTLINE, category="咨询"),
            step(A.EXTENDED, "2023-10-07 09:00", channel=CaseChannel.HOTLINE, limit_working_days=5),
        ]
    )

    summary = case.summary(due=date(2023, 10, 13))

    assert case.limit_working_days == 5
    assert case.category == "咨询"
    assert summary.accepted_on == date(2023, 9, 28)
    assert summary.due == date(2023, 10, 13)


def test_actions_of_two_cases_are_not_folded_together() -> None:
    with pytest.raises(CaseMismatch, match="XF2023-002"):
        fold_case([step(A.RECEIVED, "2023-03-01 09:00"), step(A.ACCEPTED, "2023-03-02 09:00", case_id="XF2023-002")])
    with pytest.raises(CaseMismatch):
        fold_case([])


# --- the rates -----------------------------------------------------------------------------------

MARCH = Period.month(2023, 3)


def summary(
    case_id: str,
    *,
    accepted: date | None = date(2023, 3, 1),
    due: date | None = date(2023, 4, 30),
    concluded: date | None = None,
    forwarded: date | None = None,
    rated: date | None = None,
    satisfaction: Satisfaction | None = None,
    resolved: date | None = None,
) -> CaseSummary:
    return CaseSummary(
        case_id=case_id,
        channel=CaseChannel.LETTER,
        unit_id="安全稳定股",
        received_on=accepted or date(2023, 3, 1),
        accepted_on=accepted,
        concluded_on=concluded,
        due=due,
        forwarded_on=forwarded,
        rated_on=rated,
        satisfaction=satisfaction,
        resolved_on=resolved,
    )


def test_conclusion_rate_counts_done_against_done_or_late_of_cases_accepted_in_the_period() -> None:
    cases = [
        summary("done", accepted=date(2023, 3, 1), due=date(2023, 3, 20), concluded=date(2023, 3, 15)),
        summary("late open", accepted=date(2023, 3, 2), due=date(2023, 3, 25)),
        summary("within limit", accepted=date(2023, 3, 20), due=date(2023, 5, 19)),
        summary("done after the period", accepted=date(2023, 3, 3), due=date(2023, 3, 29), concluded=date(2023, 4, 2)),
        summary("accepted before", accepted=date(2023, 2, 27), due=date(2023, 3, 10), concluded=date(2023, 3, 2)),
        summary("forwarded", accepted=date(2023, 3, 4), due=date(2023, 3, 10), forwarded=date(2023, 3, 5)),
        summary("not accepted", accepted=None, due=None),
    ]

    rate = conclusion_rate(cases, MARCH)

    # done / (done + late open + concluded too late to be in by 3-31)
    assert (rate.numerator, rate.denominator) == (1, 3)
    assert rate.value == pytest.approx(1 / 3)


def test_on_time_rate_counts_each_case_once_where_its_timeliness_was_settled() -> None:
    cases = [
        summary("on time in March", due=date(2023, 3, 31), concluded=date(2023, 3, 31)),
        summary("early, due in April", due=date(2023, 4, 30), concluded=date(2023, 3, 10)),
        summary("late, due 3-20, done 4-2", due=date(2023, 3, 20), concluded=date(2023, 4, 2)),
        summary("late and open", due=date(2023, 3, 30)),
        summary("due 3-31, open", due=date(2023, 3, 31)),  # first overdue day is 4-1: April's case
        summary("late in February", due=date(2023, 2, 27)),
        summary("no clock", due=None, concluded=date(2023, 3, 5)),
    ]

    march = on_time_rate(cases, MARCH)
    april = on_time_rate(cases, Period.month(2023, 4))

    assert (march.numerator, march.denominator) == (2, 4)
    assert (april.numerator, april.denominator) == (0, 1)


def test_on_time_rate_of_a_closed_period_does_not_change_when_late_cases_are_concluded() -> None:
    open_case = summary("late", due=date(2023, 3, 20))
    concluded_later = summary("late", due=date(2023, 3, 20), concluded=date(2023, 6, 1))

    assert on_time_rate([open_case], MARCH) == on_time_rate([concluded_later], MARCH)


def test_satisfaction_counts_satisfied_and_basically_satisfied_among_rated_revisits() -> None:
    cases = [
        summary("a", rated=date(2023, 3, 5), satisfaction=Satisfaction.SATISFIED),
        summary("b", rated=date(2023, 3, 6), satisfaction=Satisfaction.BASICALLY_SATISFIED),
        summary("c", rated=date(2023, 3, 7), satisfaction=Satisfaction.DISSATISFIED),
        summary("d", rated=date(2023, 4, 7), satisfaction=Satisfaction.SATISFIED),
        summary("unrated", rated=None),
    ]

    rate = satisfaction_rate(cases, MARCH)

    assert (rate.numerator, rate.denominator) == (2, 3)


def test_resolution_rate_counts_resolved_among_cases_concluded_in_the_period() -> None:
    cases = [
        summary("resolved", concluded=date(2023, 3, 5), resolved=date(2023, 3, 20)),
        summary("resolved later", concluded=date(2023, 3, 6), resolved=date(2023, 4, 20)),
        summary("answered only", concluded=date(2023, 3, 7)),
        summary("open", concluded=None),
    ]

    assert resolution_rate(cases, MARCH).numerator == 1
    assert resolution_rate(cases, MARCH).denominator == 3
    assert resolution_rate(cases, Period.year(2023)).numerator == 2


def test_an_as_of_inside_the_period_sees_only_what_was_known_then() -> None:
    cases = [
        summary("done 3-15", due=date(2023, 3, 20), concluded=date(2023, 3, 15)),
        summary("done 3-25", due=date(2023, 3, 31), concluded=date(2023, 3, 25)),
    ]

    rates = case_rates(cases, MARCH, as_of=date(2023, 3, 20))

    assert (rates["办结率"].numerator, rates["办结率"].denominator) == (1, 1)
    assert (rates["按期办结率"].numerator, rates["按期办结率"].denominator) == (1, 1)


def test_a_period_without_cases_has_no_rate_rather_than_zero() -> None:
    rates = case_rates([], MARCH)

    assert list(rates) == ["办结率", "按期办结率", "满意度", "化解率"]
    assert all(rate.value is None for rate in rates.values())


def test_periods_cover_the_year_without_gaps() -> None:
    for kind in ("month", "quarter", "year"):
        found = periods(2024, kind)
        assert found[0].first == date(2024, 1, 1)
        assert found[-1].last == date(2024, 12, 31)
        assert all(b.first - a.last == timedelta(days=1) for a, b in itertools.pairwise(found))
    assert Period.month(2024, 2).last == date(2024, 2, 29)
    assert Period.quarter(2023, 4).label == "2023-Q4"


@pytest.mark.parametrize(
    ("current", "baseline", "min_gain", "met"),
    [
        (0.92, 0.90, 0.0, True),
        (0.90, 0.90, 0.0, False),  # 进一步提高: equal is not higher
        (0.905, 0.90, 0.01, False),  # less than the required point
        (0.91, 0.90, 0.01, True),
        (1.0, 1.0, 0.0, True),  # kept at 100 %
        (0.99, 1.0, 0.0, False),
        (None, 0.9, 0.0, None),
        (0.9, None, 0.0, None),
    ],
)
def test_a_rate_is_further_raised_when_it_beats_last_year(
    current: float | None, baseline: float | None, min_gain: float, met: bool | None
) -> None:
    assert improved(current, baseline, min_gain) is met


# --- the wire model --------------------------------------------------------------------------------


def recorded(**changes: object) -> dict[str, object]:
    return {
        "type": "case.recorded",
        "schema_version": 1,
        "event_id": "e1",
        "occurred_at": "2023-09-28T15:00:00+08:00",
        "recorded_at": "2023-09-28T15:00:01+08:00",
        "source": "bz-jkj-aqwd",
        "unit": {"id": "bz-jkj-aqwd", "name": "安全稳定股", "kind": "section"},
        "case_id": "GD20230928-0012",
        "channel": "12345",
        "action": "received",
        "category": "投诉举报",
        "limit_working_days": 10,
    } | changes


def test_case_recorded_is_registered_and_its_schema_validates_a_work_order() -> None:
    assert EVENT_TYPES["case.recorded"] is CaseRecorded
    schema = json.loads((schemas.SCHEMA_DIR / "case.recorded.v1.json").read_text(encoding="utf-8"))

    jsonschema.validate(recorded(), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(recorded(channel="微信"), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(recorded(limit_working_days=0), schema)


def test_an_event_becomes_a_step_of_its_case() -> None:
    event = CaseRecorded.model_validate(recorded(action="revisited", satisfaction="满意"))

    case = fold_case([step_of(event)])

    assert case.channel is CaseChannel.HOTLINE
    assert case.satisfaction is Satisfaction.SATISFIED
    assert case.limit_working_days == 10
    assert case.received_at == at("2023-09-28 15:00")
