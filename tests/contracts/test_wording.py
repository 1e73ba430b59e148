"""Each kind of target in its own words: a broken rule is 未达标, never 滞后; only quantities have 序时进度."""

from __future__ import annotations

from datetime import date

import pytest

from duban_contracts.events import TargetStatus
from duban_contracts.plan import TargetKind, load_plan
from duban_contracts.plan.wording import VOCABULARY, Figure, Terms, figure_zh, is_paced, status_zh

PLAN = load_plan()
TARGETS = {placed.target.id: placed for placed in PLAN.placed_targets()}


def words(target_id: str, status: TargetStatus, figure: Figure) -> tuple[str, str]:
    placed = TARGETS[target_id]
    return status_zh(placed.target.kind, status), figure_zh(Terms.of(placed.target, placed.due), status, figure)


def test_every_kind_names_every_status_in_chinese() -> None:
    assert set(VOCABULARY) == set(TargetKind)
    for kind, entry in VOCABULARY.items():
        assert entry.kind is kind
        for status in TargetStatus:
            assert entry.status_zh(status).isascii() is False


def test_only_a_plain_quantity_is_judged_against_the_expected_pace() -> None:
    assert [kind for kind in TargetKind if is_paced(kind)] == [TargetKind.CUMULATIVE_COUNT]
    for kind in TargetKind:
        if kind is not TargetKind.CUMULATIVE_COUNT:
            assert not any("滞后" in VOCABULARY[kind].status_zh(s) for s in TargetStatus), kind


def test_a_broken_class_size_limit_counts_the_classes_over_it() -> None:
    status, figure = words("t10_class_size_max", TargetStatus.CRITICAL, Figure(actual=3))
    assert (status, figure) == ("未达标", "3个班超过55人")


def test_a_broken_limit_names_the_classes_when_known() -> None:
    _, figure = words(
        "t10_class_size_max",
        TargetStatus.CRITICAL,
        Figure(actual=2, breaches=("城区小学五年级2班", "实验中学八年级3班")),
    )
    assert figure == "2个班超过55人：城区小学五年级2班、实验中学八年级3班"


def test_a_held_limit_reads_as_met() -> None:
    status, figure = words("t35_daily_exercise_min", TargetStatus.ON_TRACK, Figure(actual=0))
    assert status == "达标"
    assert figure == "无学生每天运动时间不足60分钟的学校"
    _, short = words("t35_daily_exercise_min", TargetStatus.CRITICAL, Figure(actual=4))
    assert short == "4所学校学生每天运动时间不足60分钟"


def test_a_level_is_reached_or_not_with_its_date() -> None:
    assert words("t31_hitech_total", TargetStatus.DONE, Figure(actual=21, achieved_on=date(2023, 9, 8))) == (
        "已达成",
        "已达成20家（2023年9月8日）",
    )
    assert words("t31_hitech_total", TargetStatus.LAGGING, Figure(actual=16)) == (
        "未达成",
        "现16家，目标20家，2023年12月31日前达成",
    )


def test_growth_shows_the_change_against_last_year() -> None:
    assert words("t12_undergrad_admits_growth", TargetStatus.LAGGING, Figure(actual=0.08)) == (
        "增幅不足",
        "较上年增长8%（目标增长10%以上）",
    )
    _, fell = words("t05_edu_spending_no_decrease", TargetStatus.OVERDUE, Figure(actual=-0.02))
    assert fell == "较上年下降2%（只增不减）"
    _, both = words(
        "t12_undergrad_admits_growth", TargetStatus.DONE, Figure(actual=0.12, this_year=1120, last_year=1000)
    )
    assert both == "本年1120，上年1000，增长12%（目标增长10%以上）"


def test_coverage_shows_covered_of_total_and_who_is_missing() -> None:
    figure = Figure(actual=51 / 53, covered=51, total=53, missing=("光辉小学", "曾口中学"))
    assert words("t35_aed_coverage", TargetStatus.LAGGING, figure) == (
        "未全覆盖",
        "已覆盖51/53，未覆盖：光辉小学、曾口中学",
    )
    assert words("t35_aed_coverage", TargetStatus.DONE, Figure(actual=1.0))[0] == "全覆盖"


def test_duties_are_done_or_not_per_period_and_on_their_day() -> None:
    periodic = Figure(actual=2, periods_done=(True, False, True))
    assert words("t04_ideology_meeting_quarterly", TargetStatus.CRITICAL, periodic) == (
        "未按期开展",
        "第1季度已开展、第2季度未开展、第3季度已开展（全年4个季度）",
    )
    assert words("t24_national_security_day", TargetStatus.OVERDUE, Figure(actual=0)) == (
        "逾期未开展",
        "4月15日节点，逾期未开展",
    )
    assert words("t24_national_security_day", TargetStatus.DONE, Figure(actual=1))[0] == "已开展"


@pytest.mark.parametrize("status", list(TargetStatus))
def test_a_plain_quantity_keeps_the_words_of_the_pace(status: TargetStatus) -> None:
    assert status_zh(TargetKind.CUMULATIVE_COUNT, status) == status.label_zh
    assert words("t07_school_building_new", status, Figure(actual=9500))[1] == "9500平方米 / 15400平方米"
