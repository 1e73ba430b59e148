"""信访维稳 in the leader reports: the period's and the year's rates, against last year's figures."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from duban_contracts.casework import CaseChannel, CaseSummary, Satisfaction
from duban_reports.domain.casework import casework_section, load_casework_targets

TARGETS = load_casework_targets()


def hotline(case_id: str, received: date, concluded: date | None, due: date, **more: object) -> CaseSummary:
    return CaseSummary(
        case_id,
        CaseChannel.HOTLINE,
        "sec-safety",
        received,
        received,
        concluded,
        due,
        **more,  # type: ignore[arg-type]
    )


def test_the_bundled_targets_cite_task_25_and_give_every_rate_a_baseline() -> None:
    assert "任务25" in TARGETS.source
    assert set(TARGETS.baseline) == {"办结率", "按期办结率", "满意度", "化解率"}


def test_a_month_shows_its_own_rates_and_the_year_to_date_against_the_baseline() -> None:
    cases = [
        hotline(
            "A",
            date(2023, 3, 1),
            date(2023, 3, 3),
            date(2023, 3, 6),
            rated_on=date(2023, 3, 8),
            satisfaction=Satisfaction.SATISFIED,
            resolved_on=date(2023, 3, 9),
        ),
        hotline("B", date(2023, 6, 1), date(2023, 6, 12), date(2023, 6, 6)),  # late
        hotline("C", date(2023, 6, 20), None, date(2023, 6, 29)),  # open, due after the report's day
    ]

    section = casework_section(cases, date(2023, 6, 1), date(2023, 6, 30), date(2023, 6, 28), TARGETS)
    rates = {line.name: line for line in section.rates}

    assert (rates["按期办结率"].period_numerator, rates["按期办结率"].period_denominator) == (0, 1)
    assert (rates["按期办结率"].year_numerator, rates["按期办结率"].year_denominator) == (1, 2)
    assert rates["按期办结率"].met is False  # 50 % is below last year's
    assert rates["满意度"].year_value == 1.0 and rates["满意度"].met is True
    assert rates["满意度"].period_value is None  # nobody rated in June: no figure, not 0 %
    assert section.received == 2
    assert section.by_channel == (("12345热线", 2),)
    assert (section.open_at_end, section.overdue_at_end) == (1, 0)


def test_the_baseline_is_configurable(tmp_path: Path) -> None:
    path = tmp_path / "targets.yaml"
    path.write_text("source: 测试\nbaseline_year: 2022\nbaseline_source: 台账\nbaseline: {按期办结率: 0.4}\n", "utf-8")
    cases = [hotline("A", date(2023, 3, 1), date(2023, 3, 3), date(2023, 3, 6))]

    section = casework_section(
        cases, date(2023, 3, 1), date(2023, 3, 31), date(2023, 3, 31), load_casework_targets(path)
    )

    on_time = next(line for line in section.rates if line.name == "按期办结率")
    assert on_time.met is True
    assert next(line for line in section.rates if line.name == "化解率").met is None  # no baseline given
