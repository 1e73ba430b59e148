"""Rule 6: lagging (yellow) and seriously lagging (red) targets from the tasks service."""

from __future__ import annotations

import pytest

from duban_alerts.domain import AlertBook, load_rules
from duban_alerts.domain.plan_targets import plan_targets
from duban_contracts.events import AlertState, Severity, TargetStatus
from duban_contracts.plan import load_plan
from tests.alerts.alerts_support import at, measurement, new_book, status

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


def plan_book() -> AlertBook:
    return new_book(plan_targets(load_plan()))


def test_a_broken_constraint_raises_no_lag_alert_only_its_class_size_alert() -> None:
    book = plan_book()

    book.apply_measurement(measurement(58, "2023-09-01 09:00"))
    changes = book.apply_status(status("t10_class_size_max", TargetStatus.CRITICAL, "2023-09-01 09:05", actual=1))
    book.tick(at("2023-09-20 09:00"))

    assert [c.kind for c in changes] == []
    about_class_size = [
        (a.rule, a.title_zh)
        for a in book.alerts(open_only=True)
        if a.rule in {"class_size", "target_lagging", "target_critical"}
    ]
    assert about_class_size == [("class_size", "巴中市第二中学七年级3班大班额（班额58人）")]


def test_a_constraint_that_had_lag_alerts_has_them_resolved() -> None:
    rules = load_rules()
    lenient = rules.model_copy(update={"lag": rules.lag.model_copy(update={"exempt_kinds": ()})})
    book = AlertBook(lenient, plan_targets(load_plan()))
    book.apply_status(status("t10_class_size_max", TargetStatus.CRITICAL, "2023-09-01 09:05"))
    assert open_rules(book) == {"target_lagging": Severity.WARNING, "target_critical": Severity.MAJOR}

    book.rules = rules
    book.apply_status(status("t10_class_size_max", TargetStatus.CRITICAL, "2023-09-02 09:05"))

    assert open_rules(book) == {}


def test_lag_alerts_speak_the_words_of_the_targets_kind() -> None:
    book = plan_book()

    book.apply_status(status("t12_undergrad_admits_growth", TargetStatus.CRITICAL, "2023-07-01 10:00"))
    book.apply_status(status(TARGET, TargetStatus.CRITICAL, "2023-07-01 10:00"))

    titles = {a.title_zh for a in book.alerts(open_only=True) if a.rule == "target_critical"}
    summaries = {a.summary_zh for a in book.alerts(open_only=True) if a.rule == "target_critical"}
    assert any(title.endswith("增幅明显不足") for title in titles)
    assert any(title.endswith("严重滞后") for title in titles)
    assert not any("序时进度" in s for s in summaries if "增幅" in s)
