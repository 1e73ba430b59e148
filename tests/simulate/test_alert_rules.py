"""The simulated year sets off every alert rule, through the services' own domains (no NATS, no database)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date
from importlib import resources
from typing import Any

import yaml

from duban.simulate import simulate_year
from duban_alerts.domain import MatchOp, parse_matcher
from duban_contracts.events import TargetStatus
from duban_contracts.plan import Plan
from duban_contracts.reporting_units import load_reporting_units
from tests.simulate.pipeline import SEED, bundled_plan, bundled_year, run_year

MILESTONE = "milestone"


def rule_ids_named_in_rules_yaml() -> set[str]:
    """Every rule id rules.yaml names: the hard limits' `rule`, and the rules its routes and inhibitions match."""
    config = yaml.safe_load(resources.files("duban_alerts.domain").joinpath("rules.yaml").read_text(encoding="utf-8"))
    named = {limit["rule"] for limit in config["limits"]}
    for text in _matchers(config["notifications"]):
        matcher = parse_matcher(text)
        if matcher.name == "rule":
            regex = matcher.op in (MatchOp.REGEX, MatchOp.NOT_REGEX)
            named |= set(matcher.value.split("|")) if regex else {matcher.value}
    return named


def _matchers(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key.endswith("matchers"):
                yield from value
            else:
                yield from _matchers(value)
    elif isinstance(node, list):
        for item in node:
            yield from _matchers(item)


def with_milestone(plan: Plan, target_id: str, due: date, value: float) -> Plan:
    data = plan.model_dump(mode="json")
    for section in data["sections"]:
        for task in section["tasks"]:
            for target in task["targets"]:
                if target["id"] == target_id:
                    target["milestones"] = [{"due": due.isoformat(), "value": value}]
    return Plan.model_validate(data)


def test_the_rules_yaml_names_the_fourteen_rules_of_the_alerts_service() -> None:
    assert rule_ids_named_in_rules_yaml() == {
        "safety_incident",
        "late_report",
        "infectious_cluster",
        "class_size",
        "daily_exercise",
        "deadline",
        "milestone",
        "periodic",
        "coverage_shortfall",
        "target_lagging",
        "target_critical",
        "case_acceptance",
        "case_handling",
        "case_revisit",
    }


def test_the_simulated_year_raises_every_rule_the_plan_gives_occasion_for() -> None:
    """The bundled plan sets no milestones, so the milestone rule has nothing to watch (see the next test)."""
    plan = bundled_plan()
    assert not any(p.target.milestones for p in plan.placed_targets())

    raised = run_year(bundled_year(), plan).raised_rules()

    assert raised == rule_ids_named_in_rules_yaml() - {MILESTONE}


def test_a_plan_with_a_milestone_sees_the_simulated_year_miss_it() -> None:
    plan = with_milestone(bundled_plan(), "t07_school_building_new", date(2023, 9, 30), 10_000)
    year = simulate_year(SEED, plan=plan, units=load_reporting_units().units)

    raised = run_year(year, plan).raised_rules()

    assert raised == rule_ids_named_in_rules_yaml()


def test_the_year_ends_with_most_targets_done_and_some_behind() -> None:
    statuses = Counter(s.status for s in run_year(bundled_year(), bundled_plan()).statuses[date(2023, 12, 31)].values())

    assert statuses[TargetStatus.DONE] > len(list(bundled_plan().placed_targets())) / 2
    assert statuses[TargetStatus.LAGGING] >= 2
    assert statuses[TargetStatus.CRITICAL] >= 2
    assert statuses[TargetStatus.OVERDUE] >= 1  # the dated duty never held, the one held too late
