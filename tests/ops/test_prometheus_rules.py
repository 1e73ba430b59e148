"""deploy/prometheus: the configuration and rules load, every alert fires when it should and only then
(tests/ops/prometheus/*.test.yml), and every rule queries series duban really exposes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from duban_kit.tokens import generate_token

from .metric_names import exposed_series, metric_names_in
from .tools import DEPLOY, assert_succeeds, require_tool, run_tool

PROMETHEUS = DEPLOY / "prometheus"
RULE_FILES = [PROMETHEUS / "recording.rules.yml", PROMETHEUS / "alerting.rules.yml"]
RULE_TESTS = sorted((Path(__file__).parent / "prometheus").glob("*.test.yml"))


def rules(path: Path) -> list[dict[str, Any]]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [rule for group in document["groups"] for rule in group["rules"]]


def alert_names() -> set[str]:
    return {rule["alert"] for rule in rules(PROMETHEUS / "alerting.rules.yml")}


def recorded_names() -> set[str]:
    return {rule["record"] for rule in rules(PROMETHEUS / "recording.rules.yml")}


def test_prometheus_configuration_is_valid(tmp_path: Path) -> None:
    """Checked as installed: the rules beside it, and a reader token where `credentials_file` says
    (the api-tokens volume in docker-compose), here a file of the test's."""
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text(encoding="utf-8"))
    token = tmp_path / "prometheus.token"
    token.write_text(generate_token() + "\n", encoding="utf-8")
    for job in config["scrape_configs"]:
        if "authorization" in job:
            job["authorization"]["credentials_file"] = str(token)
    for rule_file in config["rule_files"]:
        (tmp_path / rule_file).write_text((PROMETHEUS / rule_file).read_text(encoding="utf-8"), encoding="utf-8")
    installed = tmp_path / "prometheus.yml"
    installed.write_text(yaml.safe_dump(config), encoding="utf-8")
    assert_succeeds(run_tool([require_tool("promtool"), "check", "config", str(installed)]))


def test_rule_files_are_valid() -> None:
    assert_succeeds(run_tool([require_tool("promtool"), "check", "rules", *map(str, RULE_FILES)]))


@pytest.mark.parametrize("rule_test", RULE_TESTS, ids=lambda path: path.name)
def test_rule_unit_tests_pass(rule_test: Path) -> None:
    assert_succeeds(run_tool([require_tool("promtool"), "test", "rules", rule_test.name], cwd=rule_test.parent))


def test_every_alert_has_a_firing_and_a_quiet_case() -> None:
    fired: set[str] = set()
    quiet: set[str] = set()
    for rule_test in RULE_TESTS:
        for case in yaml.safe_load(rule_test.read_text(encoding="utf-8"))["tests"]:
            for check in case.get("alert_rule_test", []):
                (fired if check.get("exp_alerts") else quiet).add(check["alertname"])
    assert alert_names() - fired == set(), "alerts never shown firing"
    assert alert_names() - quiet == set(), "alerts never shown staying quiet"


def test_every_alert_says_how_bad_and_what_happened() -> None:
    for rule in rules(PROMETHEUS / "alerting.rules.yml"):
        assert rule["labels"]["severity"] in {"critical", "warning"}, rule["alert"]
        assert rule["annotations"]["summary"].strip(), rule["alert"]
        assert rule["annotations"]["description"].strip(), rule["alert"]


def test_rules_query_only_series_duban_exposes() -> None:
    known = exposed_series() | recorded_names()
    unknown = {
        rule.get("alert") or rule["record"]: sorted(metric_names_in(rule["expr"]) - known)
        for path in RULE_FILES
        for rule in rules(path)
    }
    assert {name: missing for name, missing in unknown.items() if missing} == {}
