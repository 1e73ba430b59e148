"""Every service's `/metrics`, and the runtime's, pass `promtool check metrics` and carry the metrics
operators need — scraped from a running stack with traffic through it, so labelled series have samples."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from nats.aio.client import Client
from prometheus_client.metrics_core import Metric

from .live_stack import families, has_samples, loaded_stack, scrape_when
from .tools import require_tool

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

#: Metric family (a counter without `_total`) → the labels its samples must carry.
EVERY_SERVICE: dict[str, set[str]] = {
    "duban_messages_consumed": {"subject", "outcome"},
    "duban_messages_published": {"subject", "outcome"},
    "duban_handler_duration_seconds": {"subject"},
    "duban_consumer_pending_messages": {"consumer"},
    "duban_consumer_ack_pending_messages": {"consumer"},
    "duban_db_query_duration_seconds": {"operation"},
    "duban_event_time_lag_seconds": set(),
}
REQUIRED: dict[str, dict[str, set[str]]] = {
    "ingest": {**EVERY_SERVICE, "duban_submissions_rejected": {"code"}},
    "tasks": EVERY_SERVICE,
    "alerts": {
        **EVERY_SERVICE,
        "duban_alerts_firing": {"severity", "rule"},
        "duban_notifications": {"receiver", "outcome"},
    },
    "reports": {
        **EVERY_SERVICE,
        "duban_reports_generated": {"kind"},
        "duban_report_duration_seconds": {"kind"},
    },
    # The console consumes nothing: it answers pages (the histogram has no series before the first).
    "console": {"duban_console_live_listeners": set()},
    "runtime": {"duban_service_up": {"service"}, "duban_service_exits": set(), "duban_service_restarts": set()},
}
#: Counters with labels have no series until their first increment; the runtime's only count trouble.
MAY_BE_EMPTY = {"duban_service_exits", "duban_service_restarts"}


def missing_metrics(found: dict[str, Metric], required: dict[str, set[str]]) -> dict[str, str]:
    """What is absent or lacks labels, by metric name; empty when everything is there."""
    problems: dict[str, str] = {}
    for name, labels in required.items():
        family = found.get(name)
        if family is None:
            problems[name] = "not exposed"
        elif not has_samples(family) and name not in MAY_BE_EMPTY:
            problems[name] = "no samples"
        elif labels - set().union(*(s.labels for s in family.samples)):
            problems[name] = f"samples lack labels {sorted(labels - set().union(*(s.labels for s in family.samples)))}"
    return problems


def complete(required: dict[str, set[str]]) -> Callable[[dict[str, Metric]], bool]:
    def ready(found: dict[str, Metric]) -> bool:
        return not missing_metrics(found, required)

    return ready


def promtool_problems(promtool: str, exposition: str) -> str:
    """What `promtool check metrics` says about an exposition (it reads stdin); empty when clean."""
    result = subprocess.run(
        [promtool, "check", "metrics"], input=exposition, capture_output=True, text=True, timeout=30, check=False
    )
    said = (result.stdout + result.stderr).strip()
    return said or ("" if result.returncode == 0 else f"exit code {result.returncode}")


async def test_every_service_exposes_the_required_metrics_and_promtool_finds_no_problem(
    nc: Client, nats_url: str, namespace: str, tmp_path: Path
) -> None:
    promtool = require_tool("promtool")
    async with loaded_stack(nc, nats_url, namespace, tmp_path) as stack:
        expositions = {name: await scrape_when(url, complete(REQUIRED[name])) for name, url in stack.urls().items()}

    assert set(expositions) == set(REQUIRED)
    absent = {name: missing_metrics(families(text), REQUIRED[name]) for name, text in expositions.items()}
    assert {name: problems for name, problems in absent.items() if problems} == {}
    linted = {name: promtool_problems(promtool, text) for name, text in expositions.items()}
    assert {name: said for name, said in linted.items() if said} == {}


@pytest.mark.parametrize(
    ("name", "kind", "complaint"),
    [("duban_things", "counter", '"_total" suffix'), ("duban_wait_milliseconds", "gauge", 'base unit "seconds"')],
    ids=["counter-without-total", "milliseconds"],
)
def test_promtool_catches_the_naming_mistakes_the_check_is_for(name: str, kind: str, complaint: str) -> None:
    exposition = f"# HELP {name} Something.\n# TYPE {name} {kind}\n{name} 1\n"
    assert complaint in promtool_problems(require_tool("promtool"), exposition)
