"""Rule 4: hard limits of the plan checked on measurements."""

from __future__ import annotations

import pytest

from duban_contracts.events import AlertState, Severity
from tests.alerts.alerts_support import at, measurement, new_book


@pytest.mark.parametrize(
    ("pupils", "severity", "label"),
    [
        (45, None, None),
        (55, None, None),
        (56, Severity.WARNING, "大班额"),
        (65, Severity.WARNING, "大班额"),
        (66, Severity.MAJOR, "超大班额"),
        (80, Severity.MAJOR, "超大班额"),
    ],
)
def test_class_size_of_56_is_a_large_class_and_66_an_oversized_one(
    pupils: int, severity: Severity | None, label: str | None
) -> None:
    book = new_book()

    changes = book.apply_measurement(measurement(pupils))

    if severity is None:
        assert changes == []
    else:
        (change,) = changes
        assert change.alert.severity is severity
        assert change.alert.stage == label
        assert change.alert.labels == {"rule": "class_size", "unit_id": "bz-ez", "class_name": "七年级3班"}


@pytest.mark.parametrize(("minutes", "alerted"), [(30, True), (59, True), (60, False), (90, False)])
def test_daily_exercise_under_sixty_minutes_raises_a_warning(minutes: int, alerted: bool) -> None:
    book = new_book()

    changes = book.apply_measurement(measurement(minutes, metric="daily_exercise_minutes", class_name=None))

    assert [c.alert.severity for c in changes] == ([Severity.WARNING] if alerted else [])


def test_a_class_shrinking_changes_severity_and_then_resolves_the_alert() -> None:
    book = new_book()
    (raised,) = book.apply_measurement(measurement(70, "2023-09-01 09:00"))

    (smaller,) = book.apply_measurement(measurement(60, "2023-10-01 09:00"))
    (fine,) = book.apply_measurement(measurement(50, "2023-11-01 09:00"))

    assert (smaller.update, smaller.alert.severity) == ("severity_changed", Severity.WARNING)
    assert smaller.alert.id == raised.alert.id
    assert fine.kind == "resolved"
    assert fine.alert.resolved_at == at("2023-11-01 09:00")


def test_repeated_breaches_fold_into_one_alert_with_a_count() -> None:
    book = new_book()

    for month in range(9, 13):
        book.apply_measurement(measurement(58, f"2023-{month:02d}-01 09:00"))

    (alert,) = book.alerts()
    assert alert.count == 4
    assert (alert.first_seen, alert.last_seen) == (at("2023-09-01 09:00"), at("2023-12-01 09:00"))


def test_an_older_breach_arriving_late_is_put_on_record_as_cleared_by_the_newer_reading() -> None:
    book = new_book()
    book.apply_measurement(measurement(50, "2023-10-01 09:00"))

    changes = book.apply_measurement(measurement(70, "2023-09-01 09:00"))

    assert [c.kind for c in changes] == ["raised", "resolved"]
    (alert,) = book.alerts()
    assert alert.state is AlertState.RESOLVED  # the newer reading decides the present
    assert (alert.first_seen, alert.resolved_at) == (at("2023-09-01 09:00"), at("2023-10-01 09:00"))


def test_two_readings_of_a_class_give_the_same_history_in_either_order() -> None:
    def history(order: list[tuple[float, str, str]]) -> list[tuple[object, ...]]:
        book = new_book()
        for value, when, fact in order:
            book.apply_measurement(measurement(value, when, id_=fact))
        return [(a.id, a.state, a.count, a.first_seen, a.resolved_at, a.severity) for a in book.alerts()]

    breach, fine = (70.0, "2023-09-01 09:00", "m-breach"), (50.0, "2023-10-01 09:00", "m-fine")
    assert history([breach, fine]) == history([fine, breach])
    assert len(history([breach, fine])) == 1


def test_an_older_breach_arriving_late_counts_towards_the_open_alert_without_changing_it() -> None:
    book = new_book()
    book.apply_measurement(measurement(60, "2023-10-01 09:00"))

    (change,) = book.apply_measurement(measurement(70, "2023-09-01 09:00"))

    assert change.update == "repeated"
    assert change.alert.severity is Severity.WARNING  # the newer measurement decides the severity
    assert (change.alert.count, change.alert.first_seen) == (2, at("2023-09-01 09:00"))
    assert change.alert.state is AlertState.FIRING


def test_a_measurement_of_another_metric_raises_nothing() -> None:
    book = new_book()

    assert book.apply_measurement(measurement(3, metric="teacher_ratio")) == []
