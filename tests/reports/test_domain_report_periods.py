from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from duban_reports.domain.periods import (
    REPORT_TZ,
    InvalidPeriod,
    Period,
    ReportKind,
    parse_period,
    period_of,
)


@pytest.mark.parametrize(
    ("text", "kind", "first_day", "last_day", "label"),
    [
        ("2023-W23", ReportKind.WEEKLY, date(2023, 6, 5), date(2023, 6, 11), "2023年第23周（6月5日—6月11日）"),
        ("2023-w1", ReportKind.WEEKLY, date(2023, 1, 2), date(2023, 1, 8), "2023年第1周（1月2日—1月8日）"),
        (
            "2020-W53",
            ReportKind.WEEKLY,
            date(2020, 12, 28),
            date(2021, 1, 3),
            "2020年第53周（2020年12月28日—2021年1月3日）",
        ),
        ("2023-06", ReportKind.MONTHLY, date(2023, 6, 1), date(2023, 6, 30), "2023年6月"),
        ("2024-02", ReportKind.MONTHLY, date(2024, 2, 1), date(2024, 2, 29), "2024年2月"),
        ("2023-Q2", ReportKind.QUARTERLY, date(2023, 4, 1), date(2023, 6, 30), "2023年第二季度"),
        ("2023-q4", ReportKind.QUARTERLY, date(2023, 10, 1), date(2023, 12, 31), "2023年第四季度"),
        ("2023", ReportKind.ANNUAL, date(2023, 1, 1), date(2023, 12, 31), "2023年度"),
        ("2023-03-01..2023-03-15", ReportKind.ADHOC, date(2023, 3, 1), date(2023, 3, 15), "2023年3月1日—3月15日"),
        (
            " 2022-12-20..2023-01-05 ",
            ReportKind.ADHOC,
            date(2022, 12, 20),
            date(2023, 1, 5),
            "2022年12月20日—2023年1月5日",
        ),
        ("2023-05-12..2023-05-12", ReportKind.ADHOC, date(2023, 5, 12), date(2023, 5, 12), "2023年5月12日"),
    ],
)
def test_parse_period_reads_each_kind_with_its_days_and_chinese_label(
    text: str, kind: ReportKind, first_day: date, last_day: date, label: str
) -> None:
    period = parse_period(text)

    assert (period.kind, period.first_day, period.last_day) == (kind, first_day, last_day)
    assert period.label_zh == label


@pytest.mark.parametrize(
    "text",
    [
        "2023-W53",
        "2023-W00",
        "2023-13",
        "2023-00",
        "2023-Q5",
        "2023-Q0",
        "2023-03-15..2023-03-01",
        "2023-02-30..2023-03-01",
        "June",
        "",
    ],
)
def test_parse_period_refuses_text_that_names_no_real_period(text: str) -> None:
    with pytest.raises(InvalidPeriod):
        parse_period(text)


def test_a_period_runs_from_local_midnight_to_the_midnight_after_its_last_day_in_utc() -> None:
    period = parse_period("2023-Q2")

    assert period.start == datetime(2023, 3, 31, 16, 0, tzinfo=UTC)
    assert period.end == datetime(2023, 6, 30, 16, 0, tzinfo=UTC)
    assert period.start.tzinfo is UTC


def test_a_period_holds_its_start_but_not_its_end() -> None:
    period = parse_period("2023-06")

    assert period.contains(datetime(2023, 6, 1, 0, 0, tzinfo=REPORT_TZ))
    assert period.contains(datetime(2023, 6, 30, 23, 59, 59, tzinfo=REPORT_TZ))
    assert not period.contains(datetime(2023, 7, 1, 0, 0, tzinfo=REPORT_TZ))
    assert not period.contains(datetime(2023, 5, 31, 23, 59, tzinfo=REPORT_TZ))


@pytest.mark.parametrize(
    ("text", "previous", "following"),
    [
        ("2023-W01", "2022-W52", "2023-W02"),
        ("2020-W53", "2020-W52", "2021-W01"),
        ("2023-01", "2022-12", "2023-02"),
        ("2023-Q1", "2022-Q4", "2023-Q2"),
        ("2023", "2022", "2024"),
        ("2023-03-01..2023-03-15", "2023-02-14..2023-02-28", "2023-03-16..2023-03-30"),
    ],
)
def test_previous_and_next_are_the_neighbouring_periods_of_the_same_kind(
    text: str, previous: str, following: str
) -> None:
    period = parse_period(text)

    assert period.previous().key == previous
    assert period.next().key == following


def test_new_years_day_2023_lies_in_the_last_iso_week_of_2022() -> None:
    assert period_of(ReportKind.WEEKLY, date(2023, 1, 1)).key == "2022-W52"


def test_an_on_demand_period_has_a_file_safe_slug() -> None:
    assert parse_period("2023-03-01..2023-03-15").slug == "2023-03-01_2023-03-15"


def test_a_period_cannot_end_before_it_starts() -> None:
    with pytest.raises(InvalidPeriod):
        Period(ReportKind.ADHOC, date(2023, 3, 2), date(2023, 3, 1))


_SCHEDULED_KINDS = st.sampled_from([ReportKind.WEEKLY, ReportKind.MONTHLY, ReportKind.QUARTERLY, ReportKind.ANNUAL])
_DAYS = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))


@given(kind=_SCHEDULED_KINDS, day=_DAYS)
def test_the_period_of_a_day_holds_the_day_and_its_key_parses_back_to_it(kind: ReportKind, day: date) -> None:
    period = period_of(kind, day)

    assert period.first_day <= day <= period.last_day
    assert parse_period(period.key) == period


@given(kind=_SCHEDULED_KINDS, day=_DAYS)
def test_consecutive_periods_tile_time_without_gap_or_overlap(kind: ReportKind, day: date) -> None:
    period = period_of(kind, day)

    assert period.next().first_day == period.last_day + timedelta(days=1)
    assert period.next().start == period.end
    assert period.next().previous() == period
