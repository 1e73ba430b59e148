"""The metric names duban exposes, for checking that dashboards and rules query only real series.

Derived from the code where the code exists (the kit's ServiceMetrics, the runtime supervisor's
metrics); the services' own metrics are listed here as the services declare them.
"""

from __future__ import annotations

import re

from duban.supervisor import SupervisorMetrics
from duban_kit.metrics import ServiceMetrics

#: Metrics one service adds to the kit's (name, type).
SERVICE_SPECIFIC = {
    "duban_submissions_rejected": "counter",  # ingest, {code}
    "duban_alerts_firing": "gauge",  # alerts, {severity, rule}
    "duban_notifications": "counter",  # alerts, {receiver, outcome}
    "duban_reports_generated": "counter",  # reports, {kind}
    "duban_report_duration_seconds": "histogram",  # reports, {kind}
}

#: Prometheus's own series that duban's rules and dashboards use.
PROMETHEUS_SERIES = {"up"}

SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "info": ("_info",),
}


def series_names(name: str, kind: str) -> set[str]:
    return {name + suffix for suffix in SUFFIXES.get(kind, ("",))}


def exposed_series() -> set[str]:
    names: set[str] = set(PROMETHEUS_SERIES)
    for registry in (ServiceMetrics("ops-check").registry, SupervisorMetrics().registry):
        for family in registry.collect():
            names |= series_names(family.name, family.type)
    for name, kind in SERVICE_SPECIFIC.items():
        names |= series_names(name, kind)
    return names


_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"|`[^`]*`')
_BRACED = re.compile(r"\{[^{}]*\}")
_BRACKETED = re.compile(r"\[[^\[\]]*\]")
#: duban's metric names, and recorded series (level:metric:operations)
_NAME = re.compile(r"(?<![\w:$])(duban_\w+|[a-zA-Z_]\w*:[\w:]*\w)")


def metric_names_in(expr: str) -> set[str]:
    """Metric names a PromQL expression selects (label matchers, strings and ranges removed)."""
    stripped = _BRACKETED.sub(" ", _BRACED.sub(" ", _QUOTED.sub(" ", expr)))
    return set(_NAME.findall(stripped))
