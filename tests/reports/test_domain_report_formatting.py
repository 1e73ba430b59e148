from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from duban_reports.domain.formatting import (
    format_as_of_zh,
    format_date_zh,
    format_datetime_zh,
    format_duration_zh,
    format_number,
    format_percent,
    format_points,
    format_quantity,
)
from duban_reports.domain.periods import REPORT_TZ


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (15400, "平方米", "1.54万平方米"),
        (13800, "平方米", "1.38万平方米"),
        (9000, "平方米", "9000平方米"),
        (100_000_000, "元", "1亿元"),
        (2_700_000_000, "元", "27亿元"),
        (46_000_000, "元", "4600万元"),
        (70_200, "人次", "7.02万人次"),
        (260, "人", "260人"),
        (3500, "人次", "3500人次"),
        (10_000, "人", "1万人"),
        (12_345, "条", "1.23万条"),
        (12_355, "条", "1.24万条"),  # 四舍五入, not banker's rounding
        (99_999_999, "元", "1亿元"),  # rounds up into the next unit
        (9_999.999, "个", "1万个"),
        (12.5, "分钟", "12.5分钟"),
        (0, "个", "0个"),
        (-15_400, "平方米", "-1.54万平方米"),
        (1e12, "元", "10000亿元"),
        (0.9, "ratio", "90%"),
        (None, "人", "—"),
    ],
)
def test_format_quantity_writes_large_figures_with_wan_and_yi(value: float | None, unit: str, expected: str) -> None:
    assert format_quantity(value, unit) == expected


@pytest.mark.parametrize(
    ("ratio", "expected"),
    [
        (0.9, "90%"),
        (0.125, "12.5%"),
        (1.0, "100%"),
        (1 / 3, "33.3%"),
        (0.0005, "0.1%"),
        (0.0, "0%"),
        (1.234, "123.4%"),
        (None, "—"),
    ],
)
def test_format_percent_writes_a_fraction_as_a_percentage(ratio: float | None, expected: str) -> None:
    assert format_percent(ratio) == expected


def test_format_number_has_no_unit_and_no_separators() -> None:
    assert format_number(9999) == "9999"
    assert format_number(15400) == "1.54万"


def test_format_points_states_the_size_of_a_gap_in_percentage_points() -> None:
    assert format_points(-0.052) == "5.2个百分点"
    assert format_points(0.1) == "10个百分点"


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (date(2023, 6, 30), "2023年6月30日"),
        (date(2023, 1, 5), "2023年1月5日"),
        (datetime(2023, 6, 30, 16, 30, tzinfo=UTC), "2023年7月1日"),  # read in Asia/Shanghai
        (datetime(2023, 6, 30, 23, 59, tzinfo=REPORT_TZ), "2023年6月30日"),
    ],
)
def test_format_date_zh_writes_year_month_day_in_the_bureaus_time_zone(moment: date, expected: str) -> None:
    assert format_date_zh(moment) == expected


def test_format_datetime_zh_adds_the_local_time() -> None:
    assert format_datetime_zh(datetime(2023, 6, 18, 8, 20, tzinfo=UTC)) == "2023年6月18日 16:20"


def test_as_of_local_midnight_reads_as_the_whole_previous_day() -> None:
    assert format_as_of_zh(datetime(2023, 7, 1, 0, 0, tzinfo=REPORT_TZ)) == "2023年6月30日"
    assert format_as_of_zh(datetime(2023, 6, 30, 15, 30, tzinfo=REPORT_TZ)) == "2023年6月30日 15:30"


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        format_date_zh(datetime(2023, 6, 30, 12, 0))


@pytest.mark.parametrize(
    ("span", "expected"),
    [
        (timedelta(minutes=45), "45分钟"),
        (timedelta(seconds=20), "0分钟"),
        (timedelta(hours=2, minutes=35), "2小时35分钟"),
        (timedelta(hours=3), "3小时"),
        (timedelta(days=3, hours=4, minutes=10), "3天4小时"),
        (timedelta(days=2), "2天"),
        (None, "—"),
    ],
)
def test_format_duration_zh_gives_the_two_largest_units(span: timedelta | None, expected: str) -> None:
    assert format_duration_zh(span) == expected
