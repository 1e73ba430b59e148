"""Notifications: routing, grouping, timing, repeats, inhibition and silences."""

from __future__ import annotations

from datetime import timedelta

import pytest

from duban_alerts.domain import AlertBook, Notification
from duban_contracts.events import IncidentGrade, Severity, TargetStatus
from tests.alerts.alerts_support import OTHER_SCHOOL, at, case, dated_event, incident, new_book, status

T0 = at("2023-06-01 08:10")  # when the default incident is reported


def told(notifications: list[Notification]) -> list[tuple[str, str, int]]:
    """(receiver, reason, number of firing alerts) per notification."""
    return [(n.receiver, n.reason, len(n.firing)) for n in notifications]


def test_a_critical_incident_reaches_the_leadership_at_once_and_the_safety_desk_after_group_wait() -> None:
    book = new_book()
    book.apply_incident(incident(deaths=1))

    at_once = book.plan_notifications(T0)
    soon = book.plan_notifications(T0 + timedelta(seconds=29))
    after_wait = book.plan_notifications(T0 + timedelta(seconds=30))

    assert told(at_once) == [("局领导", "new", 1)]
    assert soon == []
    assert told(after_wait) == [("安全稳定股", "new", 1)]


def test_alerts_of_one_school_arriving_within_group_wait_are_told_together() -> None:
    book = new_book()
    book.apply_incident(incident("2023-06-01 08:00"))
    book.apply_incident(incident("2023-06-01 08:00", category=incident().category, injuries=2))
    book.apply_incident(incident("2023-06-01 08:00", unit=OTHER_SCHOOL))

    notifications = book.plan_notifications(T0 + timedelta(seconds=30))

    assert sorted((n.group_labels["unit_id"], len(n.firing)) for n in notifications) == [("bz-ez", 2), ("bz-sz", 1)]


def test_news_in_a_told_group_waits_for_group_interval() -> None:
    book = new_book()
    book.apply_incident(incident("2023-06-01 08:00"))
    book.plan_notifications(T0 + timedelta(seconds=30))

    book.apply_incident(incident("2023-06-01 08:01"))
    early = book.plan_notifications(T0 + timedelta(minutes=5))
    on_time = book.plan_notifications(T0 + timedelta(minutes=5, seconds=30))

    assert early == []
    assert told(on_time) == [("安全稳定股", "changed", 2)]


def test_what_still_fires_is_repeated_every_four_hours_unless_acknowledged() -> None:
    book = new_book()
    (raised,) = book.apply_incident(incident())
    first = T0 + timedelta(seconds=30)
    book.plan_notifications(first)

    before = book.plan_notifications(first + timedelta(hours=3, minutes=59))
    repeat = book.plan_notifications(first + timedelta(hours=4))
    book.acknowledge(raised.alert.id, "张三", None, first + timedelta(hours=5))
    after_ack = book.plan_notifications(first + timedelta(hours=8, minutes=1))

    assert before == []
    assert told(repeat) == [("安全稳定股", "repeat", 1)]
    assert after_ack == []


def test_a_resolution_of_something_told_is_told_once() -> None:
    book = new_book()
    (raised,) = book.apply_incident(incident())
    book.plan_notifications(T0 + timedelta(seconds=30))
    book.resolve(raised.alert.id, "张三", None, T0 + timedelta(hours=1))

    resolved = book.plan_notifications(T0 + timedelta(hours=1))
    again = book.plan_notifications(T0 + timedelta(hours=9))

    assert [(n.reason, [a.id for a in n.resolved]) for n in resolved] == [("resolved", [raised.alert.id])]
    assert again == []


def test_a_silence_suppresses_notifications_but_the_alert_is_still_recorded_and_changes_state() -> None:
    book = new_book()
    book.add_silence(
        ['unit_id="bz-ez"', 'rule=~"safety_incident|late_report"'],
        starts_at=T0 - timedelta(hours=1),
        ends_at=T0 + timedelta(hours=2),
        created_by="李四",
        comment="演练期间",
        now=T0 - timedelta(hours=1),
    )

    changes = book.apply_incident(incident())
    muted = book.plan_notifications(T0 + timedelta(minutes=1))
    escalation = book.tick(T0 + timedelta(days=1))
    after_silence = book.plan_notifications(T0 + timedelta(hours=2))

    assert [c.kind for c in changes] == ["raised"]
    assert muted == []
    assert [c.update for c in escalation] == []  # a warning does not escalate, but it is still open
    assert told(after_silence) == [("安全稳定股", "new", 1)]


@pytest.mark.parametrize(
    ("matchers", "muted"),
    [
        (['unit_id="bz-ez"'], True),
        (['unit_id!="bz-ez"'], False),
        (['unit_id=~"bz-.*"'], True),
        (['unit_id=~"bz"'], False),  # regular expressions are anchored
        (['unit_id!~"bz-s.*"'], True),
        (['severity="warning"', 'category="溺水"'], True),
        (['class_name=""'], True),  # an absent label matches the empty string
    ],
)
def test_silence_matchers_follow_alertmanager(matchers: list[str], muted: bool) -> None:
    book = new_book()
    book.add_silence(matchers, starts_at=T0, ends_at=T0 + timedelta(days=1), created_by="a", comment="c", now=T0)
    book.apply_incident(incident())

    notifications = book.plan_notifications(T0 + timedelta(minutes=1))

    assert (notifications == []) is muted


def test_an_expired_or_future_silence_does_not_apply() -> None:
    book = new_book()
    ended = book.add_silence(
        ['unit_id="bz-ez"'],
        starts_at=T0 - timedelta(days=2),
        ends_at=T0 + timedelta(days=2),
        created_by="a",
        comment="c",
        now=T0,
    )
    book.expire_silence(ended.id, T0 - timedelta(hours=1))
    book.add_silence(
        ['unit_id="bz-ez"'],
        starts_at=T0 + timedelta(days=1),
        ends_at=T0 + timedelta(days=2),
        created_by="a",
        comment="c",
        now=T0,
    )
    book.apply_incident(incident())

    assert told(book.plan_notifications(T0 + timedelta(minutes=1))) == [("安全稳定股", "new", 1)]


def test_adding_the_same_silence_twice_keeps_one() -> None:
    book = new_book()
    kwargs = {"starts_at": T0, "ends_at": T0 + timedelta(hours=1), "created_by": "a", "comment": "c", "now": T0}

    first = book.add_silence(['unit_id="bz-ez"'], **kwargs)  # type: ignore[arg-type]
    second = book.add_silence(['unit_id="bz-ez"'], **kwargs)  # type: ignore[arg-type]

    assert first == second
    assert len(book.silences()) == 1


def test_a_malformed_matcher_is_refused() -> None:
    with pytest.raises(ValueError, match="not a label matcher"):
        new_book().add_silence(
            ["unit_id"], starts_at=T0, ends_at=T0 + timedelta(hours=1), created_by="a", comment="c", now=T0
        )


def _lag(book: AlertBook, target: str, value: TargetStatus) -> None:
    fact = status(target, value, "2023-06-01 10:00")
    book.apply_status(fact)


def test_the_red_light_inhibits_the_yellow_light_of_the_same_target_only() -> None:
    book = new_book()
    _lag(book, "t07_a", TargetStatus.CRITICAL)
    _lag(book, "t07_b", TargetStatus.LAGGING)

    (notification,) = book.plan_notifications(at("2023-06-01 10:01"))

    assert notification.receiver == "督查室"
    assert sorted((a.rule, a.labels["target_id"]) for a in notification.firing) == [
        ("target_critical", "t07_a"),
        ("target_lagging", "t07_b"),
    ]


def test_when_red_turns_back_to_yellow_the_yellow_alert_is_told_again() -> None:
    book = new_book()
    _lag(book, "t07_a", TargetStatus.CRITICAL)
    book.plan_notifications(at("2023-06-01 10:01"))

    book.apply_status(status("t07_a", TargetStatus.LAGGING, "2023-06-02 10:00"))
    (notification,) = book.plan_notifications(at("2023-06-02 10:00"))

    assert [a.rule for a in notification.firing] == ["target_lagging"]
    assert [a.rule for a in notification.resolved] == ["target_critical"]


def test_a_critical_outbreak_inhibits_a_warning_outbreak_of_the_same_disease_at_the_same_school() -> None:
    book = new_book()
    for i in range(3):  # 3 mumps cases in one class: a class-level warning
        book.apply_incident(case(f"2023-03-01 {8 + i:02d}:00", disease="流行性腮腺炎"))
    book.apply_incident(case("2023-03-02 08:00", cases=7, disease="流行性腮腺炎", class_name=None))
    severities = sorted((a.labels["scope"], a.severity) for a in book.alerts())

    notifications = book.plan_notifications(at("2023-03-02 09:00"))

    assert severities == [("class", Severity.WARNING), ("school", Severity.CRITICAL)]
    firing = {(n.receiver, a.labels["scope"]) for n in notifications for a in n.firing}
    assert firing == {("局领导", "school"), ("安全稳定股", "school")}


def test_an_alert_reaching_duban_goes_up_to_the_leadership() -> None:
    book = new_book()
    book.apply_incident(incident(grade=IncidentGrade.III))  # major: one step a day
    book.plan_notifications(T0 + timedelta(seconds=30))

    book.tick(T0 + timedelta(days=2))
    notifications = book.plan_notifications(T0 + timedelta(days=2))

    assert sorted(told(notifications)) == [("安全稳定股", "changed", 1), ("局领导", "new", 1)]


def test_deadlines_are_grouped_by_task_and_reminded_daily() -> None:
    book = new_book((dated_event("t24_a", task_day := dated_event().due), dated_event("t24_b", task_day)))
    book.tick(at("2023-04-01 00:00"))

    first = book.plan_notifications(at("2023-04-01 00:01"))
    same_day = book.plan_notifications(at("2023-04-01 20:00"))
    next_day = book.plan_notifications(at("2023-04-02 00:01"))

    assert [(n.receiver, n.group_labels, len(n.firing)) for n in first] == [("督查室", {"task": "24"}, 2)]
    assert same_day == []
    assert told(next_day) == [("督查室", "repeat", 2)]


def test_planning_twice_at_the_same_moment_sends_nothing_the_second_time_and_keys_are_stable() -> None:
    def run() -> tuple[list[str], list[Notification]]:
        book = new_book()
        book.apply_incident(incident(deaths=1, id_="fixed"))
        first = book.plan_notifications(T0 + timedelta(minutes=1))
        return [n.key for n in first], book.plan_notifications(T0 + timedelta(minutes=1))

    keys_a, second_a = run()
    keys_b, _ = run()

    assert second_a == []
    assert keys_a == keys_b
    assert len(set(keys_a)) == 2


def test_the_routing_memo_grows_with_the_groups_not_with_the_alerts() -> None:
    from duban_alerts.domain import load_rules
    from duban_alerts.domain.notifications import Router

    router = Router(load_rules(None).notifications.route)
    base = {"rule": "data_quality", "severity": "warning", "unit_id": "bz-sz", "state": "firing"}

    routed = [router.groups_for({**base, "fact_id": f"f{n}", "check": "increment_outlier"}) for n in range(500)]
    elsewhere = router.groups_for({**base, "unit_id": "bz-ez", "fact_id": "f0"})

    assert len(router._memo) == 2  # one per distinct routing, not one per fact id
    assert all(r == routed[0] for r in routed)
    assert [key for _, key, _ in elsewhere] != [key for _, key, _ in routed[0]]
    # the memo answers as the tree itself does
    fresh = Router(load_rules(None).notifications.route)
    assert fresh.root.match({**base, "fact_id": "f9"}) == [route for route, _, _ in routed[9]]
