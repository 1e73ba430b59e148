"""End to end: the first quarter of the simulated year replayed into the four services, twice.

The same seed must give the same monthly reports, byte for byte, and the March report must count
the targets by status exactly as the tasks service does as of 31 March.
"""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from nats.aio.client import Client

from duban.isolated import isolated_stack
from duban.replay import ReplayOutcome, replay
from duban.runtime import Stack
from duban.simulate import simulate_year
from duban_contracts.plan.wording import CountedAs
from duban_contracts.reporting_units import load_reporting_units
from duban_contracts.rpc import StatusQuery
from tests.simulate.pipeline import SEED, bundled_plan

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(1200)]

UNTIL = date(2023, 3, 31)
MONTHS = ("2023-01", "2023-02", "2023-03")
FORMATS = ("html", "md", "xlsx")
#: PDFs take seconds each and are not compared; the other formats are what leaders read on screen.
WITHOUT_PDF = {"DUBAN_REPORTS_FORMATS": "html,xlsx,md"}
#: How a count reads in a report: 严重滞后 for a quantity, 约束性指标未达标 for a broken rule (tasks counts it so too).
LABELS = {counted.heading_zh: counted.value for counted in CountedAs}


async def replay_quarter(nats_url: str, namespace: str, home: Path) -> tuple[ReplayOutcome, dict[str, int]]:
    year = simulate_year(SEED, plan=bundled_plan(), units=load_reporting_units().units, until=UNTIL)
    async with (
        isolated_stack(nats_url=nats_url, namespace=namespace, home=home, extra_env=WITHOUT_PDF) as stack,
        stack.client() as nc,
    ):
        outcome = await replay(nc, stack.settings.subjects, stack.settings.topology, year, last_day=UNTIL)
        counts = await status_counts(nc, stack, UNTIL)
    return outcome, counts


async def status_counts(nc: Client, stack: Stack, as_of: date) -> dict[str, int]:
    request = StatusQuery(as_of=as_of).model_dump_json().encode()
    reply = await nc.request(stack.settings.subjects.rpc("tasks", "query"), request, timeout=30)
    return dict(json.loads(reply.data)["view"]["counts"])


def report(home: Path, month: str, fmt: str) -> bytes:
    return (home / "out" / "reports" / f"{month}_monthly.{fmt}").read_bytes()


def counts_in_markdown(text: str) -> dict[str, int]:
    """已完成9项、…、未开始4项；约束性指标1项：达标0项、未达标1项 — the headline sentence, read back."""
    statuses, _, rules = re.search(r"指标\d+项，(.*?)。", text).group(1).partition("；约束性指标")  # type: ignore[union-attr]
    found = re.findall(r"([^、，：]+?)(\d+)项", statuses)
    found += [(f"约束性指标{label}", n) for label, n in re.findall(r"([^、，：]+?)(\d+)项", rules.partition("：")[2])]
    return {LABELS[label]: int(n) for label, n in found if int(n)}


def counts_in_workbook(data: bytes) -> dict[str, int]:
    sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).worksheets[0]  # 总览
    counts: Counter[str] = Counter()
    for label, value, *_ in sheet.iter_rows(values_only=True):
        name = str(label or "").strip().removesuffix("（项）")
        if name in LABELS and value:
            counts[LABELS[name]] = int(value)
    return dict(counts)


async def test_the_same_seed_replays_to_the_same_reports_and_they_agree_with_the_tasks_service(
    nats_url: str, namespace: str, tmp_path: Path
) -> None:
    first_home, second_home = tmp_path / "first", tmp_path / "second"

    first, march_status = await replay_quarter(nats_url, namespace, first_home)
    second, _ = await replay_quarter(nats_url, f"{namespace}b", second_home)

    assert first.sent == second.sent > 100
    assert [(r["report_id"], r["status"]) for r in first.reports] == [
        (r["report_id"], r["status"]) for r in second.reports
    ]
    assert {r["status"] for r in first.reports} == {"done"}
    for month in MONTHS:
        for fmt in FORMATS:
            assert report(first_home, month, fmt) == report(second_home, month, fmt), f"{month}.{fmt}"
    march_md = report(first_home, "2023-03", "md").decode()
    assert counts_in_markdown(march_md) == march_status
    assert counts_in_workbook(report(first_home, "2023-03", "xlsx")) == march_status
