"""Rule 8: data quality — checks on the figures themselves, which flag and never reject.

Each check is a pure function over one series: the reports of one unit on one target or metric
(and one class, for class sizes), in event time. Every report is judged against the reports of the
series *before it in event time*, so the findings do not depend on the order reports arrive in.
The checks and their thresholds are in `rules.yaml` (`data_quality:`):

- `cumulative_decrease`: a cumulative figure (累计至今) lower than the unit's figure just before it
  (its previous cumulative figure plus the increments it reported since; a re-report of the same
  period is left to `conflicting_duplicate`). Only additive targets report cumulatively: map a rate
  (ratio, coverage) to `measurement`, since a rate may fall for real.
- `implausible_value`: a measurement outside its plausible range (a class of 0 or 455 pupils, a
  fraction of a pupil) — bounds from config, citing the 班额 definitions.
- `increment_outlier`: an increment far outside the unit's own history: the modified z-score
  M = 0.6745·(x − median)/MAD of the increment against the unit's earlier increments, |M| above the
  threshold (3.5, Iglewicz & Hoaglin 1993), judged only with `min_history` earlier increments. When
  MAD is 0 (over half the history identical) the mean absolute deviation around the median stands
  in (MAD ≈ 0.7979·MeanAD for normal data); when that is 0 too, there is no spread to judge by.
  Increments follow the tasks service's arithmetic: an increment report is its value; a cumulative
  one is its value minus the unit's running figure (last cumulative plus later increments).
- `conflicting_duplicate`: the same period reported again with a different value (a re-send of the
  same value is harmless and not flagged); the first report of the period stands, later ones are
  flagged.

The data-quality score of a unit over a set of reports is 1 − Σ w(r) / N, where N is the number of
its reports and w(r) the largest weight among the findings on report r (0 without findings): a
report counts once however many checks it fails, and checks that may be genuine (an outlier) weigh
less. A unit without reports has no score (not 100 %).
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
import operator
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, TypeVar

from duban_contracts.events import Severity

from .alert import Alert, Firing, fingerprint, folded
from .config import DataQualityConfig, OutlierCheck, PlausibleRange, QualityCheck

DATA_QUALITY = "data_quality"
CUMULATIVE_DECREASE = "cumulative_decrease"
IMPLAUSIBLE_VALUE = "implausible_value"
INCREMENT_OUTLIER = "increment_outlier"
CONFLICTING_DUPLICATE = "conflicting_duplicate"
CHECKS = (CUMULATIVE_DECREASE, IMPLAUSIBLE_VALUE, INCREMENT_OUTLIER, CONFLICTING_DUPLICATE)

#: 0.6745 = Φ⁻¹(0.75): makes MAD comparable to a standard deviation (Iglewicz & Hoaglin 1993).
_MAD_SCALE = 0.6745
#: E|X − μ| = σ·√(2/π) ≈ 0.7979σ for normal data: the mean absolute deviation's stand-in for MAD.
_MEAN_AD_SCALE = 0.7979
#: Below this (near the subnormal range) `RobustHistory.clearly_within` leaves the judgement to the z-score:
#: its margins for rounding are relative, and subnormal numbers round by more than that.
_LEAST_COUNTED = sys.float_info.min * 2**60

ReportKind = Literal["increment", "cumulative", "measurement"]
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Reported:
    """One figure a unit reported: progress (increment or cumulative) or a measurement.

    The book keeps every report of a series for its checks, so a report is kept small: no instance
    dictionary, and the texts most reports share (unit, subject, period) held once (interned).
    """

    fact_id: str
    occurred_at: datetime  # event time
    unit_id: str
    unit_name: str
    subject: str  # the target id or metric
    subject_zh: str  # its Chinese name, for messages
    value: float
    kind: ReportKind
    period: str  # what the figure is for, e.g. the progress date 2023-06-05 or the month 2023-06
    class_name: str | None = None
    measure_unit: str = ""

    def __post_init__(self) -> None:
        for name in ("unit_id", "unit_name", "subject", "subject_zh", "period", "measure_unit"):
            object.__setattr__(self, name, sys.intern(getattr(self, name)))
        if self.class_name is not None:
            object.__setattr__(self, "class_name", sys.intern(self.class_name))

    @property
    def series(self) -> tuple[str, str, str]:
        return (self.unit_id, self.subject, self.class_name or "")

    @property
    def order(self) -> tuple[datetime, str]:
        return (self.occurred_at, self.fact_id)

    @property
    def where_zh(self) -> str:
        return f"{self.unit_name}{self.class_name or ''}"


@dataclass(frozen=True)
class Finding:
    """One check a report fails. Its messages are written when first read: a report judged again finds
    its earlier findings again, and the book raises only the ones it has not raised before."""

    check: str
    report: Reported
    values: tuple[float, ...]  # the figures involved, earliest first; the flagged report's value last
    describe: Callable[[], tuple[str, str]] = field(compare=False, repr=False)  # (Chinese, English)
    source: str
    severity: Severity
    weight: float
    detail: dict[str, float] = field(default_factory=dict)

    @property
    def message_zh(self) -> str:
        return self._messages[0]

    @property
    def message_en(self) -> str:
        return self._messages[1]

    @functools.cached_property
    def _messages(self) -> tuple[str, str]:
        return self.describe()

    @property
    def at(self) -> datetime:
        return self.report.occurred_at

    @property
    def labels(self) -> dict[str, str]:
        report = self.report
        return _labels(self.check, report.unit_id, report.subject, report.fact_id, report.class_name)


def _labels(check: str, unit_id: str, subject: str, fact_id: str, class_name: str | None) -> dict[str, str]:
    labels = {"rule": DATA_QUALITY, "check": check, "unit_id": unit_id, "subject": subject, "fact_id": fact_id}
    if class_name:
        labels["class_name"] = class_name
    return labels


def _finding(
    check: str,
    rule: QualityCheck,
    report: Reported,
    *,
    values: tuple[float, ...],
    describe: Callable[[], tuple[str, str]],
    detail: dict[str, float] | None = None,
) -> Finding:
    return Finding(check, report, values, describe, rule.source, rule.severity, rule.weight, detail or {})


class Series(list[Reported]):
    """One series in event time (one report per fact id), with what its checks share kept up to date as
    reports arrive: its progress reports (the first of each period), the unit's figure once each counts,
    each one's increment, and the increments sorted for the outlier check. A report that comes last
    extends them in O(log n) steps; one that arrives late has them worked out again from its place on
    (the reports after it are judged again anyway), so neither sorts nor adds up the whole series again.
    Kept lean — two floats and about five list or set entries a report, no tuple — as the book holds every
    report of the year; the lists are the series' own, to read, not to change."""

    def __init__(self, reports: Iterable[Reported] = ()) -> None:
        unique = {report.fact_id: report for report in reports}
        super().__init__(sorted(unique.values(), key=_order))
        self._by_fact = unique
        self._progress: list[Reported] = []  # the first progress report of each period, in event time
        self._figures: list[float] = []  # the unit's figure once each of them counts
        self._increments: list[float] = []  # the increment each of them stands for
        self._periods: set[str] = set()  # theirs
        self._valid = 0  # _progress[:_valid] (and what goes beside it) holds for the reports as they are now
        self._complete = False  # whether _progress covers every report
        self._history = RobustHistory()  # _increments[:_in_history], sorted
        self._in_history = 0

    def put(self, report: Reported) -> None:
        """Add `report` in its place in event time (a report already there under its fact id is replaced).

        A replacement happens only while a saved book is loaded: the book applies each fact id once, so
        a report is never judged again at a new place in its series (which would leave the reports
        between its old and new places, and its old period's duplicates, unjudged)."""
        kept = self._by_fact.get(report.fact_id)
        if kept is not None:
            del self[bisect.bisect_left(self, kept.order, key=_order)]
            self._changed_at(kept)
        self._by_fact[report.fact_id] = report
        bisect.insort(self, report, key=_order)
        self._changed_at(report)

    def _changed_at(self, report: Reported) -> None:
        if report.kind == "measurement":
            return  # no running figure counts a measurement
        self._complete = False
        # A running figure depends on the reports before it only: the ones before `report` still hold.
        self._valid = bisect.bisect_left(self._progress, report.order, 0, self._valid, key=_order)

    def progress(self) -> list[Reported]:
        """The progress reports the running figures count: the first of each period, in event time."""
        if not self._complete:
            self._work_out()
        return self._progress

    def running(
        self, start: int = 0, *, only: ReportKind | None = None
    ) -> Iterator[tuple[Reported, tuple[float, str] | None]]:
        """From the `start`-th of `progress()` on (of one kind only, if given): each with the unit's figure and
        period just before it (None before the unit's first report)."""
        progress, figures = self.progress(), self._figures
        for index in range(start, len(progress)):
            report = progress[index]
            if only is None or report.kind == only:
                yield report, ((figures[index - 1], progress[index - 1].period) if index else None)

    def increments(self) -> list[float]:
        """The increment each of `progress()` stands for."""
        if not self._complete:
            self._work_out()
        return self._increments

    def judged_increments(self, start: int) -> Iterator[tuple[Reported, float, RobustHistory]]:
        """From the `start`-th progress report on: each with its increment and the increments before it, sorted."""
        progress, increments = self.progress(), self._increments
        history = self._history_before(start)
        for index in range(start, len(progress)):
            increment = increments[index]
            yield progress[index], increment, history
            history.add(increment)
            self._in_history = index + 1

    def _history_before(self, index: int) -> RobustHistory:
        history, increments = self._history, self._increments
        while self._in_history > index:
            self._in_history -= 1
            history.remove(increments[self._in_history])
        for increment in increments[self._in_history : index]:
            history.add(increment)
        self._in_history = index
        return history

    def _work_out(self) -> None:
        """The running figures from the first one that no longer holds on (the tasks service's arithmetic:
        the latest cumulative report plus the increments after it)."""
        valid, progress, figures, increments, seen = (
            self._valid,
            self._progress,
            self._figures,
            self._increments,
            self._periods,
        )
        self._history_before(min(self._in_history, valid))
        for report in progress[valid:]:
            seen.discard(report.period)
        del progress[valid:], figures[valid:], increments[valid:]
        figure = figures[-1] if figures else 0.0
        start = bisect.bisect_right(self, progress[-1].order, key=_order) if progress else 0
        for index in range(start, len(self)):
            report = self[index]
            if report.kind == "measurement" or report.period in seen:
                continue
            seen.add(report.period)
            progress.append(report)
            if report.kind == "increment":
                increments.append(report.value)
                figure += report.value
            else:
                increments.append(report.value - figure)
                figure = report.value
            figures.append(figure)
        self._valid = len(progress)
        self._complete = True


def _order(report: Reported) -> tuple[datetime, str]:
    return report.order


def _ordered(series: Iterable[Reported]) -> Series:
    return series if isinstance(series, Series) else Series(series)


def _g(value: float) -> str:
    return f"{value:g}"


# --- the checks ----------------------------------------------------------------------------------


def cumulative_decreases(
    series: Iterable[Reported], config: DataQualityConfig, *, since: tuple[datetime, str] | None = None
) -> list[Finding]:
    rule = config.cumulative_decrease
    found = []
    ordered = _ordered(series)
    for report, before in ordered.running(_first_at(ordered.progress(), since, key=_order), only="cumulative"):
        if before is None:
            continue
        figure, period = before
        if report.value < figure - rule.tolerance:
            describe = functools.partial(_decrease_messages, report, figure, period)
            found.append(_finding(CUMULATIVE_DECREASE, rule, report, values=(figure, report.value), describe=describe))
    return found


def _decrease_messages(report: Reported, figure: float, period: str) -> tuple[str, str]:
    return (
        f"{report.where_zh}报送的“{report.subject_zh}”累计数由{_g(figure)}"
        f"（截至{period}）降为{_g(report.value)}（{report.period}）：累计数不应减少，请核实。",
        f"{report.unit_name}'s cumulative figure for {report.subject} went down from "
        f"{_g(figure)} (as of {period}) to {_g(report.value)} ({report.period}); "
        "a cumulative figure should not decrease: please check.",
    )


def implausible_values(series: Iterable[Reported], config: DataQualityConfig) -> list[Finding]:
    found = []
    for report in _ordered(series):
        rule = config.range_for(report.subject) if report.kind == "measurement" else None
        if rule is None or _plausible(report.value, rule):
            continue
        describe = functools.partial(_implausible_messages, report, rule)
        found.append(_finding(IMPLAUSIBLE_VALUE, rule, report, values=(report.value,), describe=describe))
    return found


def _implausible_messages(report: Reported, rule: PlausibleRange) -> tuple[str, str]:
    bounds = f"{_g(rule.min) if rule.min is not None else '−∞'}–{_g(rule.max) if rule.max is not None else '∞'}"
    whole = "的整数" if rule.whole else ""
    return (
        f"{report.where_zh}{rule.metric_zh}为{_g(report.value)}{report.measure_unit}，"
        f"不在合理范围（{bounds}{whole}）内，可能录入有误，请核实。",
        f"{report.where_zh}: {rule.metric} of {_g(report.value)} is outside the plausible range "
        f"{bounds}{' (whole numbers)' if rule.whole else ''}; probably a typing error, please check.",
    )


def _plausible(value: float, rule: PlausibleRange) -> bool:
    if rule.min is not None and value < rule.min:
        return False
    if rule.max is not None and value > rule.max:
        return False
    return not (rule.whole and value != int(value))


def robust_z(value: float, history: Sequence[float]) -> tuple[float, float, float] | None:
    """(modified z-score, median, spread) of `value` against `history`; None when history has no spread.

    Spread is the MAD, or 0.7979 × the mean absolute deviation around the median when MAD is 0.
    """
    kept = RobustHistory()
    for earlier in history:
        kept.add(earlier)
    return kept.robust_z(value)


class RobustHistory:
    """Earlier increments kept sorted, so each z-score costs O(log n) steps instead of two sorts.

    The median is the middle of the sorted list; the MAD the middle of the deviations, which are two
    sorted runs (below the median, read outwards, and from it upwards) whose k-th smallest is found
    by bisection; the mean absolute deviation is summed exactly, as `statistics.fmean` would.
    """

    def __init__(self, values: Iterable[float] = ()) -> None:
        self._sorted: list[float] = sorted(values)

    def __len__(self) -> int:
        return len(self._sorted)

    def add(self, value: float) -> None:
        bisect.insort(self._sorted, value)

    def remove(self, value: float) -> None:
        del self._sorted[bisect.bisect_left(self._sorted, value)]

    def robust_z(self, value: float) -> tuple[float, float, float] | None:
        values, n = self._sorted, len(self._sorted)
        middle = n // 2
        median = values[middle] if n % 2 else (values[middle - 1] + values[middle]) / 2
        below = bisect.bisect_left(values, median)  # deviations median − values[below − 1 − i], ascending
        if n % 2:
            mad = self._kth_deviation(middle, median, below)
        else:
            mad = (self._kth_deviation(middle - 1, median, below) + self._kth_deviation(middle, median, below)) / 2
        spread = mad if mad > 0 else self._mean_deviation(median, below) * _MEAN_AD_SCALE
        if spread == 0:
            return None
        return _MAD_SCALE * (value - median) / spread, median, spread

    def clearly_within(self, value: float, threshold: float) -> bool:
        """Whether |robust z| of `value` is certainly not above `threshold`, told by counting rather than by
        working out the MAD: the MAD is at least the spread that keeps `value` within the threshold when no
        more than half the history lies nearer the median than that (two bisections). False: work it out.

        When the MAD is 0 (over half the history at the median) the mean absolute deviation stands in, and
        is at least (the share of values off the median) × (the nearest one's distance from it).
        The spread needed is widened by a millionth and the count taken over a closed, slightly wider
        interval, so rounding can only make it answer False (and `robust_z` decide) — never True where
        `robust_z` would find |z| above `threshold`. With `value` at the median, z is 0 (or there is no
        spread): within."""
        values, n = self._sorted, len(self._sorted)
        middle = n // 2
        median = values[middle] if n % 2 else (values[middle - 1] + values[middle]) / 2
        distance = abs(value - median)
        if distance == 0:
            return True
        if not threshold > 0:
            return False
        enough = _MAD_SCALE * distance / threshold * (1 + 1e-6)  # a spread at least this keeps |z| ≤ threshold
        if not enough >= _LEAST_COUNTED:
            return False  # subnormal: rounding outgrows the margins
        below, above = bisect.bisect_left(values, median), bisect.bisect_right(values, median)
        if above - below > middle:  # MAD is 0
            nearest = min(
                median - values[below - 1] if below else math.inf, values[above] - median if above < n else math.inf
            )
            off = n - (above - below)
            return off > 0 and nearest >= _LEAST_COUNTED and _MEAN_AD_SCALE * off / n * nearest * (1 - 1e-9) >= enough
        slack = 1e-9 * (abs(median) + enough)
        nearer = bisect.bisect_right(values, median + enough + slack) - bisect.bisect_left(
            values, median - enough - slack
        )
        # odd n: MAD is the middle-th smallest deviation; even n: the mean of it and the one before
        return nearer <= (middle if n % 2 else middle - 1)

    def _mean_deviation(self, median: float, below: int) -> float:
        """mean |x − median|, summed exactly (as `statistics.fmean`), without a Python step per value.

        Only asked for when MAD is 0, i.e. at least half the values equal the median: their deviations are
        exact zeros, which leave an exact sum as it is, so they are not added at all."""
        values = self._sorted
        above = bisect.bisect_right(values, median, lo=below)
        under = map(operator.sub, itertools.repeat(median, below), values[:below])
        over = map(operator.sub, values[above:], itertools.repeat(median))
        return math.fsum(itertools.chain(under, over)) / len(values)

    def _kth_deviation(self, k: int, median: float, below: int) -> float:
        """The k-th smallest (from 0) of |x − median| over the values.

        The i-th smallest deviation below the median is median − values[below − 1 − i]; the j-th at or
        above it values[below + j] − median. Taking i + 1 from below and k − i from above, the least i
        whose next one below is not smaller than the last one above gives the answer (indexing inlined:
        this runs once or twice per z-score)."""
        values = self._sorted
        low, high = max(0, k + 1 - (len(values) - below)), min(k + 1, below)
        while low < high:
            i = (low + high) // 2
            if median - values[below - 1 - i] < values[below + k - i] - median:
                low = i + 1
            else:
                high = i
        taken_upper = k + 1 - low
        from_below = median - values[below - low] if low > 0 else -math.inf
        from_above = values[below + taken_upper - 1] - median if taken_upper > 0 else -math.inf
        return max(from_below, from_above)


def increment_outliers(
    series: Iterable[Reported], config: DataQualityConfig, *, since: tuple[datetime, str] | None = None
) -> list[Finding]:
    """`since` (here and in the other checks): judge only the reports at or after that point in event time."""
    rule = config.increment_outlier
    found = []
    ordered = _ordered(series)
    start = _first_at(ordered.progress(), since, key=_order)
    for report, increment, history in ordered.judged_increments(start):  # earlier ones are not judged again
        if len(history) < rule.min_history or history.clearly_within(increment, rule.threshold):
            continue
        scored = history.robust_z(increment)
        if scored is not None and abs(scored[0]) > rule.threshold:
            z, median, spread = scored
            describe = functools.partial(
                _outlier_messages, report, increment, earlier=len(history), z=z, median=median, rule=rule
            )
            detail = {"z": z, "median": median, "spread": spread}
            found.append(
                _finding(INCREMENT_OUTLIER, rule, report, values=(median, increment), describe=describe, detail=detail)
            )
    return found


def _outlier_messages(
    report: Reported, increment: float, *, earlier: int, z: float, median: float, rule: OutlierCheck
) -> tuple[str, str]:
    threshold = rule.threshold
    return (
        f"{report.where_zh}“{report.subject_zh}”本次新增{_g(increment)}（{report.period}），"
        f"与该单位此前{earlier}次报送（中位数{_g(median)}）相比明显异常"
        f"（稳健z值{z:.1f}，阈值{_g(threshold)}），请核实是否录入有误。",
        f"{report.unit_name}: the increment of {_g(increment)} for {report.subject} ({report.period}) "
        f"is far from the unit's {earlier} earlier increments (median {_g(median)}; modified "
        f"z-score {z:.1f}, threshold {_g(threshold)}): please check.",
    )


def conflicting_duplicates(
    series: Iterable[Reported],
    config: DataQualityConfig,
    *,
    since: tuple[datetime, str] | None = None,
    period: tuple[str, str] | None = None,
) -> list[Finding]:
    """`period` (a `period_key`): judge that period's reports only — a report is judged against the first
    of its own period alone, so an arriving report changes no judgement in another period."""
    rule = config.conflicting_duplicate
    found = []
    ordered = _ordered(series)
    for reports in _by_period(ordered) if period is None else [_of_period(ordered, period)]:
        if not reports:
            continue
        first = reports[0]
        # before `since` a report only marks the first of its period
        for report in reports[max(1, _first_at(reports, since, key=_order)) :]:
            if abs(report.value - first.value) <= rule.tolerance:
                continue
            describe = functools.partial(_duplicate_messages, report, first)
            found.append(
                _finding(CONFLICTING_DUPLICATE, rule, report, values=(first.value, report.value), describe=describe)
            )
    if period is None:
        found.sort(key=lambda finding: finding.report.order)
    return found


def _by_period(series: Iterable[Reported]) -> Iterable[list[Reported]]:
    periods: defaultdict[tuple[str, str], list[Reported]] = defaultdict(list)
    for report in series:
        periods[period_key(report)].append(report)
    return periods.values()


def _of_period(series: Iterable[Reported], key: tuple[str, str]) -> list[Reported]:
    """The reports of one period, read off the series without building a key per report."""
    kind, period = key
    if kind == "measurement":
        return [report for report in series if report.period == period and report.kind == "measurement"]
    return [report for report in series if report.period == period and report.kind != "measurement"]


def period_key(report: Reported) -> tuple[str, str]:
    """What a conflicting duplicate is judged within: the progress or the measurements of one period."""
    return ("measurement" if report.kind == "measurement" else "progress", report.period)


def _duplicate_messages(report: Reported, first: Reported) -> tuple[str, str]:
    return (
        f"{report.where_zh}“{report.subject_zh}”同一期（{report.period}）报送了不同数值："
        f"先报{_g(first.value)}，后报{_g(report.value)}，请说明以哪个为准。",
        f"{report.where_zh}: {report.subject} for {report.period} was reported as {_g(first.value)} "
        f"and again as {_g(report.value)}: which one stands?",
    )


def _first_at(
    items: Sequence[_T], since: tuple[datetime, str] | None, *, key: Callable[[_T], tuple[datetime, str]]
) -> int:
    """The index of the first of `items` (in event time) at or after `since`; 0 without `since`."""
    return 0 if since is None else bisect.bisect_left(items, since, key=key)


def detect_series(
    series: Iterable[Reported], config: DataQualityConfig, *, since: Reported | None = None
) -> list[Finding]:
    """The findings on the reports of one series — with `since`, those `since` may have changed.

    Each report is judged only against the reports before it, so a report that arrives leaves the
    findings on the reports before it as they were: only it and the ones after it need judging again,
    and for a conflicting duplicate only those of its own period. For a report that comes last (the
    usual case) that is one z-score, not one per report.
    """
    ordered = _ordered(series)
    at = since.order if since is not None else None
    return (
        cumulative_decreases(ordered, config, since=at)
        + implausible_values(ordered if since is None else [since], config)  # each judged on its own
        + increment_outliers(ordered, config, since=at)
        + conflicting_duplicates(ordered, config, since=at, period=period_key(since) if since else None)
    )


def detect(reports: Iterable[Reported], config: DataQualityConfig) -> list[Finding]:
    """Every finding on `reports`, series by series, ordered by event time."""
    by_series: dict[tuple[str, str, str], list[Reported]] = defaultdict(list)
    for report in reports:
        by_series[report.series].append(report)
    found = []
    for series in by_series.values():
        found += detect_series(series, config)
    return sorted(found, key=lambda finding: (*finding.report.order, CHECKS.index(finding.check)))


def finding_firing(finding: Finding, current: Alert | None) -> Firing:
    """The `data_quality` alert of a finding (one per flagged report and check)."""
    count, first_seen, last_seen = folded(current, finding.at)
    report = finding.report
    return Firing(
        labels=finding.labels,
        severity=finding.severity,
        title_zh=f"【数据质量】{report.where_zh}“{report.subject_zh}”{_CHECK_ZH[finding.check]}",
        summary_zh=f"{finding.message_zh}依据：{finding.source}",
        at=finding.at,
        first_seen=first_seen,
        last_seen=last_seen,
        count=count,
        stage=finding.check,
        value=report.value,
        annotations={"unit_name": report.unit_name, "period": report.period, "message_en": finding.message_en},
        once=True,
    )


def finding_fingerprint(finding: Finding) -> str:
    report = finding.report
    return _finding_fingerprint(finding.check, report.unit_id, report.subject, report.fact_id, report.class_name)


@functools.lru_cache(maxsize=1 << 10)
def _finding_fingerprint(check: str, unit_id: str, subject: str, fact_id: str, class_name: str | None) -> str:
    """Remembered: a report judged again finds its findings again, and the book looks each one up."""
    return fingerprint(_labels(check, unit_id, subject, fact_id, class_name))


_CHECK_ZH = {
    CUMULATIVE_DECREASE: "累计数减少",
    IMPLAUSIBLE_VALUE: "数值不合理",
    INCREMENT_OUTLIER: "新增量异常",
    CONFLICTING_DUPLICATE: "同期重复报送不同数值",
}


# --- the score -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitScore:
    unit_id: str
    unit_name: str
    reports: int
    flagged: int
    score: float | None
    band_zh: str | None
    by_check: dict[str, int]


def quality_scores(
    reports: Iterable[Reported], findings: Iterable[Finding], config: DataQualityConfig
) -> list[UnitScore]:
    """Each unit's score over `reports` (pass the reports of a period and the findings on them), worst first."""
    by_unit: dict[str, dict[str, Reported]] = defaultdict(dict)
    for report in reports:
        by_unit[report.unit_id][report.fact_id] = report
    weights: dict[str, float] = defaultdict(float)
    checks: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(CHECKS, 0))
    for finding in findings:
        report = finding.report
        if report.fact_id not in by_unit.get(report.unit_id, {}):
            continue  # a finding on a report outside the set being scored
        weights[report.fact_id] = max(weights[report.fact_id], finding.weight)
        checks[report.unit_id][finding.check] += 1
    scores = []
    for unit_id, unit_reports in by_unit.items():
        total = len(unit_reports)
        penalty = sum(weights.get(fact_id, 0.0) for fact_id in unit_reports)
        score = 1 - penalty / total if total else None
        scores.append(
            UnitScore(
                unit_id=unit_id,
                unit_name=next(iter(unit_reports.values())).unit_name,
                reports=total,
                flagged=sum(1 for fact_id in unit_reports if fact_id in weights),
                score=score,
                band_zh=config.band_for(score).label_zh if score is not None else None,
                by_check=dict(checks[unit_id]) if unit_id in checks else dict.fromkeys(CHECKS, 0),
            )
        )
    return sorted(scores, key=lambda s: (s.score if s.score is not None else 2.0, s.unit_id))
