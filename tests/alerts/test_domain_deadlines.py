"""Rule 5: deadlines of dated events, milestones, periodic duties and coverage targets."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from duban_alerts.domain import AlertBook, MilestoneDue, PlanTarget
from duban_contracts.events import AlertState, Severity, TargetStatus
from tests.alerts.alerts_support import activity, at, dated_event, new_book, periodic, status


def deadline_alerts(book: AlertBook) -> list[tuple[str, Severity, AlertState]]:
    return [(a.stage, a.severity, a.state) for a in book.alerts()]


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        ("2023-03-31 23:59", None),
        ("2023-04-01 00:00", ("T-14", Severity.INFO)),
        ("2023-04-07 23:59", ("T-14", Severity.INFO)),
        ("2023-04-08 00:00", ("T-7", Severity.WARNING)),  # exactly T-7
        ("2023-04-14 00:00", ("T-1", Severity.WARNING)),
        ("2023-04-15 23:59", ("T-1", Severity.WARNING)),  # the due day itself is on time
        ("2023-04-16 00:00", ("overdue", Severity.MAJOR)),
    ],
)
def test_a_dated_event_is_reminded_at_t14_t7_t1_and_overdue_after_its_day(
    now: str, expected: tuple[str, Severity] | None
) -> None:
    book = new_book((dated_event(due=date(2023, 4, 15)),))

    book.tick(at(now))

    assert deadline_alerts(book) == ([] if expected is None else [(*expected, AlertState.FIRING)])


def test_one_alert_advances_through_the_stages_and_its_times_are_the_stage_boundaries() -> None:
    book = new_book((dated_event(due=date(2023, 4, 15)),))

    changes = [change for day in range(1, 17) for change in book.tick(at(f"2023-04-{day:02d} 09:30"))]

    assert [(c.kind, c.update, c.alert.stage) for c in changes] == [
        ("raised", None, "T-14"),
        ("updated", "severity_changed", "T-7"),
        ("updated", "updated", "T-1"),
        ("updated", "severity_changed", "overdue"),
    ]
    assert len({c.alert.id for c in changes}) == 1
    assert [c.at for c in changes] == [
        at("2023-04-01 00:00"),
        at("2023-04-08 00:00"),
        at("2023-04-14 00:00"),
        at("2023-04-16 00:00"),
    ]
    assert changes[-1].alert.first_seen == at("2023-04-01 00:00")


def test_an_activity_in_the_window_resolves_the_reminder() -> None:
    book = new_book((dated_event(due=date(2023, 4, 15)),))
    book.tick(at("2023-04-09 08:00"))

    (resolved,) = book.apply_activity(activity("t24_safety_day", "2023-04-10 15:00"))

    assert (resolved.kind, resolved.reason) == ("resolved", "done")
    assert resolved.alert.resolved_at == at("2023-04-10 15:00")
    assert book.tick(at("2023-04-20 00:00")) == []  # done stays done


def test_an_activity_held_before_any_reminder_means_no_alert_at_all() -> None:
    book = new_book((dated_event(due=date(2023, 4, 15)),))
    book.apply_activity(activity("t24_safety_day", "2023-04-10 15:00"))

    for day in range(1, 20):
        book.tick(at(f"2023-04-{day:02d} 08:00"))

    assert book.alerts() == []


def test_an_activity_long_before_the_window_does_not_count() -> None:
    book = new_book((dated_event(due=date(2023, 4, 15)),))
    book.apply_activity(activity("t24_safety_day", "2023-03-01 15:00"))

    book.tick(at("2023-04-16 08:00"))

    assert deadline_alerts(book) == [("overdue", Severity.MAJOR, AlertState.FIRING)]


def test_an_activity_after_the_day_resolves_the_overdue_alert_as_done_late() -> None:
    book = new_book((dated_event(due=date(2023, 4, 15)),))
    book.tick(at("2023-04-16 08:00"))

    (resolved,) = book.apply_activity(activity("t24_safety_day", "2023-04-18 10:00"))

    assert resolved.reason == "done_late"


def test_a_window_event_is_reminded_before_its_start_and_overdue_after_its_end() -> None:
    week = dated_event("t33_science_week", due=date(2023, 5, 31), start=date(2023, 5, 20))
    book = new_book((week,))

    book.tick(at("2023-05-13 00:00"))
    reminded = deadline_alerts(book)
    book.tick(at("2023-05-31 12:00"))
    during = deadline_alerts(book)
    book.tick(at("2023-06-01 00:00"))

    assert reminded == [("T-7", Severity.WARNING, AlertState.FIRING)]
    assert during == [("T-1", Severity.WARNING, AlertState.FIRING)]
    assert deadline_alerts(book) == [("overdue", Severity.MAJOR, AlertState.FIRING)]


def test_a_quarterly_duty_missed_by_the_end_of_the_quarter_raises_an_alert_for_that_quarter() -> None:
    book = new_book((periodic(),))

    book.tick(at("2023-04-01 00:00"))

    missed = [a for a in book.alerts() if a.stage == "overdue"]
    assert [(a.labels["period"], a.severity, a.rule) for a in missed] == [("2023-Q1", Severity.MAJOR, "periodic")]
    assert "意识形态分析研判专题会" in missed[0].title_zh


def test_a_quarterly_duty_held_in_the_quarter_raises_nothing_and_a_make_up_meeting_counts_for_its_own_quarter() -> None:
    book = new_book((periodic(),))
    book.apply_activity(activity("t04_ideology_meeting_quarterly", "2023-02-20 09:00"))
    book.apply_activity(activity("t04_ideology_meeting_quarterly", "2023-07-03 09:00"))

    book.tick(at("2023-07-01 00:00"))
    book.tick(at("2023-10-01 00:00"))

    assert [(a.labels["period"], a.stage) for a in book.alerts()] == [("2023-Q2", "overdue")]


def test_a_missed_period_resolved_by_hand_is_not_raised_again() -> None:
    book = new_book((periodic(),))
    book.tick(at("2023-04-01 00:00"))
    (missed,) = [a for a in book.alerts() if a.stage == "overdue"]

    book.resolve(missed.id, "办公室", "已补开", at("2023-04-03 10:00"))
    later = book.tick(at("2023-04-04 00:00"))

    assert [c for c in later if c.alert.labels.get("period") == "2023-Q1"] == []


def test_a_weekly_duty_is_reminded_only_the_day_before() -> None:
    book = new_book((periodic("t99_weekly_patrol", every="week"),))

    book.tick(at("2023-01-07 00:00"))  # 2023's first week runs Monday 2 to Sunday 8 January

    assert [(a.labels["period"], a.stage) for a in book.alerts()] == [("2023-W01", "T-1")]


def _with_milestone() -> PlanTarget:
    return PlanTarget(
        target_id="t07_school_building_new",
        title_zh="新建中小学校舍",
        kind="cumulative_count",
        due=date(2023, 12, 31),
        value=15400,
        unit="平方米",
        milestones=(MilestoneDue(due=date(2023, 6, 30), value=7000),),
        task=7,
    )


@pytest.mark.parametrize(("actual", "overdue"), [(6999, True), (7000, False)])
def test_a_milestone_is_done_when_progress_reaches_its_value(actual: float, overdue: bool) -> None:
    book = new_book((_with_milestone(),))
    book.apply_status(status("t07_school_building_new", TargetStatus.ON_TRACK, "2023-06-20 10:00", actual=actual))

    book.tick(at("2023-07-01 00:00"))

    milestone = [a for a in book.alerts() if a.rule == "milestone"]
    assert bool(milestone) is overdue


def test_progress_reaching_the_milestone_resolves_its_reminder() -> None:
    book = new_book((_with_milestone(),))
    book.tick(at("2023-06-25 00:00"))

    changes = book.apply_status(
        status("t07_school_building_new", TargetStatus.ON_TRACK, "2023-06-26 10:00", actual=7200)
    )

    assert [(c.alert.rule, c.kind, c.reason) for c in changes] == [("milestone", "resolved", "done")]


def test_a_coverage_target_below_full_coverage_at_its_due_date_raises_an_alert_until_it_is_met() -> None:
    target = PlanTarget(
        target_id="t13_coverage", title_zh="课后服务覆盖", kind="coverage", due=date(2023, 9, 30), task=13
    )
    book = new_book((target,))
    book.apply_status(status("t13_coverage", TargetStatus.LAGGING, "2023-09-20 10:00", completion=0.9))

    on_due_day = book.tick(at("2023-09-30 12:00"))
    after = book.tick(at("2023-10-01 00:00"))
    met = book.apply_status(status("t13_coverage", TargetStatus.DONE, "2023-10-08 10:00", completion=1.0))

    assert [c.alert.rule for c in on_due_day if c.alert.rule == "coverage_shortfall"] == []
    assert [(c.alert.rule, c.alert.severity) for c in after if c.alert.rule == "coverage_shortfall"] == [
        ("coverage_shortfall", Severity.MAJOR)
    ]
    assert [(c.kind, c.reason) for c in met if c.alert.rule == "coverage_shortfall"] == [("resolved", "done_late")]


def test_the_outcome_does_not_depend_on_how_often_the_clock_ticks() -> None:
    hourly, daily = new_book((dated_event(),)), new_book((dated_event(),))
    start = at("2023-03-25 00:00")

    for hour in range(0, 24 * 25):
        hourly.tick(start + timedelta(hours=hour))
    for day in range(0, 25):
        daily.tick(start + timedelta(days=day, hours=17))

    assert hourly.alerts() == daily.alerts()


def test_deadlines_before_the_watch_starts_are_ignored() -> None:
    early = PlanTarget(
        target_id="t24_safety_day",
        title_zh="全国中小学生安全教育日",
        kind="dated_event",
        due=date(2023, 3, 27),
        active_from=date(2023, 5, 31),
    )
    book = new_book((early,))

    book.tick(at("2023-06-01 08:00"))

    assert book.alerts() == []


def test_a_clock_running_backwards_never_takes_a_stage_back() -> None:
    book = new_book((dated_event(due=date(2023, 4, 15)),))
    book.tick(at("2023-04-16 08:00"))
    restarted = AlertBook(book.rules, (dated_event(due=date(2023, 4, 15)),), book.state())

    changes = restarted.tick(at("2023-04-02 08:00"))

    assert changes == []
    assert deadline_alerts(restarted) == [("overdue", Severity.MAJOR, AlertState.FIRING)]
