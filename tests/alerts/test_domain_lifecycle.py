"""The alert lifecycle: fingerprints, ids, acknowledgement, escalation, resolution."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from duban_alerts.domain import AlertBook, UnknownAlert, alert_id, fingerprint
from duban_contracts.events import AlertState, IncidentGrade, Severity
from tests.alerts.alerts_support import at, case, incident, measurement, new_book

REPORTED = at("2023-06-01 08:10")


def critical_incident(book: AlertBook) -> str:
    (change,) = book.apply_incident(incident("2023-06-01 08:00", deaths=1))
    assert change.alert.first_seen == REPORTED
    return change.alert.id


def test_a_fingerprint_depends_on_the_labels_not_their_order() -> None:
    assert fingerprint({"rule": "r", "unit_id": "u"}) == fingerprint({"unit_id": "u", "rule": "r"})
    assert fingerprint({"rule": "r", "unit_id": "u"}) != fingerprint({"rule": "r", "unit_id": "v"})


def test_alert_ids_are_derived_from_fingerprint_and_episode() -> None:
    book = new_book()

    (change,) = book.apply_measurement(measurement(60))

    assert change.alert.id == alert_id(change.alert.fingerprint, 0)
    assert change.key == f"{change.alert.id}/1"


@pytest.mark.parametrize(
    ("after", "level"),
    [
        (timedelta(hours=1, minutes=59), 0),
        (timedelta(hours=2), 1),
        (timedelta(hours=3, minutes=59), 1),
        (timedelta(hours=4), 2),
        (timedelta(hours=30), 2),
    ],
)
def test_an_unacknowledged_critical_alert_climbs_the_ladder_every_two_hours(after: timedelta, level: int) -> None:
    book = new_book()
    critical_incident(book)

    book.tick(REPORTED + after)

    (alert,) = book.alerts()
    assert alert.escalation_level == level


def test_escalation_steps_are_dated_at_their_boundaries_and_taken_once() -> None:
    book = new_book()
    critical_incident(book)

    changes = [c for minutes in range(0, 10 * 60, 7) for c in book.tick(REPORTED + timedelta(minutes=minutes))]

    assert [(c.update, c.alert.escalation_level, c.at) for c in changes] == [
        ("escalated", 1, REPORTED + timedelta(hours=2)),
        ("escalated", 2, REPORTED + timedelta(hours=4)),
    ]


def test_acknowledging_stops_escalation() -> None:
    book = new_book()
    alert = critical_incident(book)
    book.tick(REPORTED + timedelta(hours=2))

    (ack,) = book.acknowledge(alert, "王局长", "已部署处置", REPORTED + timedelta(hours=3))
    later = book.tick(REPORTED + timedelta(hours=10))

    assert (ack.update, ack.actor, ack.comment) == ("acknowledged", "王局长", "已部署处置")
    assert ack.alert.state is AlertState.ACKNOWLEDGED
    assert ack.alert.acknowledged_at == REPORTED + timedelta(hours=3)
    assert later == []
    assert book.alert(alert).escalation_level == 1


def test_acknowledging_twice_changes_nothing_the_second_time() -> None:
    book = new_book()
    alert = critical_incident(book)

    first = book.acknowledge(alert, "a", None, REPORTED)
    second = book.acknowledge(alert, "b", None, REPORTED)

    assert len(first) == 1
    assert second == []
    assert book.alert(alert).acknowledged_by == "a"


def test_resolution_stops_everything() -> None:
    book = new_book()
    alert = critical_incident(book)

    (resolved,) = book.resolve(alert, "张三", "处置完毕", REPORTED + timedelta(minutes=30))
    later = book.tick(REPORTED + timedelta(hours=10))

    assert resolved.alert.state is AlertState.RESOLVED
    assert (resolved.reason, resolved.alert.resolved_by) == ("manual", "张三")
    assert later == []
    assert book.acknowledge(alert, "x", None, REPORTED + timedelta(hours=11)) == []


def test_a_major_alert_escalates_daily_and_a_warning_never() -> None:
    book = new_book()
    book.apply_incident(incident(grade=IncidentGrade.III))
    book.apply_incident(incident(grade=IncidentGrade.IV))

    book.tick(REPORTED + timedelta(days=1))

    levels = {a.severity: a.escalation_level for a in book.alerts()}
    assert levels == {Severity.MAJOR: 1, Severity.WARNING: 0}


def test_a_worse_outbreak_after_acknowledgement_fires_again() -> None:
    book = new_book()
    for hour in range(3):
        book.apply_incident(case(f"2023-03-01 {8 + hour:02d}:00"))
    (outbreak,) = book.alerts()
    book.acknowledge(outbreak.id, "校医", None, at("2023-03-01 12:00"))

    for hour in range(3, 6):
        book.apply_incident(case(f"2023-03-01 {8 + hour:02d}:00"))

    worse = book.alert(outbreak.id)
    assert (worse.severity, worse.state, worse.acknowledged_by) == (Severity.MAJOR, AlertState.FIRING, None)


def test_a_measured_alert_that_clears_and_breaches_again_opens_a_new_alert() -> None:
    book = new_book()
    (first,) = book.apply_measurement(measurement(60, "2023-09-01 09:00"))
    book.apply_measurement(measurement(50, "2023-10-01 09:00"))

    (again,) = book.apply_measurement(measurement(60, "2023-11-01 09:00"))

    assert again.kind == "raised"
    assert again.alert.id != first.alert.id
    assert again.alert.episode == 1


def test_an_unknown_alert_id_is_an_error() -> None:
    with pytest.raises(UnknownAlert):
        new_book().acknowledge("nope", "a", None, REPORTED)


def test_every_change_bumps_the_version() -> None:
    book = new_book()
    alert = critical_incident(book)

    book.tick(REPORTED + timedelta(hours=2))
    book.acknowledge(alert, "a", None, REPORTED + timedelta(hours=3))
    book.resolve(alert, "a", None, REPORTED + timedelta(hours=4))

    assert book.alert(alert).version == 4


def test_the_open_counts_follow_raising_worsening_resolving_and_a_reload() -> None:
    book = new_book()
    incident_alert = critical_incident(book)
    assert book.open_counts() == Counter({("critical", "safety_incident"): 1})
    for hour in range(3):
        book.apply_incident(case(f"2023-03-01 {8 + hour:02d}:00"))  # an outbreak, then worse
    assert book.open_counts() == recounted(book)
    for hour in range(3, 6):
        book.apply_incident(case(f"2023-03-01 {8 + hour:02d}:00"))
    book.apply_measurement(measurement(60, "2023-09-01 09:00"))
    book.apply_measurement(measurement(50, "2023-10-01 09:00"))  # cleared
    book.resolve(incident_alert, "张三", "处置完毕", REPORTED + timedelta(minutes=30))

    assert book.open_counts() == recounted(book)
    assert ("critical", "safety_incident") not in book.open_counts()  # none left: not kept as a 0
    assert AlertBook(book.rules, state=book.state()).open_counts() == recounted(book)


def recounted(book: AlertBook) -> Counter[tuple[str, str]]:
    return Counter((alert.severity.value, alert.rule) for alert in book.alerts(open_only=True))
