"""deploy/grafana: the provisioned overview dashboard is valid, current, and queries only real series."""

from __future__ import annotations

import json
import sys
from typing import Any

import yaml

from .metric_names import exposed_series, metric_names_in
from .tools import DEPLOY, assert_succeeds, run_tool

GRAFANA = DEPLOY / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "duban-overview.json"
BUILDER = GRAFANA / "build_dashboard.py"

#: What operators asked to see; each must be on the dashboard.
REQUIRED = {
    "duban_messages_consumed_total",  # throughput by service/subject/outcome, errors
    "duban_messages_published_total",
    "duban_event_time_lag_seconds",
    "duban_consumer_pending_messages",
    "duban_consumer_ack_pending_messages",
    "duban_handler_duration_seconds_bucket",
    "duban_dead_letters_total",
    "duban_db_query_duration_seconds_bucket",
    "duban_alerts_firing",
    "duban_notifications_total",
    "duban_reports_generated_total",
    "duban_report_duration_seconds_bucket",
    "duban_submissions_rejected_total",
    "duban_service_restarts_total",
    "duban_outbox_pending_events",
}


def dashboard() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return document


def queries() -> dict[str, list[str]]:
    return {
        panel["title"]: [target["expr"] for target in panel.get("targets", [])]
        for panel in dashboard()["panels"]
        if panel["type"] != "row"
    }


def test_dashboard_is_what_the_builder_writes() -> None:
    result = run_tool([sys.executable, str(BUILDER), "--stdout"])
    assert_succeeds(result)
    assert DASHBOARD.read_text(encoding="utf-8") == result.stdout, (
        f"{DASHBOARD.name} is out of date: run `.venv/bin/python deploy/grafana/build_dashboard.py`"
    )


def test_every_panel_queries_only_series_duban_exposes() -> None:
    known = exposed_series()
    unknown = {
        title: sorted(set().union(*(metric_names_in(expr) for expr in exprs)) - known)
        for title, exprs in queries().items()
    }
    assert {title: names for title, names in unknown.items() if names} == {}


def test_every_panel_has_a_query() -> None:
    assert [title for title, exprs in queries().items() if not exprs] == []


def test_dashboard_shows_everything_operators_asked_for() -> None:
    shown = set().union(*(metric_names_in(expr) for exprs in queries().values() for expr in exprs))
    assert REQUIRED - shown == set()


def test_panels_have_unique_ids_and_fit_the_grid() -> None:
    panels = dashboard()["panels"]
    assert len({panel["id"] for panel in panels}) == len(panels)
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]


def test_dashboard_defaults_to_the_provisioned_data_source() -> None:
    provisioned = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text())
    [source] = provisioned["datasources"]
    [variable] = [v for v in dashboard()["templating"]["list"] if v["name"] == "datasource"]
    assert variable["current"]["value"] == source["uid"]


def test_dashboard_provider_reads_the_folder_compose_mounts() -> None:
    provider = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "duban.yml").read_text())
    compose = yaml.safe_load((DEPLOY.parent / "docker-compose.yml").read_text())
    [path] = [p["options"]["path"] for p in provider["providers"]]
    mounts = compose["services"]["grafana"]["volumes"]
    assert f"./deploy/grafana/dashboards:{path}:ro" in mounts
