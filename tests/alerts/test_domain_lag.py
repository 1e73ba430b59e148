"""Rule 6: lagging (yellow) and seriously lagging (red) targets from the tasks service."""

from __future__ import annotations

import pytest

from duban_alerts.domain import AlertBook
from duban_contracts.events import AlertState, Severity, TargetStatus
from tests.alerts.alerts_support import new_book, status

TARGET = "t07_school_building_new"


def open_rules(book: AlertBook) -> dict[str, Severity]:
    return {a.rule: a.severity for a in book.alerts(open_only=True)}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (TargetStatus.NOT_STARTED, {}),
        (TargetStatus.ON_TRACK, {}),
        (TargetStatus.LAGGING, {"target_lagging": Severity.WARNING}),
        (TargetStatus.CRITICAL, {"target_lagging": Severity.WARNING, "target_critical": Severity.MAJOR}),
        (TargetStatus.OVERDUE, {"target_lagging": Severity.WARNING, "target_critical": Severity.MAJOR}),
        (TargetStatus.DONE, {}),
    ],
)
def test_a_target_status_raises_yellow_and_red_alerts(value: TargetStatus, expected: dict[str, Severity]) -> None:
    book = new_book()

    book.apply_status(status(TARGET, value, "2023-06-01 10:00"))

    assert open_rules(book) == expected


def test_returning_to_on_track_resolves_both_lights() -> None:
    book = new_book()
    book.apply_status(status(TARGET, TargetStatus.LAGGING, "2023-06-01 10:00"))
    book.apply_status(status(TARGET, TargetStatus.CRITICAL, "2023-07-01 10:00"))

    changes = book.apply_status(status(TARGET, TargetStatus.ON_TRACK, "2023-08-01 10:00"))

    assert sorted((c.alert.rule, c.kind, c.reason) for c in changes) == [
        ("target_critical", "resolved", "status_on_track"),
        ("target_lagging", "resolved", "status_on_track"),
    ]
    assert all(a.state is AlertState.RESOLVED for a in book.alerts())


def test_red_back_to_yellow_resolves_only_the_red_alert() -> None:
    book = new_book()
    book.apply_status(status(TARGET, TargetStatus.CRITICAL, "2023-07-01 10:00"))

    book.apply_status(status(TARGET, TargetStatus.LAGGING, "2023-08-01 10:00"))

    assert open_rules(book) == {"target_lagging": Severity.WARNING}


def test_a_status_older_than_the_latest_one_is_ignored() -> None:
    book = new_book()
    book.apply_status(status(TARGET, TargetStatus.ON_TRACK, "2023-08-01 10:00"))

    changes = book.apply_status(status(TARGET, TargetStatus.CRITICAL, "2023-07-01 10:00"))

    assert changes == []
    assert open_rules(book) == {}


def test_task_level_statuses_raise_nothing() -> None:
    book = new_book()

    changes = book.apply_status(status("7", TargetStatus.CRITICAL, "2023-07-01 10:00", level="task"))

    assert changes == []


def test_lag_alerts_carry_the_task_for_grouping() -> None:
    book = new_book()

    (change,) = book.apply_status(status(TARGET, TargetStatus.LAGGING, "2023-06-01 10:00"))

    assert change.alert.labels == {"rule": "target_lagging", "target_id": TARGET, "task": "7", "section": "二"}
    assert "完成50%" in change.alert.summary_zh
