"""Rule 3: infectious-disease clusters in schools."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from duban_alerts.domain import Alert, AlertBook, IncidentFact, load_rules
from duban_contracts.events import AlertState, Severity
from tests.alerts.alerts_support import OTHER_SCHOOL, at, case, new_book


def outbreaks(book: AlertBook) -> list[Alert]:
    return [alert for alert in book.alerts() if alert.rule == "infectious_cluster"]


def apply_all(book: AlertBook, facts: list[IncidentFact]) -> None:
    for fact in facts:
        book.apply_incident(fact)


@pytest.mark.parametrize(("count", "alerted"), [(2, False), (3, True)])
def test_three_cases_in_one_class_within_a_day_is_an_outbreak_and_two_is_not(count: int, alerted: bool) -> None:
    book = new_book()

    apply_all(book, [case(f"2023-03-01 {8 + hour:02d}:00", disease=None) for hour in range(count)])

    found = [alert for alert in outbreaks(book) if alert.labels["scope"] == "class"]
    assert bool(found) is alerted
    if alerted:
        assert found[0].labels["disease"] == "症状聚集"
        assert found[0].severity is Severity.WARNING


@pytest.mark.parametrize(
    ("third_case", "alerted"),
    [("2023-03-02 07:59", True), ("2023-03-02 08:00", False)],
    ids=["23h59m-after-the-first", "exactly-24h-after-the-first"],
)
def test_within_one_day_means_less_than_24_hours_between_first_and_last_case(third_case: str, alerted: bool) -> None:
    book = new_book()

    apply_all(book, [case("2023-03-01 08:00"), case("2023-03-01 20:00"), case(third_case)])

    assert bool(outbreaks(book)) is alerted


def test_a_cluster_straddling_midnight_is_still_a_cluster() -> None:
    book = new_book()

    apply_all(book, [case("2023-03-01 22:00"), case("2023-03-01 23:30"), case("2023-03-02 01:00")])

    assert len(outbreaks(book)) == 1


def test_one_report_of_three_cases_counts_three() -> None:
    book = new_book()

    changes = book.apply_incident(case("2023-03-01 08:00", cases=3))

    assert [change.alert.value for change in changes if change.alert.rule == "infectious_cluster"] == [3.0]


@pytest.mark.parametrize(("count", "alerted"), [(4, False), (5, True)])
def test_five_cases_in_one_school_over_three_days_is_an_outbreak_and_four_is_not(count: int, alerted: bool) -> None:
    book = new_book()
    days = ["2023-03-01 08:00", "2023-03-02 08:00", "2023-03-03 07:00", "2023-03-03 08:00", "2023-03-03 09:00"]

    apply_all(book, [case(day, disease="其他感染性腹泻", class_name=f"{i}班") for i, day in enumerate(days[:count])])

    school = [alert for alert in outbreaks(book) if alert.labels["scope"] == "school"]
    assert bool(school) is alerted


def test_five_cases_spread_over_exactly_three_days_are_not_within_three_days() -> None:
    book = new_book()
    times = ["2023-03-01 08:00", "2023-03-02 08:00", "2023-03-03 08:00", "2023-03-03 09:00", "2023-03-04 08:00"]

    apply_all(book, [case(t, disease="其他感染性腹泻", class_name=f"{i}班") for i, t in enumerate(times)])

    assert outbreaks(book) == []


@pytest.mark.parametrize(("second_case", "alerted"), [("2023-03-11 07:59", True), ("2023-03-11 08:00", False)])
def test_two_measles_cases_within_ten_days_are_an_outbreak(second_case: str, alerted: bool) -> None:
    book = new_book()

    apply_all(
        book,
        [
            case("2023-03-01 08:00", disease="麻疹", class_name="1班"),
            case(second_case, disease="麻疹", class_name="5班"),
        ],
    )

    found = outbreaks(book)
    assert bool(found) is alerted
    if alerted:
        assert found[0].severity is Severity.MAJOR  # measles starts higher
        assert found[0].labels["scope"] == "school"


@pytest.mark.parametrize(("count", "alerted"), [(9, False), (10, True)])
def test_influenza_like_illness_is_an_outbreak_at_ten_cases_in_a_school_within_seven_days(
    count: int, alerted: bool
) -> None:
    book = new_book()

    apply_all(book, [case(f"2023-03-0{1 + i % 7} 10:00", class_name=f"{i}班") for i in range(count)])

    assert bool([a for a in outbreaks(book) if a.labels["scope"] == "school"]) is alerted


def test_a_fourth_influenza_case_updates_the_outbreak_instead_of_opening_another() -> None:
    book = new_book()
    apply_all(book, [case("2023-03-01 08:00"), case("2023-03-01 09:00"), case("2023-03-01 10:00")])
    (raised,) = outbreaks(book)

    changes = book.apply_incident(case("2023-03-01 11:00"))

    (updated,) = outbreaks(book)
    assert updated.id == raised.id
    assert (raised.count, updated.count) == (3, 4)
    assert updated.last_seen == at("2023-03-01 11:30")
    assert updated.first_seen == raised.first_seen
    assert [(c.kind, c.update) for c in changes] == [("updated", "repeated")]


@pytest.mark.parametrize(
    ("cases", "expected"),
    [(3, Severity.WARNING), (5, Severity.WARNING), (6, Severity.MAJOR), (8, Severity.MAJOR), (9, Severity.CRITICAL)],
)
def test_an_outbreak_escalates_its_severity_as_the_count_crosses_bands(cases: int, expected: Severity) -> None:
    book = new_book()

    apply_all(book, [case(f"2023-03-01 {8 + i:02d}:00", disease="水痘") for i in range(cases)])

    (class_alert,) = [a for a in outbreaks(book) if a.labels["scope"] == "class"]
    assert class_alert.severity is expected


def test_a_school_wide_critical_outbreak_and_a_food_poisoning_of_five_are_told_separately() -> None:
    book = new_book()

    apply_all(book, [case("2023-03-01 08:00", cases=10, disease="流行性腮腺炎", class_name=None)])

    (school,) = outbreaks(book)
    assert school.severity is Severity.CRITICAL  # 10 mumps cases in a week: a public-health event


def test_an_outbreak_resolves_after_its_quiet_period_without_new_cases() -> None:
    book = new_book()
    apply_all(book, [case("2023-03-01 08:00"), case("2023-03-01 09:00"), case("2023-03-01 10:00")])

    before = book.tick(at("2023-03-08 09:59"))
    after = book.tick(at("2023-03-08 10:00"))

    assert [c.alert.rule for c in before if c.kind == "resolved"] == []
    (resolved,) = [c for c in after if c.kind == "resolved"]
    assert resolved.reason == "quiet_period"
    assert resolved.alert.resolved_at == at("2023-03-08 10:00")


def test_measles_stays_open_for_its_longer_quiet_period() -> None:
    book = new_book()
    apply_all(book, [case("2023-03-01 08:00", disease="麻疹"), case("2023-03-02 08:00", disease="麻疹")])

    book.tick(at("2023-03-20 00:00"))

    assert outbreaks(book)[0].state is AlertState.FIRING


def test_a_new_cluster_after_a_resolved_one_is_a_new_alert_with_a_new_id() -> None:
    book = new_book()
    apply_all(book, [case("2023-03-01 08:00"), case("2023-03-01 09:00"), case("2023-03-01 10:00")])
    book.tick(at("2023-03-09 00:00"))

    apply_all(book, [case("2023-03-20 08:00"), case("2023-03-20 09:00"), case("2023-03-20 10:00")])

    first, second = outbreaks(book)
    assert first.state is AlertState.RESOLVED
    assert second.state is AlertState.FIRING
    assert first.fingerprint == second.fingerprint
    assert first.id != second.id
    assert (first.episode, second.episode) == (0, 1)
    assert second.count == 3  # the first outbreak's cases do not count again


def test_a_late_report_of_a_case_from_a_closed_outbreak_does_not_reopen_it() -> None:
    book = new_book()
    apply_all(book, [case("2023-03-01 08:00"), case("2023-03-01 09:00"), case("2023-03-01 10:00")])
    book.tick(at("2023-03-09 00:00"))

    changes = book.apply_incident(case("2023-03-01 11:00", reported_after=timedelta(days=10)))

    assert [c for c in changes if c.alert.rule == "infectious_cluster"] == []
    assert [a.state for a in outbreaks(book)] == [AlertState.RESOLVED]


def test_cases_arriving_in_any_order_give_the_same_outbreak() -> None:
    facts = [
        case("2023-03-01 08:00", id_="a"),
        case("2023-03-01 09:00", id_="b", reported_after=timedelta(hours=5)),
        case("2023-03-01 10:00", id_="c"),
        case("2023-03-01 11:00", cases=3, id_="d"),
        case("2023-03-05 11:00", id_="e"),
    ]
    config = load_rules()
    results = set()
    for order in itertools.permutations(facts):
        book = new_book(config=config)
        apply_all(book, list(order))
        results.add(
            tuple(
                (a.id, a.severity, a.count, a.value, a.first_seen, a.last_seen, a.severity_since, a.title_zh)
                for a in outbreaks(book)
            )
        )

    assert len(results) == 1
    ((class_alert,),) = results
    _, severity, count, peak, first_seen, _, severity_since, _ = class_alert
    assert severity is Severity.MAJOR  # 6 cases in a class in a day
    assert (count, peak) == (5, 6.0)
    assert first_seen == at("2023-03-01 11:30")  # the third case known (b only at 14:00)
    assert severity_since == at("2023-03-01 14:00")  # the sixth case known when b arrived


def test_cases_at_another_school_do_not_join_the_cluster() -> None:
    book = new_book()

    apply_all(book, [case("2023-03-01 08:00"), case("2023-03-01 09:00"), case("2023-03-01 10:00", unit=OTHER_SCHOOL)])

    assert outbreaks(book) == []


def test_aliases_count_as_the_same_disease() -> None:
    book = new_book()

    apply_all(
        book,
        [
            case("2023-03-01 08:00", disease="流感"),
            case("2023-03-01 09:00", disease="流感样病例"),
            case("2023-03-01 10:00", disease="流行性感冒"),
        ],
    )

    assert [a.labels["disease"] for a in outbreaks(book)] == ["流感"]
