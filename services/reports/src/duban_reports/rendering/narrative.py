"""The sentences of a report: what every format says the same way."""

from __future__ import annotations

from collections import Counter
from datetime import date

from duban_contracts.events import IncidentCategory, IncidentGrade, Severity, TargetStatus
from duban_contracts.plan.model import Comparator, TargetKind
from duban_contracts.plan.wording import CountedAs, tally_breakdown_zh

from ..domain.content import ReportData, TargetRow
from ..domain.formatting import (
    format_as_of_zh,
    format_date_zh,
    format_duration_zh,
    format_month_zh,
    format_percent,
    format_points,
    format_quantity,
)


def status_breakdown(data: ReportData, *, separator: str = "，") -> str:
    """已完成12项，正常推进9项，…，未开始2项；约束性指标1项：达标0项，未达标1项 — in reading order."""
    return tally_breakdown_zh(data.status_counts, separator=separator)


def plan_sentence(data: ReportData) -> str:
    task_count = sum(len(section.tasks) for section in data.sections)
    return (
        f"截至{format_as_of_zh(data.as_of)}，工作计划{len(data.sections)}个领域{task_count}项任务"
        f"共设量化指标{len(data.targets)}项：{status_breakdown(data)}。"
    )


def completion_sentence(data: ReportData) -> str:
    actual, expected = data.headline.plan_completion, data.headline.expected_completion
    if actual is None:
        return "计划总体完成率暂无数据。"
    sentence = f"计划总体完成率{format_percent(actual)}"
    if expected is None:
        return sentence + "。"
    gap = actual - expected
    if abs(gap) < 0.0005:
        comparison = "与序时进度持平"
    elif gap < 0:
        comparison = f"落后序时进度{format_points(gap)}"
    else:
        comparison = f"超出序时进度{format_points(gap)}"
    return f"{sentence}，序时进度{format_percent(expected)}，{comparison}。"


def safety_sentence(data: ReportData) -> str:
    head = data.headline
    if head.incidents_in_period:
        casualties = f"，造成死亡{head.deaths_in_period}人、受伤{head.injuries_in_period}人"
        if not head.deaths_in_period and not head.injuries_in_period:
            casualties = "，未造成人员伤亡"
        period_part = f"本期发生校园安全事件{head.incidents_in_period}起{casualties}"
    else:
        period_part = "本期未发生校园安全事件"
    return f"{period_part}；年内累计{head.incidents_year_to_date}起。"


def outbreak_sentence(data: ReportData) -> str:
    head = data.headline
    if not head.outbreaks_in_period and not head.outbreaks_active:
        return "本期未报告学校传染病聚集性疫情。"
    return f"本期报告学校传染病聚集性疫情{head.outbreaks_in_period}起，期末仍在持续{head.outbreaks_active}起。"


#: Alert severities in Chinese, most severe first.
SEVERITY_ZH = {Severity.CRITICAL: "紧急", Severity.MAJOR: "严重", Severity.WARNING: "警告", Severity.INFO: "提示"}


def alert_sentence(data: ReportData) -> str:
    alerts = data.headline.alerts
    by_severity = "、".join(
        f"{label}{alerts.opened_by_severity[severity]}条"
        for severity, label in SEVERITY_ZH.items()
        if alerts.opened_by_severity.get(severity)
    )
    return (
        f"本期产生预警{alerts.opened}条{f'（{by_severity}）' if by_severity else ''}，"
        f"确认{alerts.acknowledged}条，处置完毕{alerts.resolved}条，"
        f"期末未关闭{alerts.open_at_end}条；确认用时中位数{format_duration_zh(alerts.median_time_to_acknowledge)}，"
        f"处置用时中位数{format_duration_zh(alerts.median_time_to_resolve)}。"
    )


def reporting_sentence(data: ReportData) -> str:
    totals = data.reporting_totals
    head = data.headline
    return (
        f"本期收到各单位报送{head.submissions_received}份，退回{head.submissions_rejected}份；"
        f"{totals.units}个单位应报{totals.expected}份，实报{totals.received}份，按时{totals.on_time}份，"
        f"报送率{format_percent(totals.reporting_rate)}，及时率{format_percent(totals.on_time_rate)}。"
    )


LATE_HEADING = "滞后、逾期及未达标事项"


def late_sentence(data: ReportData) -> str:
    """Each late target counted in its own kind's words: 逾期未完成3项、未达标1项、增幅不足2项."""
    late = data.late_targets
    if not late:
        return f"本期无{LATE_HEADING}。"
    words = Counter(row.status_zh for row in late)  # late_targets come worst first, so the words do too
    parts = "、".join(f"{word}{count}项" for word, count in words.items())
    owners = "、".join(f"{owner}{count}项" for owner, count in data.late_by_owner)
    return f"需督办指标共{len(late)}项，其中{parts}。按责任单位：{owners}。"


def actual_vs_target(row: TargetRow) -> str:
    """9500平方米 / 1.54万平方米 for a quantity; a constraint, growth, coverage … in its own words."""
    if not row.paced:
        return row.figure_zh
    return f"{format_quantity(row.actual, row.unit)} / {target_text(row)}"


def actual_text(row: TargetRow) -> str:
    """The 实际 column: a quantity's figure, else the kind's own (3个班超过55人, not "3人")."""
    return format_quantity(row.actual, row.unit) if row.paced else row.figure_zh


def paced_percent(row: TargetRow, value: float | None) -> str:
    """完成率 and 序时进度 where they mean something (a plain quantity), a dash elsewhere."""
    return format_percent(value) if row.paced else "—"


def target_text(row: TargetRow) -> str:
    """The target as the plan words it: a bare figure means "at least"; stocks, rates and growth say 以上."""
    figure = format_quantity(row.target_value, row.unit)
    if row.kind is TargetKind.GROWTH:
        figure = f"增长{figure}"
    if row.comparator is Comparator.GE:
        return f"{figure}以上" if row.kind in _AT_LEAST_KINDS else figure
    return f"{_COMPARATOR_WORDS[row.comparator]}{figure}"


_AT_LEAST_KINDS = frozenset({TargetKind.LEVEL, TargetKind.RATIO, TargetKind.GROWTH})
_COMPARATOR_WORDS = {Comparator.GT: "超过", Comparator.LE: "不超过", Comparator.LT: "低于", Comparator.EQ: ""}


def due_text(row: TargetRow, data: ReportData) -> str:
    overdue = row.days_overdue(data.as_of)
    text = format_date_zh(row.due)
    return f"{text}（逾期{overdue}天）" if overdue and row.status is TargetStatus.OVERDUE else text


def tally_label(key: object, key_kind: str) -> str:
    """The row label of an incident tally: 溺水, 一般(Ⅳ级), 曾口镇, 2023年6月."""
    if key is None:
        return "未定级" if key_kind == "grade" else "未注明"
    if isinstance(key, IncidentGrade):
        return key.label_zh
    if isinstance(key, IncidentCategory):
        return key.value
    if isinstance(key, date):
        return format_month_zh(key)
    return str(key)


def casework_sentence(data: ReportData) -> str:
    """信访维稳 in one sentence: receipts by channel, what is open and late, the year's rates against last year's."""
    section = data.casework
    if section is None:
        return "本期无信访及12345热线工单记录。"
    channels = "、".join(f"{channel}{count}件" for channel, count in section.by_channel)
    received = "本期未收到信访件"
    if section.received:
        received = f"本期收到信访件及12345工单{section.received}件（{channels}）"
    late = f"，其中逾期{section.overdue_at_end}件" if section.overdue_at_end else ""
    rates = "，".join(f"{line.name}{format_percent(line.year_value)}（{line.verdict_zh}）" for line in section.rates)
    return f"{received}；期末在办{section.open_at_end}件{late}。本年累计{rates}。"


def data_quality_sentence(data: ReportData) -> str:
    """数据质量 in one sentence: figures checked, flagged, the overall score."""
    section = data.data_quality
    if section is None:
        return "本期无可核查的报送数值。"
    if not section.flagged:
        return f"本期核查报送数值{section.reports}条，未发现数据质量问题。"
    found: dict[str, int] = {}
    for unit in section.units:
        for check, count in unit.by_check:
            found[check] = found.get(check, 0) + count
    checks = "、".join(f"{check}{count}条" for check, count in sorted(found.items(), key=lambda item: -item[1]))
    return (
        f"本期核查报送数值{section.reports}条，{len(section.units)}个单位的{section.flagged}条存疑（{checks}），"
        f"数据质量得分{format_percent(section.score)}。"
    )


def signoff_sentence(data: ReportData) -> str:
    """销号: the targets the units report done, and how many their sections have signed off."""
    figures = data.signoff
    done = data.status_counts[CountedAs.DONE]
    if figures is None:
        return f"自报已完成指标{done}项，尚无责任股室审核销号。"
    returned = f"、已退回{figures.returned}项" if figures.returned else ""
    return f"自报已完成指标{done}项，其中已销号{figures.approved}项、待审核{figures.pending}项{returned}。"
