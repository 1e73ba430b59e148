"""How each kind of target is spoken of: the question asked of it, its status words and its figure.

Written once, here, and read by the reports (HTML, PDF, XLSX, Markdown), the alerts, the CLI, the
console and the JSON views, so that every reader sees a target in the same words. The statuses the
tasks service computes (`TargetStatus`) stay what they are — the traffic light follows them — but
each kind names them as a 督查 office would:

- cumulative_count (数量类): 完成多少，是否跟上序时进度？ 正常推进 / 进度滞后 / 严重滞后 / 已完成 / 逾期未完成;
  the figure is actual / target, with 完成率 against 序时进度.
- level (达成类): 达到没有，何时达到？ 已达成 (with the date) / 未达成.
- ratio (比率类): 比率是否达到要求？ 已达标 / 接近目标 / 低于目标; the figure is the rate against the target.
- growth (增长类): 比上年增长多少？ 增幅达标 / 增幅不足; this year, last year and the change.
- coverage (覆盖类): 覆盖了多少，还差谁？ 全覆盖 / 未全覆盖; covered / total and who is missing.
- constraint (约束性): 守住没有，在哪里被突破？ 达标 / 未达标; 3个班超过55人 and which.
- periodic (定期工作): 每期是否按时开展？ done / not done per period.
- dated_event (节点工作): 到期是否开展？ 已开展 / 未开展 / 逾期未开展, with the day.

Only the plain quantity (cumulative_count) is judged against 序时进度: a rule is held or broken, a
level reached or not, a duty done or not — none of them is "behind schedule".

Counts of targets by status (a report's headline, `duban up`'s summary, `duban plan status`, the
console board) are made by `CountedAs`: a constraint is counted as 达标, 未达标 or 暂无测量, never as
正常推进 or 严重滞后; every other kind under its status.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from types import MappingProxyType

from ..events import TargetStatus
from ..units import RATIO
from .model import Comparator, Target, TargetKind

S = TargetStatus


@dataclass(frozen=True)
class KindWording:
    """The words of one kind of target."""

    kind: TargetKind
    name_zh: str  # 数量类指标
    question_zh: str  # what a leader asks of it
    figure_zh: str  # the heading of its figure column
    paced: bool  # judged against 序时进度 (only then are 完成率/序时进度/滞后 its words)
    statuses: Mapping[TargetStatus, str]

    def status_zh(self, status: TargetStatus) -> str:
        return self.statuses[status]


def _words(**by_status: str) -> Mapping[TargetStatus, str]:
    words = {S(name): text for name, text in by_status.items()}
    missing = set(S) - set(words)
    if missing:  # every kind names every status: a gap would show an English word to a leader
        raise ValueError(f"statuses without words: {sorted(missing)}")
    return MappingProxyType(words)


VOCABULARY: Mapping[TargetKind, KindWording] = MappingProxyType(
    {
        TargetKind.CUMULATIVE_COUNT: KindWording(
            TargetKind.CUMULATIVE_COUNT,
            name_zh="数量类指标",
            question_zh="完成多少，是否跟上序时进度？",
            figure_zh="完成率 / 序时进度",
            paced=True,
            statuses=_words(
                not_started="未开始",
                on_track="正常推进",
                lagging="进度滞后",
                critical="严重滞后",
                done="已完成",
                overdue="逾期未完成",
            ),
        ),
        TargetKind.LEVEL: KindWording(
            TargetKind.LEVEL,
            name_zh="达成类指标",
            question_zh="达到没有，何时达到？",
            figure_zh="达成情况",
            paced=False,
            statuses=_words(
                not_started="未达成",
                on_track="未达成",
                lagging="未达成",
                critical="未达成",
                done="已达成",
                overdue="逾期未达成",
            ),
        ),
        TargetKind.RATIO: KindWording(
            TargetKind.RATIO,
            name_zh="比率类指标",
            question_zh="比率是否达到要求？",
            figure_zh="现值 / 目标",
            paced=False,
            statuses=_words(
                not_started="暂无数据",
                on_track="接近目标",
                lagging="低于目标",
                critical="明显低于目标",
                done="已达标",
                overdue="逾期未达标",
            ),
        ),
        TargetKind.GROWTH: KindWording(
            TargetKind.GROWTH,
            name_zh="增长类指标",
            question_zh="比上年增长多少？",
            figure_zh="本年 / 上年 / 增减",
            paced=False,
            statuses=_words(
                not_started="暂无数据",
                on_track="增幅接近目标",
                lagging="增幅不足",
                critical="增幅明显不足",
                done="增幅达标",
                overdue="增幅未达标",
            ),
        ),
        TargetKind.COVERAGE: KindWording(
            TargetKind.COVERAGE,
            name_zh="覆盖类指标",
            question_zh="覆盖了多少，还差谁？",
            figure_zh="已覆盖 / 应覆盖",
            paced=False,
            statuses=_words(
                not_started="暂无数据",
                on_track="未全覆盖",
                lagging="未全覆盖",
                critical="未全覆盖",
                done="全覆盖",
                overdue="逾期未全覆盖",
            ),
        ),
        TargetKind.CONSTRAINT: KindWording(
            TargetKind.CONSTRAINT,
            name_zh="约束性指标",
            question_zh="守住没有，在哪里被突破？",
            figure_zh="达标情况",
            paced=False,
            statuses=_words(
                not_started="暂无测量",
                on_track="达标",
                lagging="未达标",
                critical="未达标",
                done="达标",
                overdue="未达标",
            ),
        ),
        TargetKind.PERIODIC: KindWording(
            TargetKind.PERIODIC,
            name_zh="定期工作",
            question_zh="每期是否按时开展？",
            figure_zh="各期开展情况",
            paced=False,
            statuses=_words(
                not_started="本期尚未开展",
                on_track="按期开展",
                lagging="未按期开展",
                critical="未按期开展",
                done="各期均已开展",
                overdue="未按期开展",
            ),
        ),
        TargetKind.DATED_EVENT: KindWording(
            TargetKind.DATED_EVENT,
            name_zh="节点工作",
            question_zh="到期是否开展？",
            figure_zh="开展情况",
            paced=False,
            statuses=_words(
                not_started="未到期",
                on_track="未到期",
                lagging="未开展",
                critical="未开展",
                done="已开展",
                overdue="逾期未开展",
            ),
        ),
    }
)


def wording(kind: TargetKind) -> KindWording:
    return VOCABULARY[kind]


def status_zh(kind: TargetKind, status: TargetStatus) -> str:
    """The status in the words of the target's kind: a broken rule is 未达标, never 严重滞后."""
    return VOCABULARY[kind].status_zh(status)


def is_paced(kind: TargetKind) -> bool:
    """Whether 完成率 against 序时进度 (and 滞后) is the right way to speak of this kind."""
    return VOCABULARY[kind].paced


# --- counting targets by status ---------------------------------------------------------------


class CountedAs(StrEnum):
    """What a target is counted as in a headline: its status, or for a constraint held / breached.

    The first six share their values with `TargetStatus`, so counts keyed by either read the same.
    """

    DONE = "done"
    ON_TRACK = "on_track"
    LAGGING = "lagging"
    CRITICAL = "critical"
    OVERDUE = "overdue"
    NOT_STARTED = "not_started"
    HELD = "held"
    BREACHED = "breached"
    UNMEASURED = "unmeasured"

    @property
    def label_zh(self) -> str:
        return _TALLY_ZH[self]

    @property
    def heading_zh(self) -> str:
        """The label standing alone, as a table row: 约束性指标未达标 rather than a bare 未达标."""
        return f"约束性指标{self.label_zh}" if self in CONSTRAINT_TALLIES else self.label_zh


_TALLY_ZH: Mapping[CountedAs, str] = MappingProxyType(
    {
        **{CountedAs(status.value): status.label_zh for status in S},
        CountedAs.HELD: "达标",
        CountedAs.BREACHED: "未达标",
        CountedAs.UNMEASURED: "暂无测量",
    }
)

#: A leader's reading order: the six statuses first (done first, not started last), then the rules.
COUNTED_ORDER: tuple[CountedAs, ...] = tuple(CountedAs)
STATUS_TALLIES: tuple[CountedAs, ...] = COUNTED_ORDER[:6]
CONSTRAINT_TALLIES: tuple[CountedAs, ...] = (CountedAs.HELD, CountedAs.BREACHED, CountedAs.UNMEASURED)

_CONSTRAINT_TALLY: Mapping[TargetStatus, CountedAs] = MappingProxyType(
    {
        S.NOT_STARTED: CountedAs.UNMEASURED,
        S.ON_TRACK: CountedAs.HELD,
        S.DONE: CountedAs.HELD,
        S.LAGGING: CountedAs.BREACHED,
        S.CRITICAL: CountedAs.BREACHED,
        S.OVERDUE: CountedAs.BREACHED,
    }
)


#: Counts keyed by what targets are counted as: `CountedAs` members, or their values (a JSON view's keys).
Counts = Mapping[CountedAs, int] | Mapping[str, int]


def counted_as(kind: TargetKind, status: TargetStatus) -> CountedAs:
    """What a target is counted as: a broken rule under 未达标, never under 严重滞后."""
    if kind is TargetKind.CONSTRAINT:
        return _CONSTRAINT_TALLY[status]
    return CountedAs(status.value)


def shown_tallies(counts: Counts) -> tuple[CountedAs, ...]:
    """The six statuses always; 达标 and 未达标 where any rule is counted, 暂无测量 only when it is not empty."""
    rules = [t for t in CONSTRAINT_TALLIES if counts.get(t, 0) or t is not CountedAs.UNMEASURED]
    return STATUS_TALLIES + (tuple(rules) if any(counts.get(t, 0) for t in CONSTRAINT_TALLIES) else ())


def tally_breakdown_zh(counts: Counts, *, separator: str = "，") -> str:
    """已完成12项，…，未开始2项；约束性指标2项：达标1项，未达标1项 — the rules only where any is counted."""
    text = separator.join(f"{t.label_zh}{counts.get(t, 0)}项" for t in STATUS_TALLIES)
    rules = [t for t in shown_tallies(counts) if t in CONSTRAINT_TALLIES]
    if rules:
        total = sum(counts.get(t, 0) for t in CONSTRAINT_TALLIES)
        text += f"；约束性指标{total}项：" + separator.join(f"{t.label_zh}{counts.get(t, 0)}项" for t in rules)
    return text


# --- the figure -----------------------------------------------------------------------------

Quantity = Callable[[float, str], str]

_PERIOD_ZH: Mapping[str, str] = MappingProxyType({"week": "周", "month": "个月", "quarter": "个季度", "year": "年"})


def plain_quantity(value: float, unit: str) -> str:
    """A figure with its unit, without the report's 万/亿 rounding: (0.9, ratio) → 90%, (58, 所) → 58所."""
    if unit == RATIO:
        return f"{value * 100:.1f}".rstrip("0").rstrip(".") + "%"
    return f"{value:,.2f}".replace(",", "").rstrip("0").rstrip(".") + unit


def breach_subject(metric: str) -> str:
    """What a constraint is measured on: each class for a class size (班额), else each school."""
    return "个班" if "班" in metric else "所学校"


def breach_phrase(value: float, unit: str, comparator: Comparator, quantity: Quantity = plain_quantity) -> str:
    """How one group breaks the rule: 超过55人 for a cap, 不足60分钟 for a floor."""
    limit = quantity(value, unit)
    return f"超过{limit}" if comparator in (Comparator.LE, Comparator.LT) else f"不足{limit}"


def periods_in_year(every: str) -> int:
    return {"week": 52, "month": 12, "quarter": 4, "year": 1}[every]


@dataclass(frozen=True)
class Figure:
    """What is known of a target beyond its status, for the words of its figure.

    `actual` is as the tasks service reports it: the total for a quantity or level, the latest rate
    for a ratio, growth or coverage, the number of breaching groups for a constraint, the number of
    periods done for a periodic duty, 1 or 0 for a dated duty. The optional fields add what some
    readers know: who breaks a rule, who is not yet covered, when a level was reached.
    """

    actual: float | None
    completion: float | None = None
    expected: float | None = None
    breaches: Sequence[str] = ()
    missing: Sequence[str] = ()
    covered: int | None = None
    total: int | None = None
    achieved_on: date | None = None
    last_year: float | None = None
    this_year: float | None = None
    periods_done: Sequence[bool] = ()  # per closed period, in order


@dataclass(frozen=True)
class Terms:
    """What the plan says of a target, as far as its figure needs it (a `Target` or a report row)."""

    kind: TargetKind
    value: float
    unit: str
    metric: str
    due: date
    comparator: Comparator = Comparator.GE
    every: str | None = None  # a periodic duty's period: week, month, quarter, year

    @classmethod
    def of(cls, target: Target, due: date) -> Terms:
        every = target.schedule.every if target.schedule else None
        return cls(target.kind, target.value, target.unit, target.metric, due, target.comparator, every)


def figure_zh(terms: Terms, status: TargetStatus, figure: Figure, *, quantity: Quantity = plain_quantity) -> str:
    """The figure of one target in the words of its kind, e.g. 3个班超过55人 or 较上年增长12%（目标10%以上）."""
    return _FIGURES.get(terms.kind, _quantity_figure)(terms, status, figure, quantity)


def _constraint_figure(terms: Terms, _status: TargetStatus, figure: Figure, quantity: Quantity) -> str:
    if figure.actual is None:
        return "尚无测量数据"
    subject = breach_subject(terms.metric)
    phrase = breach_phrase(terms.value, terms.unit, terms.comparator, quantity)
    if subject != "个班":  # a class size says itself; a school's figure needs its metric named
        phrase = f"{terms.metric}{phrase}"
    if not figure.actual:
        return f"无{phrase}的{subject[1:]}"
    named = f"：{'、'.join(figure.breaches)}" if figure.breaches else ""
    return f"{figure.actual:g}{subject}{phrase}{named}"


def _level_figure(terms: Terms, status: TargetStatus, figure: Figure, quantity: Quantity) -> str:
    goal = quantity(terms.value, terms.unit)
    if status is S.DONE:
        when = f"（{_date_zh(figure.achieved_on)}）" if figure.achieved_on else ""
        return f"已达成{goal}{when}"
    return f"现{quantity(figure.actual or 0.0, terms.unit)}，目标{goal}，{_date_zh(terms.due)}前达成"


def _growth_figure(terms: Terms, _status: TargetStatus, figure: Figure, quantity: Quantity) -> str:
    actual = figure.actual
    if actual is None:
        return "尚未报送"
    goal = "只增不减" if terms.value <= 0 else f"目标增长{quantity(terms.value, RATIO)}以上"
    change = f"增长{quantity(actual, RATIO)}" if actual >= 0 else f"下降{quantity(-actual, RATIO)}"
    if figure.this_year is not None and figure.last_year is not None:
        return f"本年{figure.this_year:g}，上年{figure.last_year:g}，{change}（{goal}）"
    return f"较上年{change}（{goal}）"


def _coverage_figure(_terms: Terms, _status: TargetStatus, figure: Figure, quantity: Quantity) -> str:
    if figure.covered is not None and figure.total is not None:
        text = f"已覆盖{figure.covered}/{figure.total}"
    elif figure.actual is None:
        return "尚未报送"
    else:
        text = f"覆盖率{quantity(figure.actual, RATIO)}"
    if figure.missing:
        text += f"，未覆盖：{'、'.join(figure.missing)}"
    return text


def _ratio_figure(terms: Terms, _status: TargetStatus, figure: Figure, quantity: Quantity) -> str:
    if figure.actual is None:
        return "尚未报送"
    word = "不高于" if terms.comparator in (Comparator.LE, Comparator.LT) else "不低于"
    return f"现为{quantity(figure.actual, RATIO)}（目标{word}{quantity(terms.value, RATIO)}）"


def _periodic_figure(terms: Terms, _status: TargetStatus, figure: Figure, _quantity: Quantity) -> str:
    per = _PERIOD_ZH[terms.every or "year"]
    total = periods_in_year(terms.every or "year")
    if figure.periods_done:
        marks = "、".join(
            f"第{i}{per.removeprefix('个')}{'已开展' if ok else '未开展'}"
            for i, ok in enumerate(figure.periods_done, 1)
        )
        return f"{marks}（全年{total}{per}）"
    return f"已开展{figure.actual or 0:g}{per}，全年{total}{per}"


def _dated_figure(terms: Terms, status: TargetStatus, _figure: Figure, _quantity: Quantity) -> str:
    when = _short_date_zh(terms.due)
    if status is S.DONE:
        return f"{when}节点，已开展"
    if status is S.OVERDUE:
        return f"{when}节点，逾期未开展"
    return f"{when}节点，尚未开展"


def _quantity_figure(terms: Terms, _status: TargetStatus, figure: Figure, quantity: Quantity) -> str:
    """A plain quantity: actual against the target; 完成率 and 序时进度 stand beside it."""
    return f"{quantity(figure.actual or 0.0, terms.unit)} / {quantity(terms.value, terms.unit)}"


_FIGURES: Mapping[TargetKind, Callable[[Terms, TargetStatus, Figure, Quantity], str]] = MappingProxyType(
    {
        TargetKind.CONSTRAINT: _constraint_figure,
        TargetKind.LEVEL: _level_figure,
        TargetKind.GROWTH: _growth_figure,
        TargetKind.COVERAGE: _coverage_figure,
        TargetKind.RATIO: _ratio_figure,
        TargetKind.PERIODIC: _periodic_figure,
        TargetKind.DATED_EVENT: _dated_figure,
    }
)


def _date_zh(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _short_date_zh(day: date) -> str:
    return f"{day.month}月{day.day}日"
