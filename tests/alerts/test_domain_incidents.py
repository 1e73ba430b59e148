"""Rules 1 and 2: safety incidents and late reports."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from duban_alerts.domain import Alert, Change
from duban_contracts.events import AlertState, IncidentCategory, IncidentGrade, Severity
from tests.alerts.alerts_support import case, incident, new_book


def _alerts_by_rule(changes: list[Change]) -> dict[str, Alert]:
    return {change.alert.rule: change.alert for change in changes}


@pytest.mark.parametrize(
    ("grade", "deaths", "expected"),
    [
        (IncidentGrade.I, 0, Severity.CRITICAL),
        (IncidentGrade.II, 0, Severity.CRITICAL),
        (IncidentGrade.III, 0, Severity.MAJOR),
        (IncidentGrade.IV, 0, Severity.WARNING),
        (None, 0, Severity.WARNING),
        (None, 1, Severity.CRITICAL),
        (IncidentGrade.IV, 2, Severity.CRITICAL),
    ],
)
def test_a_safety_incident_raises_an_alert_at_once_with_severity_from_grade_and_deaths(
    grade: IncidentGrade | None, deaths: int, expected: Severity
) -> None:
    book = new_book()

    changes = book.apply_incident(incident(grade=grade, deaths=deaths))

    alert = _alerts_by_rule(changes)["safety_incident"]
    assert alert.severity is expected
    assert alert.state is AlertState.FIRING
    assert alert.labels["unit_id"] == "bz-ez"


@pytest.mark.parametrize(("people", "expected"), [(4, Severity.WARNING), (5, Severity.CRITICAL)])
def test_food_poisoning_of_five_or_more_people_in_one_incident_is_critical(people: int, expected: Severity) -> None:
    book = new_book()

    changes = book.apply_incident(incident(category=IncidentCategory.FOOD_SAFETY, cases=people))

    assert _alerts_by_rule(changes)["safety_incident"].severity is expected


def test_a_single_infectious_case_is_no_safety_incident_but_a_death_from_it_is() -> None:
    book = new_book()

    single_case = book.apply_incident(case("2023-03-01 08:00"))
    fatal_case = book.apply_incident(incident(category=IncidentCategory.INFECTIOUS_DISEASE, cases=1, deaths=1))

    assert "safety_incident" not in _alerts_by_rule(single_case)
    assert _alerts_by_rule(fatal_case)["safety_incident"].severity is Severity.CRITICAL


@pytest.mark.parametrize(
    ("description", "kwargs", "minutes_late", "late"),
    [
        ("death, 59 min", {"deaths": 1}, 59, False),
        ("death, exactly 60 min", {"deaths": 1}, 60, False),
        ("death, 61 min", {"deaths": 1}, 61, True),
        ("grade III, 61 min", {"grade": IncidentGrade.III}, 61, True),
        ("grade IV without deaths, 61 min", {"grade": IncidentGrade.IV}, 61, False),
        ("food safety, 120 min", {"category": IncidentCategory.FOOD_SAFETY, "cases": 2}, 120, False),
        ("food safety, 121 min", {"category": IncidentCategory.FOOD_SAFETY, "cases": 2}, 121, True),
        ("infectious, 121 min", {"category": IncidentCategory.INFECTIOUS_DISEASE, "cases": 1}, 121, True),
        ("drowning, no casualties, 24 h", {}, 24 * 60, False),
        ("drowning, no casualties, 24 h 1 min", {}, 24 * 60 + 1, True),
    ],
)
def test_a_report_later_than_its_limit_raises_a_late_report_alert(
    description: str, kwargs: dict[str, Any], minutes_late: int, late: bool
) -> None:
    book = new_book()

    changes = book.apply_incident(incident(reported_after=timedelta(minutes=minutes_late), **kwargs))

    assert ("late_report" in _alerts_by_rule(changes)) is late, description


def test_a_late_report_alert_names_the_limit_and_the_delay() -> None:
    book = new_book()

    changes = book.apply_incident(incident(deaths=1, reported_after=timedelta(minutes=61)))

    late = _alerts_by_rule(changes)["late_report"]
    assert late.severity is Severity.MAJOR
    assert "迟报1分钟" in late.title_zh
    assert "1小时" in late.summary_zh


def test_the_same_incident_applied_twice_raises_one_alert() -> None:
    book = new_book()
    fact = incident(deaths=1)

    first = book.apply_incident(fact)
    second = book.apply_incident(fact)

    assert len(first) == 1
    assert second == []
    assert len(book.alerts()) == 1


def test_two_incidents_at_one_school_are_two_alerts() -> None:
    book = new_book()

    book.apply_incident(incident("2023-06-01 08:00"))
    book.apply_incident(incident("2023-06-01 09:00"))

    assert len({alert.id for alert in book.alerts()}) == 2


def test_an_incident_alert_stays_open_until_someone_resolves_it_and_a_late_report_expires_after_a_week() -> None:
    book = new_book()
    fact = incident(deaths=1, reported_after=timedelta(hours=3))
    raised = {change.alert.rule: change.alert for change in book.apply_incident(fact)}
    book.acknowledge(raised["safety_incident"].id, "张三", "已到现场", fact.reported_at)

    expired = book.tick(fact.reported_at + timedelta(days=7))
    resolved = book.resolve(raised["safety_incident"].id, "张三", "已处置完毕", fact.reported_at + timedelta(days=8))

    assert [(c.alert.rule, c.reason) for c in expired] == [("late_report", "expired")]
    assert expired[0].alert.resolved_at == fact.reported_at + timedelta(days=7)
    assert resolved[0].alert.state is AlertState.RESOLVED
    assert resolved[0].alert.resolved_by == "张三"
