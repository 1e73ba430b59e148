"""数据质量 and the alert figures from the database: counted in SQL, as of the report's instant."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import insert

from duban_contracts.events import AlertRaised, AlertState, AlertUpdated, Severity
from duban_contracts.plan import load_plan
from duban_contracts.reporting_units import load_reporting_units
from duban_kit.db import Database
from duban_reports.adapters import tables as t
from duban_reports.adapters.fact_store import SqlFactStore
from duban_reports.app import MIGRATIONS
from duban_reports.domain.periods import month
from duban_reports.usecases.builder import ReportBuilder, figures_instant
from duban_reports.usecases.facts import keep_alerts, keep_submissions

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


async def test_alerts_are_counted_by_their_severity_as_of_the_reports_instant(
    database_url: str, namespace: str
) -> None:
    """A deadline's stage advancing at the report's own morning tick does not change last month's figures,
    whether the reports service keeps that update before or after it reads them."""
    db = Database(database_url.replace("{service}", "reports"), schema=namespace, service="reports")
    await db.migrate(MIGRATIONS)
    try:
        raised = deadline_alert("e-1", JUNE, Severity.INFO, AlertRaised)  # T-14 提醒, in June
        advanced = deadline_alert("e-2", datetime.fromisoformat("2023-07-01T08:00:00+08:00"), Severity.WARNING)
        async with db.begin() as conn:
            await keep_alerts(SqlFactStore(conn), [raised, advanced])  # kept before the June report is read
        builder = ReportBuilder(db, load_plan(), load_reporting_units().units)
        june = month(2023, 6)
        figures = (await builder.build(june, figures_instant(june, None))).headline.alerts
        assert figures.opened_by_severity == {Severity.INFO: 1}
        july = month(2023, 7)
        later = (await builder.build(july, figures_instant(july, None))).headline.alerts
        assert later.opened == 0  # opened in June: not July's
    finally:
        await db.drop_schema()
        await db.dispose()


def deadline_alert(
    event_id: str, at: datetime, severity: Severity, kind: type[AlertRaised] | type[AlertUpdated] = AlertUpdated
) -> AlertRaised | AlertUpdated:
    return kind.model_validate(
        {
            "event_id": event_id,
            "occurred_at": at,
            "recorded_at": at,
            "source": "alerts",
            "alert_id": "a-deadline",
            "fingerprint": "fp-deadline",
            "rule": "deadline",
            "severity": severity,
            "state": AlertState.FIRING,
            "labels": {"rule": "deadline"},
            "title_zh": "安全教育日提醒",
            "summary_zh": "",
            "first_seen": JUNE,
            "last_seen": at,
        }
    )
