"""Writes `dashboards/duban-overview.json`, the operators' overview of duban, from the panels below.

    .venv/bin/python deploy/grafana/build_dashboard.py           # rewrite the JSON
    .venv/bin/python deploy/grafana/build_dashboard.py --stdout  # print it

Grafana loads the JSON through provisioning (provisioning/dashboards/duban.yml); a test fails while
the checked-in file differs from this script's output, or when a panel queries a series duban does
not expose. Gauges that every replica reports alike (consumer state, outbox, alerts firing) are
combined with `max`, never `sum`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).resolve().parent / "dashboards" / "duban-overview.json"
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
SERVICES = 'service=~"$service"'
WIDTH = 24


@dataclass(frozen=True)
class Panel:
    title: str
    targets: Sequence[tuple[str, str]]  # (PromQL, legend)
    unit: str = "short"
    kind: str = "timeseries"
    width: int = 12
    height: int = 8
    description: str = ""
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Row:
    title: str
    panels: Sequence[Panel]


def rate(counter: str, by: str, matchers: str = "") -> str:
    selector = f"{SERVICES}, {matchers}" if matchers else SERVICES
    return f"sum by ({by}) (rate({counter}{{{selector}}}[$__rate_interval]))"


def quantile(q: float, histogram: str, by: str) -> str:
    return f"histogram_quantile({q}, sum by ({by}, le) (rate({histogram}_bucket{{{SERVICES}}}[$__rate_interval])))"


ROWS = [
    Row(
        "Flow 流量",
        [
            Panel(
                "Messages consumed by service and outcome",
                [(rate("duban_messages_consumed_total", "service, outcome"), "{{service}} {{outcome}}")],
                unit="reqps",
                description="ok = first attempt; redelivered = a later attempt; error = will be retried; "
                "rejected = permanent, dead-lettered.",
            ),
            Panel(
                "Messages consumed by subject",
                [(rate("duban_messages_consumed_total", "subject", 'outcome=~"ok|redelivered"'), "{{subject}}")],
                unit="reqps",
            ),
            Panel(
                "Messages published by service and outcome",
                [(rate("duban_messages_published_total", "service, outcome"), "{{service}} {{outcome}}")],
                unit="reqps",
                description="duplicate = JetStream already had this event id (a harmless re-publish).",
            ),
            Panel(
                "Event-time lag 事件时间滞后",
                [(f"max by (service) (duban_event_time_lag_seconds{{{SERVICES}}})", "{{service}}")],
                unit="s",
                description="Wall-clock now minus the newest event time processed. The live clock ticks every "
                "minute, so tasks, alerts and reports stay within a minute or two; large while replaying.",
            ),
        ],
    ),
    Row(
        "Backlog 积压",
        [
            Panel(
                "Consumer pending (not yet delivered)",
                [(f"max by (consumer) (duban_consumer_pending_messages{{{SERVICES}}})", "{{consumer}}")],
                width=8,
            ),
            Panel(
                "Consumer ack pending (delivered, not acknowledged)",
                [(f"max by (consumer) (duban_consumer_ack_pending_messages{{{SERVICES}}})", "{{consumer}}")],
                width=8,
                description="NATS stops delivering to a consumer at 5000 (max_ack_pending).",
            ),
            Panel(
                "Outbox pending 发件箱",
                [(f"max by (service) (duban_outbox_pending_events{{{SERVICES}}})", "{{service}}")],
                width=8,
            ),
        ],
    ),
    Row(
        "Latency 延迟",
        [
            Panel(
                "Handler latency p50 / p99",
                [
                    (quantile(0.5, "duban_handler_duration_seconds", "service"), "{{service}} p50"),
                    (quantile(0.99, "duban_handler_duration_seconds", "service"), "{{service}} p99"),
                ],
                unit="s",
                width=8,
                description="From a message reaching its handler to its acknowledgement (ack wait is 30 s).",
            ),
            Panel(
                "Database statement p99 by operation",
                [
                    (
                        quantile(0.99, "duban_db_query_duration_seconds", "service, operation"),
                        "{{service}} {{operation}}",
                    )
                ],
                unit="s",
                width=8,
            ),
            Panel(
                "Messages per commit (group commit)",
                [
                    (
                        f"{rate('duban_commit_batch_size_sum', 'service')}"
                        f" / {rate('duban_commit_batch_size_count', 'service')}",
                        "{{service}}",
                    )
                ],
                width=8,
            ),
        ],
    ),
    Row(
        "Errors 错误",
        [
            Panel(
                "Errors, rejections and redeliveries",
                [
                    (
                        rate(
                            "duban_messages_consumed_total", "service, outcome", 'outcome=~"error|rejected|redelivered"'
                        ),
                        "{{service}} {{outcome}}",
                    )
                ],
                unit="reqps",
                width=8,
            ),
            Panel(
                "Dead letters per hour 死信",
                [
                    (
                        f"sum by (service, subject) (increase(duban_dead_letters_total{{{SERVICES}}}[1h]))",
                        "{{service}} {{subject}}",
                    )
                ],
                width=8,
                description="`duban dlq list` shows them; `duban dlq replay` sends them round again.",
            ),
            Panel(
                "Rejected submissions by code 退回",
                [("sum by (code) (increase(duban_submissions_rejected_total[$__range]))", "{{code}}")],
                kind="bargauge",
                width=8,
                description="Submissions ingest could not turn into events, by reason, over the time range.",
                options={"displayMode": "basic", "orientation": "horizontal"},
            ),
        ],
    ),
    Row(
        "Plan alerts, notifications, reports 预警·通知·报告",
        [
            Panel(
                "Alerts firing by severity",
                [("sum by (severity) (max by (rule, severity) (duban_alerts_firing))", "{{severity}}")],
                kind="stat",
                width=6,
                options={"colorMode": "background", "graphMode": "none"},
            ),
            Panel(
                "Alerts firing by rule",
                [("max by (rule, severity) (duban_alerts_firing) > 0", "{{rule}} ({{severity}})")],
                kind="bargauge",
                width=6,
                options={"displayMode": "basic", "orientation": "horizontal"},
            ),
            Panel(
                "Notifications sent / failed 通知",
                [
                    (
                        "sum by (receiver, outcome) (increase(duban_notifications_total[1h]))",
                        "{{receiver}} {{outcome}}",
                    )
                ],
                width=12,
            ),
            Panel(
                "Reports generated by kind 报告",
                [("sum by (kind) (increase(duban_reports_generated_total[$__range]))", "{{kind}}")],
                kind="stat",
                width=12,
                options={"graphMode": "none"},
            ),
            Panel(
                "Report generation time p50 / p99",
                [
                    (
                        "histogram_quantile(0.5, sum by (kind, le) (rate(duban_report_duration_seconds_bucket"
                        "[$__rate_interval])))",
                        "{{kind}} p50",
                    ),
                    (
                        "histogram_quantile(0.99, sum by (kind, le) (rate(duban_report_duration_seconds_bucket"
                        "[$__rate_interval])))",
                        "{{kind}} p99",
                    ),
                ],
                unit="s",
                width=12,
            ),
        ],
    ),
    Row(
        "Processes 进程",
        [
            Panel(
                "Scrape targets up",
                [('up{job=~"duban|duban-runtime"}', "{{service}} {{instance}}")],
                kind="state-timeline",
                width=12,
            ),
            Panel(
                "Service restarts per hour 重启",
                [
                    ("sum by (service) (increase(duban_service_restarts_total[1h]))", "{{service}} restarts"),
                    ("min by (service) (duban_service_up)", "{{service}} process up"),
                ],
                width=12,
                description="duban_service_* come from `duban up`'s supervisor; in Kubernetes use the pods' "
                "restart counts.",
            ),
        ],
    ),
]


def _panel_json(panel: Panel, panel_id: int, x: int, y: int) -> dict[str, Any]:
    return {
        "id": panel_id,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": DATASOURCE,
        "gridPos": {"h": panel.height, "w": panel.width, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": panel.unit}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}, **panel.options},
        "targets": [
            {"refId": chr(ord("A") + index), "datasource": DATASOURCE, "expr": expr, "legendFormat": legend}
            for index, (expr, legend) in enumerate(panel.targets)
        ],
    }


def panels() -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = []
    y = 0
    for row in ROWS:
        result.append(
            {
                "id": len(result) + 1,
                "type": "row",
                "title": row.title,
                "collapsed": False,
                "gridPos": {"h": 1, "w": WIDTH, "x": 0, "y": y},
                "panels": [],
            }
        )
        y += 1
        x = 0
        for panel in row.panels:
            if x + panel.width > WIDTH:
                x, y = 0, y + panel.height
            result.append(_panel_json(panel, len(result) + 1, x, y))
            x += panel.width
        y += max(panel.height for panel in row.panels)
    return result


def dashboard() -> dict[str, Any]:
    return {
        "uid": "duban-overview",
        "title": "duban 督办 — overview",
        "description": "Throughput, backlog, latency, errors, plan alerts, notifications and reports of duban.",
        "tags": ["duban"],
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "graphTooltip": 1,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {
            "list": [
                {
                    "name": "datasource",
                    "label": "Data source",
                    "type": "datasource",
                    "query": "prometheus",
                    "current": {"text": "Prometheus", "value": "duban-prometheus"},
                },
                {
                    "name": "service",
                    "label": "Service",
                    "type": "query",
                    "datasource": DATASOURCE,
                    "query": {"query": 'label_values(up{job="duban"}, service)', "refId": "services"},
                    "definition": 'label_values(up{job="duban"}, service)',
                    "refresh": 2,
                    "multi": True,
                    "includeAll": True,
                    "allValue": ".*",
                    "current": {"text": "All", "value": "$__all"},
                },
            ]
        },
        "annotations": {"list": []},
        "panels": panels(),
    }


def render() -> str:
    return json.dumps(dashboard(), ensure_ascii=False, indent=2) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stdout", action="store_true", help="print instead of writing the file")
    args = parser.parse_args(argv)
    if args.stdout:
        sys.stdout.write(render())
        return 0
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(render(), encoding="utf-8")
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
