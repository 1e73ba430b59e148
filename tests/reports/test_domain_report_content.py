from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest

from duban_contracts.events import TargetStatus
from duban_contracts.plan.model import Comparator, TargetKind
from duban_contracts.plan.wording import COUNTED_ORDER, CountedAs
from duban_reports.domain.content import (
    SectionProgress,
    TargetRow,
    TrafficLight,
    UnitReporting,
    traffic_light,
)
from duban_reports.domain.periods import REPORT_TZ
from duban_reports.rendering import narrative
from tests.reports.report_samples import sample_report


def _row(target_id: str, status: TargetStatus, due: date, owners: tuple[str, ...] = ("计划财务股",)) -> TargetRow:
    return TargetRow(
        section_no="二",
        section_title="夯实教育基础，改善办学条件",
        task_no=7,
        task_title="扩充城乡教育资源",
        target_id=target_id,
        text="新建中小学校舍1.54万平方米",
        metric="新建中小学校舍",
        target_value=15400,
        unit="平方米",
        status=status,
        due=due,
        responsible=owners,
    )


@pytest.mark.parametrize(
    ("status", "light"),
    [
        (TargetStatus.DONE, TrafficLight.GREEN),
        (TargetStatus.ON_TRACK, TrafficLight.GREEN),
        (TargetStatus.LAGGING, TrafficLight.YELLOW),
        (TargetStatus.CRITICAL, TrafficLight.RED),
        (TargetStatus.OVERDUE, TrafficLight.RED),
        (TargetStatus.NOT_STARTED, TrafficLight.GREY),
        (None, TrafficLight.GREY),
    ],
)
def test_traffic_light_follows_the_supervision_convention(status: TargetStatus | None, light: TrafficLight) -> None:
    assert traffic_light(status) is light


def test_headline_status_counts_come_from_the_target_rows_and_name_every_status() -> None:
    data = sample_report()
    rows = (
        _row("t1", TargetStatus.DONE, date(2023, 12, 31)),
        _row("t2", TargetStatus.DONE, date(2023, 12, 31)),
        _row("t3", TargetStatus.OVERDUE, date(2023, 6, 1)),
    )

    counts = replace(data, targets=rows).status_counts

    assert list(counts) == list(COUNTED_ORDER)
    assert counts[CountedAs.DONE] == 2
    assert counts[CountedAs.OVERDUE] == 1
    assert counts[CountedAs.NOT_STARTED] == 0


def test_a_broken_rule_is_counted_as_not_met_never_as_seriously_behind() -> None:
    data = sample_report()
    class_size = replace(
        _row("t03_class_size", TargetStatus.CRITICAL, date(2023, 12, 31)),
        text="严禁新产生55人以上大班额",
        metric="班额",
        target_value=55,
        unit="人",
        comparator=Comparator.LE,
        kind=TargetKind.CONSTRAINT,
    )
    rows = (
        class_size,
        replace(class_size, target_id="t04_exercise", status=TargetStatus.ON_TRACK),
        _row("t1", TargetStatus.CRITICAL, date(2023, 12, 31)),
    )

    report = replace(data, targets=rows)
    counts = report.status_counts

    assert counts[CountedAs.CRITICAL] == 1  # only the plain quantity is seriously behind
    assert counts[CountedAs.BREACHED] == 1
    assert counts[CountedAs.HELD] == 1
    assert sum(counts.values()) == len(rows)
    sentence = narrative.plan_sentence(report)
    assert "严重滞后1项" in sentence
    assert sentence.endswith("未开始0项；约束性指标2项：达标1项，未达标1项。")


def test_a_plan_without_rules_names_only_the_six_statuses() -> None:
    data = sample_report()
    rows = (_row("t1", TargetStatus.DONE, date(2023, 12, 31)),)

    sentence = narrative.plan_sentence(replace(data, targets=rows))

    assert "约束性" not in sentence and "达标" not in sentence


def test_the_late_list_puts_overdue_first_then_the_earliest_due() -> None:
    rows = (
        _row("lag_early", TargetStatus.LAGGING, date(2023, 7, 1)),
        _row("ok", TargetStatus.ON_TRACK, date(2023, 5, 1)),
        _row("critical_late", TargetStatus.CRITICAL, date(2023, 12, 31)),
        _row("overdue", TargetStatus.OVERDUE, date(2023, 6, 15)),
        _row("critical_early", TargetStatus.CRITICAL, date(2023, 9, 1)),
    )

    late = replace(sample_report(), targets=rows).late_targets

    assert [row.target_id for row in late] == ["overdue", "critical_early", "critical_late", "lag_early"]


def test_late_by_owner_counts_each_responsible_unit_most_first() -> None:
    rows = (
        _row("a", TargetStatus.LAGGING, date(2023, 12, 31), ("科技股",)),
        _row("b", TargetStatus.CRITICAL, date(2023, 12, 31), ("计划财务股", "项目办")),
        _row("c", TargetStatus.OVERDUE, date(2023, 6, 1), ("计划财务股",)),
        _row("d", TargetStatus.OVERDUE, date(2023, 6, 1), ()),
        _row("e", TargetStatus.DONE, date(2023, 6, 1), ("体育股",)),
    )

    owners = replace(sample_report(), targets=rows).late_by_owner

    assert owners == (("计划财务股", 2), ("未明确", 1), ("科技股", 1), ("项目办", 1))


def test_days_overdue_counts_whole_local_days_past_the_due_date() -> None:
    row = _row("t", TargetStatus.OVERDUE, date(2023, 6, 15))

    assert row.days_overdue(datetime(2023, 7, 1, 0, 0, tzinfo=REPORT_TZ)) == 16
    assert row.days_overdue(datetime(2023, 6, 15, 23, 0, tzinfo=REPORT_TZ)) == 0


def test_unit_reporting_rates_follow_dhis2_received_and_on_time_over_expected() -> None:
    unit = UnitReporting("bz-zk", "曾口镇中心小学", expected=13, received=9, on_time=6)

    assert unit.reporting_rate == pytest.approx(9 / 13)
    assert unit.on_time_rate == pytest.approx(6 / 13)
    assert (unit.late, unit.missing) == (3, 4)
    assert not unit.complete
    assert UnitReporting("x", "x", expected=0, received=0, on_time=0).reporting_rate is None


def test_reporting_totals_and_gaps_come_from_the_unit_rows() -> None:
    data = replace(
        sample_report(),
        reporting=(
            UnitReporting("a", "甲校", 10, 10, 10),
            UnitReporting("b", "乙校", 10, 8, 5),
            UnitReporting("c", "丙校", 10, 10, 9),
        ),
    )

    totals = data.reporting_totals

    assert (totals.units, totals.expected, totals.received, totals.on_time) == (3, 30, 28, 24)
    assert totals.on_time_rate == pytest.approx(0.8)
    assert [unit.unit_id for unit in data.reporting_gaps] == ["b", "c"]


def test_title_names_issuer_period_and_kind() -> None:
    assert sample_report().title == "巴州区教育科技和体育局 2023年第二季度工作计划执行情况报告（季报）"


def test_section_short_title_is_its_first_clause() -> None:
    section = SectionProgress("一", 1, "深化党建引领，筑牢战斗堡垒", None, None, None)

    assert section.short_title == "深化党建引领"


def test_a_report_needs_an_aware_as_of() -> None:
    with pytest.raises(ValueError, match="naive"):
        replace(sample_report(), as_of=datetime(2023, 7, 1))
