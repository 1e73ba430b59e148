"""The rules configuration: every default cites its source, and bad configurations are refused."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from duban_alerts.domain import load_rules, parse_rules
from duban_alerts.domain.config import BUNDLED_RULES


def bundled() -> dict[str, Any]:
    from importlib import resources

    text = resources.files("duban_alerts.domain").joinpath(BUNDLED_RULES).read_text(encoding="utf-8")
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


def test_the_bundled_rules_load_and_every_rule_section_names_its_source() -> None:
    rules = load_rules()

    sources = [
        rules.incident.source,
        rules.late_report.source,
        rules.clusters.source,
        rules.deadlines.source,
        rules.lag.source,
        rules.escalation.source,
    ]
    assert all(source.strip() for source in sources)
    assert all(limit.source.strip() for limit in rules.limits)
    assert rules.incident.food_poisoning.source.strip()


def test_the_bundled_defaults_are_the_documented_ones() -> None:
    rules = load_rules()

    class_size = rules.limit_for("class_size")
    assert class_size is not None
    assert [(band.op, band.value) for band in class_size.bands] == [(">=", 56), (">=", 66)]
    assert [limit.limit for limit in rules.late_report.limits] == [timedelta(hours=1), timedelta(hours=2)]
    assert rules.late_report.default.limit == timedelta(hours=24)
    assert rules.clusters.quiet_period == timedelta(days=7)
    assert rules.escalation.ladder == ("提醒", "催办", "督办")
    root = rules.notifications.route
    assert (root.group_wait, root.group_interval, root.repeat_interval) == (
        timedelta(seconds=30),
        timedelta(minutes=5),
        timedelta(hours=4),
    )


def test_a_class_size_threshold_can_be_tightened_to_55() -> None:
    data = bundled()
    data["limits"][0]["bands"][0]["value"] = 55
    rules = parse_rules(yaml.safe_dump(data, allow_unicode=True))

    class_size = rules.limit_for("class_size")
    assert class_size is not None
    assert class_size.bands[0].holds(55)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("notifications", "route", "routes", 0, "matchers"), ["severity"]),
        (("notifications", "route", "receiver"), None),
        (("timezone",), "Mars/Olympus"),
        (("clusters", "default", "criteria", 0, "min_cases"), 0),
        (("incident", "ungraded"), "catastrophic"),
    ],
)
def test_a_broken_configuration_is_refused_when_it_loads(path: tuple[Any, ...], value: Any) -> None:
    data = bundled()
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value

    with pytest.raises((ValidationError, ValueError)):
        parse_rules(yaml.safe_dump(data, allow_unicode=True))
