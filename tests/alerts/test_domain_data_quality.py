"""Rule 8: data-quality checks flag suspicious figures (never reject them) and score each unit."""

from __future__ import annotations

import random
import statistics
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from duban_alerts.domain import load_rules, parse_rules
from duban_alerts.domain.alert import reconcile
from duban_alerts.domain.data_quality import (
    CONFLICTING_DUPLICATE,
    CUMULATIVE_DECREASE,
    DATA_QUALITY,
    IMPLAUSIBLE_VALUE,
    INCREMENT_OUTLIER,
    Finding,
    Reported,
    ReportKind,
    RobustHistory,
    Series,
    conflicting_duplicates,
    cumulative_decreases,
    detect,
    detect_series,
    finding_firing,
    implausible_values,
    increment_outliers,
    quality_scores,
    robust_z,
)
from duban_alerts.domain.quality_ledger import QualityLedger
from duban_contracts.events import AlertState, Severity
from tests.alerts.alerts_support import at
from tests.alerts.test_domain_config import bundled

CONFIG = load_rules().data_quality
START = at("2023-01-31 17:00")


def report(
    n: int,
    value: float,
    kind: ReportKind = "increment",
    *,
    period: str | None = None,
    unit: str = "bz-ez",
    subject: str = "t26_student_aid",
    class_name: str | None = None,
    fact_id: str | None = None,
) -> Reported:
    """The n-th report of a series, a month after the previous one (period = its month, unless given)."""
    occurred = START + timedelta(days=30 * n)
    return Reported(
        fact_id=fact_id or f"{unit}/{subject}/{class_name}/{n}/{value}",
        occurred_at=occurred,
        unit_id=unit,
        unit_name={"bz-ez": "巴中市第二中学", "bz-sz": "巴中市第三中学"}.get(unit, unit),
        subject=subject,
        subject_zh={"t26_student_aid": "学生资助", "class_size": "班额"}.get(subject, subject),
        value=value,
        kind=kind,
        period=period or f"2023-{n + 1:02d}",
        class_name=class_name,
        measure_unit="人" if subject == "class_size" else "人次",
    )


def flagged(findings: list[Finding]) -> list[tuple[float, ...]]:
    return [finding.values for finding in findings]


# --- cumulative figures going down ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("series", "expected"),
    [
        ([(100, "cumulative"), (120, "cumulative"), (90, "cumulative")], [(120, 90)]),
        ([(100, "cumulative"), (120, "cumulative"), (120, "cumulative")], []),  # flat is fine
        ([(100, "cumulative"), (20, "increment"), (110, "cumulative")], [(120, 110)]),  # 100 + 20 then 110
        ([(100, "cumulative"), (20, "increment"), (130, "cumulative")], []),
        ([(50, "increment"), (30, "increment"), (60, "cumulative")], [(80, 60)]),
        ([(50, "increment"), (30, "increment")], []),
    ],
)
def test_a_cumulative_figure_below_the_units_figure_before_it_is_flagged(
    series: list[tuple[float, ReportKind]], expected: list[tuple[float, float]]
) -> None:
    reports = [report(n, value, kind) for n, (value, kind) in enumerate(series)]

    assert flagged(cumulative_decreases(reports, CONFIG)) == expected


def test_event_time_decides_which_figure_came_before() -> None:
    reports = [report(0, 100, "cumulative"), report(1, 120, "cumulative"), report(2, 90, "cumulative")]

    for seed in range(5):
        shuffled = reports[:]
        random.Random(seed).shuffle(shuffled)
        assert detect(shuffled, CONFIG) == detect(reports, CONFIG)
    finding = cumulative_decreases(reports, CONFIG)[0]
    assert finding.report is reports[2]
    assert "累计数由120（截至2023-02）降为90（2023-03）" in finding.message_zh
    assert "went down from 120" in finding.message_en


def test_a_lower_re_report_of_the_same_period_is_a_conflicting_duplicate_not_a_decrease() -> None:
    reports = [report(0, 100, "cumulative"), report(1, 90, "cumulative", period="2023-01")]

    assert cumulative_decreases(reports, CONFIG) == []
    assert flagged(conflicting_duplicates(reports, CONFIG)) == [(100, 90)]


# --- implausible values -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "implausible"),
    [(0, True), (1, False), (45, False), (70, False), (100, False), (101, True), (455, True), (45.5, True)],
)
def test_an_implausible_class_size_is_flagged(value: float, implausible: bool) -> None:
    measured = report(0, value, "measurement", subject="class_size", class_name="七年级3班")

    findings = implausible_values([measured], CONFIG)

    assert bool(findings) is implausible
    if implausible:
        assert findings[0].check == IMPLAUSIBLE_VALUE
        assert "巴中市第二中学七年级3班班额" in findings[0].message_zh
        assert "1–100的整数" in findings[0].message_zh


def test_ranges_apply_to_measurements_of_their_metric_only() -> None:
    progress = report(0, 455, "increment", subject="class_size")
    other = report(0, -5, "measurement", subject="t99_unknown_metric")

    assert implausible_values([progress, other], CONFIG) == []


# --- increments far outside the unit's history -----------------------------------------------------


def test_robust_z_uses_the_median_absolute_deviation() -> None:
    scored = robust_z(400, [100, 110, 95, 105, 100])

    assert scored is not None
    z, median, spread = scored
    assert (median, spread) == (100, 5)
    assert z == pytest.approx(0.6745 * 300 / 5)


def test_robust_z_falls_back_to_the_mean_absolute_deviation_and_gives_up_without_spread() -> None:
    scored = robust_z(300, [100, 100, 100, 100, 110])

    assert scored is not None
    assert scored[2] == pytest.approx(0.7979 * 2)  # mean |x − 100| = 2
    assert robust_z(101, [100, 100, 100, 100, 100]) is None


def plain_robust_z(value: float, history: list[float]) -> tuple[float, float, float] | None:
    """The modified z-score as the formula reads: sort for the median, sort again for the MAD."""
    median = statistics.median(history)
    deviations = [abs(x - median) for x in history]
    mad = statistics.median(deviations)
    spread = mad if mad > 0 else statistics.fmean(deviations) * 0.7979
    return None if spread == 0 else (0.6745 * (value - median) / spread, median, spread)


@given(st.lists(st.integers(-50, 50).map(float) | st.floats(-1e6, 1e6), min_size=1, max_size=40), st.floats(-1e6, 1e6))
def test_the_sorted_history_scores_as_the_plain_formula_does(history: list[float], value: float) -> None:
    kept = RobustHistory()
    for earlier in history:
        kept.add(earlier)

    assert kept.robust_z(value) == plain_robust_z(value, history)


@given(
    st.lists(st.integers(-50, 50).map(float) | st.floats(-1e6, 1e6), min_size=1, max_size=40),
    st.floats(-1e6, 1e6),
    st.sampled_from([0.5, 1.0, 3.5, 10.0]),
)
def test_a_value_clearly_within_the_threshold_is_never_an_outlier_by_the_formula(
    history: list[float], value: float, threshold: float
) -> None:
    kept = RobustHistory(history)
    scored = plain_robust_z(value, history)

    if kept.clearly_within(value, threshold):
        assert scored is None or abs(scored[0]) <= threshold
    # and it is not too shy to be of use: a value at the median, or well inside a spread-out history, is within
    assert kept.clearly_within(statistics.median(history), threshold)


@given(
    st.lists(st.sampled_from([1.0, 2.0, 2.0, 2.0, 3.0, 7.5]), min_size=1, max_size=60),  # MAD often 0
    st.sampled_from([1.0, 1.5, 2.0, 3.0, 4.0, 7.5, 40.0, -3.0]),
    st.sampled_from([0.5, 1.0, 3.5, 10.0]),
)
def test_with_most_of_the_history_at_the_median_the_count_still_never_lets_an_outlier_through(
    history: list[float], value: float, threshold: float
) -> None:
    scored = plain_robust_z(value, history)

    if RobustHistory(history).clearly_within(value, threshold):
        assert scored is None or abs(scored[0]) <= threshold


def test_counting_tells_most_values_within_the_threshold_without_working_out_the_mad() -> None:
    kept = RobustHistory([float(v) for v in range(1, 101)])  # median 50.5, MAD 25

    assert kept.clearly_within(60.0, 3.5)  # z ≈ 0.26
    assert not kept.clearly_within(200.0, 3.5)  # z ≈ 4.0: an outlier, left to robust_z
    assert not kept.clearly_within(180.0, 3.5)  # z ≈ 3.49: within, but too near the threshold to tell by counting
    assert kept.clearly_within(150.0, 3.5)  # z ≈ 2.7
    mostly_ones = RobustHistory([1.0] * 6 + [2.0] * 4)  # MAD 0; the mean absolute deviation 0.4 stands in
    assert mostly_ones.clearly_within(2.0, 3.5)  # z ≈ 2.1
    assert not mostly_ones.clearly_within(5.0, 3.5)  # z ≈ 8.5
    assert not RobustHistory([3.0] * 5).clearly_within(4.0, 3.5)  # no spread at all: robust_z says so
    # subnormal figures round by more than the margins: the z-score decides (it finds z = 4 here)
    tiny = RobustHistory([0.0, 0.0, 0.0, 1e-323, 1e-323])
    assert not tiny.clearly_within(3e-323, 3.5)
    assert tiny.robust_z(3e-323) == (4.0, 0.0, 5e-324)


@pytest.mark.parametrize(
    ("history", "latest", "outlier"),
    [
        ([100, 110, 95, 105, 100], 400, True),  # M = 40.5
        ([100, 110, 95, 105, 100], 120, False),  # M = 2.7
        ([100, 110, 95, 105, 100], -100, True),  # far below counts too
        ([100, 110, 95, 105], 400, False),  # only 4 earlier increments: not judged
        ([100, 100, 100, 100, 100], 400, False),  # no spread to judge by
    ],
)
def test_an_increment_far_outside_the_units_own_history_is_flagged(
    history: list[float], latest: float, outlier: bool
) -> None:
    reports = [report(n, value) for n, value in enumerate([*history, latest])]

    findings = increment_outliers(reports, CONFIG)

    assert [f.report.value for f in findings] == ([latest] if outlier else [])


def test_a_cumulative_series_is_judged_on_its_increments() -> None:
    figures = [100, 210, 305, 410, 510, 620, 1620]
    reports = [report(n, value, "cumulative") for n, value in enumerate(figures)]

    findings = increment_outliers(reports, CONFIG)

    assert len(findings) == 1
    assert findings[0].values == (102.5, 1000)  # (median of 100, 110, 95, 105, 100, 110; the increment)
    assert findings[0].detail["z"] > 3.5
    assert findings[0].severity is Severity.INFO


def test_each_unit_is_judged_against_its_own_history_only() -> None:
    big = [report(n, 1000 + 10 * (n % 3), unit="bz-sz") for n in range(6)]
    small = [report(n, 100 + 10 * (n % 3)) for n in range(5)]

    findings = detect([*big, *small, report(5, 1010)], CONFIG)

    # 1010 is ordinary for bz-sz, far out for bz-ez
    assert [(f.check, f.report.unit_id, f.report.value) for f in findings] == [(INCREMENT_OUTLIER, "bz-ez", 1010)]


# --- the same period twice ----------------------------------------------------------------------------


def test_the_same_period_reported_again_with_another_value_is_flagged_and_a_resend_is_not() -> None:
    reports = [
        report(0, 10, period="2023-06-05"),
        report(1, 10, period="2023-06-05"),  # the same figure re-sent
        report(2, 12, period="2023-06-05"),
        report(3, 15, period="2023-06-12"),
    ]

    findings = conflicting_duplicates(reports, CONFIG)

    assert flagged(findings) == [(10, 12)]
    assert "同一期（2023-06-05）报送了不同数值：先报10，后报12" in findings[0].message_zh


def test_two_classes_measured_the_same_day_are_not_duplicates_of_each_other() -> None:
    reports = [
        report(0, 48, "measurement", subject="class_size", class_name="七年级1班", period="2023-09-01"),
        report(0, 52, "measurement", subject="class_size", class_name="七年级2班", period="2023-09-01"),
        report(1, 50, "measurement", subject="class_size", class_name="七年级2班", period="2023-09-01"),
    ]

    findings = detect(reports, CONFIG)

    assert [(f.check, f.report.class_name, f.values) for f in findings] == [
        (CONFLICTING_DUPLICATE, "七年级2班", (52, 50))
    ]


# --- judging the latest report alone --------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(40))
def test_the_ledger_finds_what_a_full_check_of_every_series_finds_whatever_the_arrival_order(seed: int) -> None:
    rng = random.Random(seed)
    kind: ReportKind = rng.choice(["increment", "cumulative"])
    reports, figure = [], 0.0
    for n in range(rng.randint(3, 14)):
        step = rng.choice([100, 110, 95, 105, 2000, -50])
        figure += step
        value = figure if kind == "cumulative" else step
        reports.append(report(n, value, kind, period=f"2023-{n // 2 + 1:02d}", unit=rng.choice(["bz-ez", "bz-sz"])))
    # mostly in event time, now and then one late
    arrival = sorted(reports, key=lambda r: r.occurred_at + timedelta(days=rng.choice([0, 0, 0, 95])))
    ledger, raised_by_ledger, raised_by_full = QualityLedger(CONFIG), set(), set()

    for arrived in arrival:
        ledger.put(arrived)
        raised_by_ledger |= {(f.check, f.report.fact_id, f.values) for f in ledger.findings_for(arrived)}
        raised_by_full |= {(f.check, f.report.fact_id, f.values) for f in detect(ledger.reports(), CONFIG)}
        assert raised_by_ledger == raised_by_full


def test_the_reports_before_an_arriving_one_are_not_judged_again() -> None:
    history = [report(n, value) for n, value in enumerate([100, 110, 95, 105, 100, 400])]
    latest = report(6, 120)

    assert [(f.check, f.report) for f in detect_series([*history, latest], CONFIG, since=latest)] == []
    assert [(f.check, f.report.value) for f in detect_series([*history, latest], CONFIG, since=history[4])] == [
        (INCREMENT_OUTLIER, 400)
    ]


def test_an_arriving_report_judges_again_only_the_duplicates_of_its_own_period() -> None:
    july = [report(2, 7, period="2023-07"), report(3, 9, period="2023-07")]  # a duplicate, raised before
    late_june = [report(0, 10, period="2023-06"), report(1, 12, period="2023-06")]  # arrive after July's
    series = [*late_june, *july]

    assert [(f.check, f.values) for f in detect_series(series, CONFIG, since=late_june[1])] == [
        (CONFLICTING_DUPLICATE, (10, 12))
    ]
    assert [(f.check, f.values) for f in detect(series, CONFIG)] == [
        (CONFLICTING_DUPLICATE, (10, 12)),
        (CONFLICTING_DUPLICATE, (7, 9)),
    ]


# --- alerts and scores ---------------------------------------------------------------------------------


def test_a_finding_is_a_data_quality_alert_of_its_own() -> None:
    reports = [report(0, 100, "cumulative"), report(1, 90, "cumulative")]
    finding = detect(reports, CONFIG)[0]

    change = reconcile(None, finding_firing(finding, None))

    assert change is not None
    alert = change.alert
    assert alert.labels == {
        "rule": DATA_QUALITY,
        "check": CUMULATIVE_DECREASE,
        "unit_id": "bz-ez",
        "subject": "t26_student_aid",
        "fact_id": reports[1].fact_id,
    }
    assert (alert.state, alert.severity, alert.first_seen) == (
        AlertState.FIRING,
        Severity.WARNING,
        reports[1].occurred_at,
    )
    assert alert.title_zh == "【数据质量】巴中市第二中学“学生资助”累计数减少"
    assert "依据：" in alert.summary_zh
    assert alert.annotations["message_en"].startswith("巴中市第二中学's cumulative figure")


def test_a_units_score_counts_each_flagged_report_once_at_its_heaviest_weight() -> None:
    # bz-ez: 4 reports; the last goes down (weight 1) and is an outlier too (weight 0.5): 1 − 1/4.
    ez = [report(n, v, "cumulative") for n, v in enumerate([100, 200, 300, 50])]
    # bz-sz: 10 increments, the last an outlier only (weight 0.5): 1 − 0.5/10.
    sz = [report(n, 100 + 5 * (n % 2), unit="bz-sz") for n in range(9)] + [report(9, 900, unit="bz-sz")]
    reports = [*ez, *sz]

    findings = detect(reports, CONFIG)
    scores = quality_scores(reports, findings, CONFIG)

    assert {(f.report.unit_id, f.check) for f in findings} == {
        ("bz-ez", CUMULATIVE_DECREASE),
        ("bz-sz", INCREMENT_OUTLIER),
    }
    assert [(s.unit_id, s.reports, s.flagged, s.score, s.band_zh) for s in scores] == [
        ("bz-ez", 4, 1, 0.75, "较差"),
        ("bz-sz", 10, 1, 0.95, "良好"),
    ]
    assert scores[0].by_check[CUMULATIVE_DECREASE] == 1


def test_a_unit_without_reports_has_no_score_and_a_clean_unit_scores_full() -> None:
    clean = [report(n, 100 + n) for n in range(3)]

    assert quality_scores([], [], CONFIG) == []
    assert [(s.score, s.band_zh) for s in quality_scores(clean, [], CONFIG)] == [(1.0, "良好")]


# --- configuration -------------------------------------------------------------------------------------


def test_every_data_quality_check_names_its_source() -> None:
    checks = [
        CONFIG.cumulative_decrease,
        CONFIG.increment_outlier,
        CONFIG.conflicting_duplicate,
        *CONFIG.plausible_ranges,
    ]
    assert all(check.source.strip() for check in checks)
    assert "Iglewicz" in CONFIG.increment_outlier.source
    assert (CONFIG.increment_outlier.threshold, CONFIG.increment_outlier.min_history) == (3.5, 5)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("plausible_ranges", 0, "min"), 200),  # above its max
        (("score_bands",), [{"min": 0.9, "label_zh": "良好"}]),  # no band for low scores
        (("increment_outlier", "min_history"), 1),
        (("cumulative_decrease", "weight"), 2),
    ],
)
def test_a_broken_data_quality_configuration_is_refused(path: tuple[Any, ...], value: Any) -> None:
    data = bundled()
    node = data["data_quality"]
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value

    with pytest.raises(ValidationError):
        parse_rules(yaml.safe_dump(data, allow_unicode=True))


@pytest.mark.parametrize("seed", range(6))
def test_a_long_series_arriving_in_any_order_keeps_its_running_figures_as_a_fresh_count_would(seed: int) -> None:
    """A series keeps its running figures and sorted increments between reports; a late report makes it work
    them out again from its place on. At every step they equal a count from scratch, and the ledger has
    raised what a full check of the series would have."""
    rng = random.Random(seed)
    kinds: list[ReportKind] = ["increment", "increment", "cumulative", "measurement"]
    reports, figure = [], 0.0
    for n in range(160):
        kind = rng.choice(kinds)
        step = rng.choice([1.0, 1.0, 2.0, 3.0, 40.0, -5.0])
        figure += step
        value = figure if kind == "cumulative" else step
        period = f"2023-{rng.randrange(1, 40)}"  # many periods reported more than once
        reports.append(report(n, value, kind, period=period, fact_id=f"f{n}"))
    arrival = reports[:]
    rng.shuffle(arrival)
    ledger, raised_by_ledger, raised_by_full = QualityLedger(CONFIG), set(), set()
    series = Series()
    for arrived in arrival:
        ledger.put(arrived)
        series.put(arrived)
        raised_by_ledger |= {(f.check, f.report.fact_id, f.values) for f in ledger.findings_for(arrived)}
        raised_by_full |= {(f.check, f.report.fact_id, f.values) for f in detect(ledger.reports(), CONFIG)}
        assert raised_by_ledger == raised_by_full
        fresh = Series(list(series))
        assert list(series.running()) == list(fresh.running())
        assert series.increments() == fresh.increments()
    for replaced in rng.sample(reports, 10):  # a saved book loaded again puts a fact id a second time
        series.put(replace(replaced, occurred_at=replaced.occurred_at + timedelta(days=rng.choice([-400, 400]))))
        assert list(series.running()) == list(Series(list(series)).running())
