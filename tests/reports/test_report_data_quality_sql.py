"""数据质量 from the database: reports counted per unit in SQL, only the flagged reports looked up."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import insert

from duban_contracts.plan import load_plan
from duban_contracts.reporting_units import load_reporting_units
from duban_kit.db import Database
from duban_reports.adapters import tables as t
from duban_reports.adapters.fact_store import SqlFactStore
from duban_reports.app import MIGRATIONS
from duban_reports.domain.periods import month
from duban_reports.usecases.builder import ReportBuilder, figures_instant
from duban_reports.usecases.facts import keep_submissions

JUNE = datetime.fromisoformat("2023-06-10T10:00:00+08:00")


def submission(
    n: int, unit_id: str, at: datetime, *, kind: str = "progress", status: str = "accepted"
) -> dict[str, object]:
    return {
        "submission_id": f"s-{unit_id}-{n}",
        "event_id": f"e-{unit_id}-{n}",
        "unit_id": unit_id,
        "unit_name": {"bz-ez": "巴中市第二中学", "bz-sz": "巴中市第三中学"}[unit_id],
        "township": None,
        "kind": kind,
        "status": status,
        "code": None,
        "occurred_at": at,
        "received_at": at,
    }


def finding(alert_id: str, unit_id: str, fact_id: str, check: str, severity: str, at: datetime) -> dict[str, object]:
    labels = {"rule": "data_quality", "check": check, "unit_id": unit_id, "fact_id": fact_id}
    return {
        "alert_id": alert_id,
        "rule": "data_quality",
        "severity": severity,
        "state": "firing",
        "title": "数据质量",
        "summary": "",
        "labels": json.dumps(labels),
        "unit_id": unit_id,
        "count": 1,
        "escalation_level": 0,
        "opened_at": at,
        "acknowledged_at": None,
        "resolved_at": None,
        "last_event_at": at,
    }


async def test_the_section_counts_the_periods_reports_and_the_findings_on_them_only(
    database_url: str, namespace: str
) -> None:
    db = Database(database_url.replace("{service}", "reports"), schema=namespace, service="reports")
    await db.migrate(MIGRATIONS)
    try:
        rows = [submission(n, "bz-ez", JUNE + timedelta(hours=n)) for n in range(10)]
        rows += [submission(n, "bz-sz", JUNE + timedelta(hours=n)) for n in range(4)]
        rows += [
            submission(90, "bz-ez", JUNE - timedelta(days=30)),  # May: another period
            submission(91, "bz-ez", JUNE, status="rejected"),  # not a report that counts
            submission(92, "bz-ez", JUNE, kind="activity"),  # not a figure
            submission(93, "bz-sz", JUNE + timedelta(days=5), kind="measurement"),
        ]
        findings = [
            finding("a1", "bz-ez", "e-bz-ez-1", "cumulative_decrease", "warning", JUNE),
            finding("a2", "bz-ez", "e-bz-ez-1", "increment_outlier", "info", JUNE),  # the same report: once, at 1
            finding("a3", "bz-ez", "e-bz-ez-2", "increment_outlier", "info", JUNE),
            finding("a4", "bz-ez", "e-bz-ez-90", "implausible_value", "warning", JUNE),  # on May's report
            finding("a5", "bz-sz", "e-bz-sz-93", "implausible_value", "warning", JUNE),
            finding("a6", "bz-sz", "e-bz-sz-2", "cumulative_decrease", "warning", JUNE + timedelta(days=60)),  # later
        ]
        async with db.begin() as conn:
            await keep_submissions(SqlFactStore(conn), rows)  # as the service keeps them, day counts too
            await conn.execute(insert(t.alert_facts), findings)
        builder = ReportBuilder(db, load_plan(), load_reporting_units().units)
        june = month(2023, 6)

        section = (await builder.build(june, figures_instant(june, None))).data_quality

        assert section is not None
        assert (section.reports, section.flagged, section.units_scored) == (15, 3, 2)
        by_unit = {u.unit_id: (u.reports, u.flagged, round(u.score or 0, 4)) for u in section.units}
        assert by_unit == {"bz-ez": (10, 2, 0.85), "bz-sz": (5, 1, 0.8)}
        earlier = await builder.build(june, JUNE + timedelta(hours=3))  # as of three reports in
        assert earlier.data_quality is not None
        assert (earlier.data_quality.reports, earlier.data_quality.flagged) == (8, 2)
    finally:
        await db.drop_schema()
        await db.dispose()
