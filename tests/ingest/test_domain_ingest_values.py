"""Reading amounts, dates, grades and personal data, module by module."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from duban_contracts.units import RATIO
from duban_ingest.domain.dates import Moment, NotADate, parse_moment
from duban_ingest.domain.incidents import canonical_disease, parse_category, parse_grade
from duban_ingest.domain.keys import read_key
from duban_ingest.domain.numbers import NotANumber, Quantity, UnitFault, in_base_unit, parse_quantity
from duban_ingest.domain.privacy import mask_personal_data

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("text", "amount", "spelling"),
    [
        ("1.54万平方米", "1.54", "万平方米"),
        ("一千五百", "1500", None),
        ("两所", "2", "所"),
        ("１２０", "120", None),
        ("3,200", "3200", None),
        ("约200", "200", None),
        ("12.5%", "12.5", "%"),
        ("1亿元", "1", "亿元"),
        ("300人次", "300", "人次"),
        ("0.3万元", "0.3", "万元"),
        ("6600余人次", "6600", "人次"),
        ("百分之九十", "90", "%"),
        ("￥3000", "3000", "元"),
        ("1小时30分钟", "90", "分钟"),
    ],
)
def test_quantities_are_read_as_written(text: str, amount: str, spelling: str | None) -> None:
    quantity = parse_quantity(text)
    assert isinstance(quantity, Quantity)
    assert quantity.amount == Decimal(amount)
    assert quantity.spelling == spelling


@pytest.mark.parametrize("text", ["", "abc", "200-300", "1.2.3", "万", "9" * 65])
def test_texts_that_are_not_one_number_are_refused(text: str) -> None:
    assert isinstance(parse_quantity(text), NotANumber)


def test_approximation_words_are_flagged_but_the_figure_is_kept() -> None:
    quantity = parse_quantity("约1.2万平方米")
    assert isinstance(quantity, Quantity)
    assert quantity.approximate
    assert in_base_unit(quantity, "平方米") == Decimal(12000)


@pytest.mark.parametrize(
    ("text", "base", "expected"),
    [
        ("1.54万平方米", "平方米", Decimal(15400)),
        ("1.54万", "平方米", Decimal(15400)),
        ("1200", "平方米", Decimal(1200)),
        ("0.3亿元", "元", Decimal(30_000_000)),
        ("3千万元", "元", Decimal(30_000_000)),
        ("1小时", "分钟", Decimal(60)),
        ("95%", RATIO, Decimal("0.95")),
        ("0.95", RATIO, Decimal("0.95")),
    ],
)
def test_quantities_convert_exactly_to_the_base_unit(text: str, base: str, expected: Decimal) -> None:
    quantity = parse_quantity(text)
    assert isinstance(quantity, Quantity)
    assert in_base_unit(quantity, base) == expected


@pytest.mark.parametrize(
    ("text", "base", "fault"),
    [("100元", "平方米", "mismatch"), ("100吨", "平方米", "unknown"), ("95", RATIO, "ambiguous_ratio")],
)
def test_quantities_that_do_not_fit_the_target_are_faults(text: str, base: str, fault: str) -> None:
    quantity = parse_quantity(text)
    assert isinstance(quantity, Quantity)
    converted = in_base_unit(quantity, base)
    assert isinstance(converted, UnitFault)
    assert converted.kind == fault


def test_a_column_unit_applies_to_bare_numbers_only() -> None:
    bare, written = parse_quantity("1.2"), parse_quantity("3000平方米")
    assert isinstance(bare, Quantity)
    assert isinstance(written, Quantity)
    assert in_base_unit(bare, "平方米", "万平方米") == Decimal(12000)
    assert in_base_unit(written, "平方米", "万平方米") == Decimal(3000)


@pytest.mark.parametrize(
    ("text", "local"),
    [
        ("2023年5月31日", datetime(2023, 5, 31)),
        ("2023/5/31", datetime(2023, 5, 31)),
        ("2023-05-31 08:30", datetime(2023, 5, 31, 8, 30)),
        ("5月31日", datetime(2023, 5, 31)),
        ("5.12", datetime(2023, 5, 12)),
        ("2023年5月31日晚上8点", datetime(2023, 5, 31, 20, 0)),
        ("2023年5月31日凌晨12点", datetime(2023, 5, 31, 0, 0)),
        ("2023年5月31日中午12点", datetime(2023, 5, 31, 12, 0)),
    ],
)
def test_local_dates_and_times_become_utc(text: str, local: datetime) -> None:
    moment = parse_moment(text, 2023, SHANGHAI)
    assert isinstance(moment, Moment)
    assert moment.at == local.replace(tzinfo=SHANGHAI)
    assert moment.at.tzinfo is UTC


def test_a_date_alone_keeps_its_local_calendar_date_recoverable() -> None:
    moment = parse_moment("2023-01-01", 2023, SHANGHAI)
    assert isinstance(moment, Moment)
    assert not moment.has_time
    assert moment.at == datetime(2022, 12, 31, 16, 0, tzinfo=UTC)
    assert moment.at.astimezone(SHANGHAI).date() == date(2023, 1, 1) == moment.local_date


def test_an_offset_is_honoured_and_the_local_date_follows_the_bureau_zone() -> None:
    moment = parse_moment("2023-05-31T20:30:00-04:00", 2023, SHANGHAI)
    assert isinstance(moment, Moment)
    assert moment.at == datetime(2023, 6, 1, 0, 30, tzinfo=UTC)
    assert moment.local_date == date(2023, 6, 1)


def test_spreadsheet_datetimes_without_zone_are_local() -> None:
    moment = parse_moment(datetime(2023, 6, 5, 9, 0), 2023, SHANGHAI)
    assert isinstance(moment, Moment)
    assert moment.at == datetime(2023, 6, 5, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize("text", ["2023-02-29", "2023年13月1日", "下周一", "12:30", "2023.5", "0900-01-01"])
def test_impossible_or_unreadable_dates_are_refused(text: str) -> None:
    assert isinstance(parse_moment(text, 2023, SHANGHAI), NotADate)


@pytest.mark.parametrize(
    ("text", "grade"),
    [
        ("Ⅰ级", "I"),
        ("重大", "II"),
        ("较大事故", "III"),
        ("4级", "IV"),
        ("iv", "IV"),
        ("一般（Ⅳ级）", "IV"),
        ("六级", None),
    ],
)
def test_grades_follow_the_state_council_regulation(text: str, grade: str | None) -> None:
    assert parse_grade(text) == grade


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("交通事故", "交通"),
        ("食物中毒", "食品安全"),
        ("煤气中毒", "一氧化碳中毒"),
        ("校园欺凌", "欺凌"),
        ("地震", "自然灾害"),
    ],
)
def test_incident_synonyms_map_to_the_contract_categories(text: str, category: str) -> None:
    found = parse_category(text)
    assert found is not None
    assert found.value == category


def test_disease_names_are_brought_to_one_spelling_and_unknown_ones_kept() -> None:
    assert canonical_disease("甲流") == canonical_disease("流行性感冒") == "流感"
    assert canonical_disease(" 猴痘 ") == "猴痘"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("身份证110105199001011234", "身份证〔身份证号〕"),
        ("证号11010519900101123X。", "证号〔身份证号〕。"),
        ("电话13800138000", "电话〔手机号〕"),
        ("电话 138-0013-8000", "电话 〔手机号〕"),
        ("座机0827-5261234", "座机〔电话〕"),
        ("学生张三溺水", "学生张某溺水"),
        ("姓名：欧阳小明", "姓名：欧阳某"),
        ("，王小明同学在操场摔倒", "，王某同学在操场摔倒"),
        ("家长李四反映食堂问题", "家长李某反映食堂问题"),
    ],
)
def test_personal_data_is_masked(text: str, masked: str) -> None:
    assert mask_personal_data(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "学生安全教育",
        "全体同学",
        "任课老师",
        "教师节系列庆祝活动",
        "新建校舍1.2万平方米",
        "合同金额 1234567 元",
        "张某同学",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert mask_personal_data(text) == text


@pytest.mark.parametrize(
    ("key", "field", "hint"),
    [
        ("数值", "value", None),
        (" 数 值 ", "value", None),
        ("完成数（万平方米）", "value", "万平方米"),
        ("数值(%)", "value", "%"),
        ("ＤＡＴＥ", "date", None),
        ("occurred-at", "occurred_at", None),
        ("*单位：", "source", None),
        ("联系人", None, None),
    ],
)
def test_keys_are_recognised_in_either_language(key: str, field: str | None, hint: str | None) -> None:
    meaning = read_key(key)
    assert meaning.field == field
    assert meaning.unit_hint == hint
